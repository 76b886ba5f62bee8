package brain

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// AccessMode says who may use EVO-TR besides the admins and ALLOWED_USERS
// (ACCESS_MODE).
type AccessMode string

// Access modes.
const (
	// AccessPairing: a stranger gets a one-time code; an admin's /allow
	// CODE lets them in.
	AccessPairing AccessMode = "pairing"
	// AccessAllowlist: a stranger gets a polite refusal.
	AccessAllowlist AccessMode = "allowlist"
	// AccessOpen: everyone is in.
	AccessOpen AccessMode = "open"
)

// ParseUserRef reads a UserRef written "platform:id" (telegram, discord
// or cli), as ALLOWED_USERS and /deny take it.
func ParseUserRef(s string) (UserRef, error) {
	p, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	u := UserRef{Platform: Platform(strings.ToLower(strings.TrimSpace(p))), UserID: strings.TrimSpace(id)}
	if !ok || u.UserID == "" || strings.ContainsAny(u.UserID, " \t\n:,") {
		return UserRef{}, fmt.Errorf("%q is not platform:id (e.g. telegram:123456789)", s)
	}
	switch u.Platform {
	case PlatformTelegram, PlatformDiscord, PlatformCLI:
	default:
		return UserRef{}, fmt.Errorf("%q: unknown platform %q (telegram, discord or cli)", s, p)
	}
	if err := ValidateUser(u.Platform, u.UserID); err != nil {
		return UserRef{}, fmt.Errorf("%q: %w", s, err)
	}
	return u, nil
}

// ApprovedUser is a user an admin let in.
type ApprovedUser struct {
	Platform Platform
	UserID   string
	UserName string
	// ApprovedBy names the admin ("telegram:1", "cli:root").
	ApprovedBy string
	ApprovedAt time.Time
}

// Pairing is a one-time code given to a stranger.
type Pairing struct {
	Code     string
	Platform Platform
	UserID   string
	UserName string
	Expires  time.Time
}

// AccessStore keeps the approved users and the live pairing codes.
type AccessStore interface {
	// Approved reports whether the user is approved.
	Approved(ctx context.Context, p Platform, userID string) (bool, error)
	// Approve lets the user in; approving again updates the entry.
	Approve(ctx context.Context, u ApprovedUser) error
	// Revoke removes the user's approval and reports whether there was one.
	Revoke(ctx context.Context, p Platform, userID string) (bool, error)
	// List returns every approved user, oldest approval first.
	List(ctx context.Context) ([]ApprovedUser, error)
	// SavePairing stores pr as its user's one live code, replacing any
	// earlier code of that user, and drops codes expired at now. A code
	// another user holds unexpired fails with ErrPairingCodeTaken.
	SavePairing(ctx context.Context, pr Pairing, now time.Time) error
	// TakePairing removes the code and returns it, once: an unknown,
	// taken or (at now) expired code fails with ErrPairingNotFound.
	TakePairing(ctx context.Context, code string, now time.Time) (Pairing, error)
}

// Errors of AccessStore implementations.
var (
	ErrPairingNotFound  = errors.New("pairing code unknown or expired")
	ErrPairingCodeTaken = errors.New("pairing code held by another user")
)

const (
	// pairingTTL is how long a pairing code is valid.
	pairingTTL = time.Hour
	// groupNoticeEvery is the least time between two notices to one
	// stranger in groups.
	groupNoticeEvery = time.Hour
	// approvalTTL is how long a cached approval is trusted before the
	// store is asked again (so a revocation elsewhere, e.g. `evo users
	// deny`, takes effect).
	approvalTTL = time.Minute
	// accessLoadRetry is the least time between two tries at loading the
	// approved list.
	accessLoadRetry = 30 * time.Second
	// accessTimeout bounds the store calls of one check.
	accessTimeout = 5 * time.Second
	// accessMapMax is the size past which the in-memory maps drop what has
	// expired.
	accessMapMax = 1024
)

// access is the gate in front of the brain.
type access struct {
	mode    AccessMode
	store   AccessStore
	allowed map[UserRef]bool

	mu       sync.Mutex
	approved map[UserRef]time.Time // approved users: when the store last said so
	loaded   bool                  // the approved list was loaded once
	lastLoad time.Time             // the last try at loading it
	codes    map[UserRef]Pairing   // the live code each stranger was given
	noticed  map[UserRef]time.Time // the last notice to a stranger in a group
}

// WithAccess decides who may use the brain. Admins (Message.Admin) and the
// allowed users are always in; in AccessPairing and AccessAllowlist modes so
// are the users store approves (store may be nil in AccessAllowlist and
// AccessOpen). Everyone else gets a pairing code or a refusal, and nothing
// they write is stored or sent to a model. Without this option everyone is
// in.
func WithAccess(mode AccessMode, store AccessStore, allowed []UserRef) Option {
	return func(b *Brain) {
		a := &access{mode: mode, store: store, allowed: map[UserRef]bool{},
			approved: map[UserRef]time.Time{}, codes: map[UserRef]Pairing{}, noticed: map[UserRef]time.Time{}}
		for _, u := range allowed {
			a.allowed[u] = true
		}
		b.access = a
	}
}

// valid refuses a gate that cannot work; a nil gate is open.
func (a *access) valid() error {
	if a == nil {
		return nil
	}
	switch a.mode {
	case AccessOpen, AccessAllowlist:
	case AccessPairing:
		if a.store == nil {
			return errors.New("brain: access mode pairing needs an access store")
		}
	default:
		return fmt.Errorf("brain: unknown access mode %q (pairing, allowlist or open)", a.mode)
	}
	return nil
}

// admit is the access gate, run before anything of m is stored: nil lets m
// in; otherwise it returns what to send instead, and m is dropped.
func (b *Brain) admit(ctx context.Context, m Message) *Reply {
	a := b.access
	if a == nil || a.mode == AccessOpen || m.Admin || m.Resumed {
		return nil
	}
	u := UserRef{Platform: m.Platform, UserID: m.UserID}
	if a.allowed[u] {
		return nil
	}
	now := b.clock.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accessTimeout)
	defer cancel()
	ok, err := b.approved(ctx, u, now)
	if ok {
		return nil
	}
	if !a.mayNotice(m, u, now) {
		return &Reply{Kind: ReplyNone}
	}
	if err != nil {
		b.log.Error("access: cannot check a user; the message is dropped", "platform", m.Platform, "user", m.UserID, "err", err)
		return &Reply{Kind: ReplyError, Text: msgAccessUnsure}
	}
	if a.mode == AccessAllowlist {
		b.log.Info("access: refused a user not on the list", "platform", m.Platform, "user", m.UserID)
		return &Reply{Kind: ReplyCommand, Text: msgAccessRefused}
	}
	p, err := b.pairingCode(ctx, u, m.UserName, now)
	if err != nil {
		b.log.Error("access: cannot give a pairing code; the message is dropped", "platform", m.Platform, "user", m.UserID, "err", err)
		return &Reply{Kind: ReplyError, Text: msgAccessUnsure}
	}
	b.log.Info("access: an unknown user got a pairing code", "platform", m.Platform, "user", m.UserID)
	minutes := max(1, int(p.Expires.Sub(now).Minutes()))
	return &Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgPairing, p.Code, minutes, p.Code, p.Code), Private: true}
}

// mayNotice tells whether the stranger gets a notice now: always in a
// private chat, at most once per groupNoticeEvery in groups.
func (a *access) mayNotice(m Message, u UserRef, now time.Time) bool {
	if m.ChatKind == ChatPrivate || m.ChatKind == "" {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if last, ok := a.noticed[u]; ok && now.Sub(last) < groupNoticeEvery {
		return false
	}
	if len(a.noticed) >= accessMapMax {
		for k, t := range a.noticed {
			if now.Sub(t) >= groupNoticeEvery {
				delete(a.noticed, k)
			}
		}
	}
	a.noticed[u] = now
	return true
}

// approved tells whether the store approved u, from the cache while it is
// fresh. When the store fails, a user approved before is still in.
func (b *Brain) approved(ctx context.Context, u UserRef, now time.Time) (bool, error) {
	a := b.access
	if a.store == nil {
		return false, nil
	}
	a.mu.Lock()
	at, known := a.approved[u]
	load := !a.loaded && (a.lastLoad.IsZero() || now.Sub(a.lastLoad) >= accessLoadRetry)
	if load {
		a.lastLoad = now
	}
	a.mu.Unlock()
	if known && now.Sub(at) < approvalTTL {
		return true, nil
	}
	if load {
		if err := b.loadApproved(ctx, now); err == nil {
			a.mu.Lock()
			_, ok := a.approved[u]
			a.mu.Unlock()
			return ok, nil
		}
	}
	ok, err := a.store.Approved(ctx, u.Platform, u.UserID)
	if err != nil {
		if known {
			b.log.Warn("access: store unavailable; a user approved before is let in", "platform", u.Platform, "user", u.UserID, "err", err)
			return true, nil
		}
		return false, fmt.Errorf("check access: %w", err)
	}
	a.remember(u, ok, now)
	return ok, nil
}

// loadApproved fills the cache with the store's approved list.
func (b *Brain) loadApproved(ctx context.Context, now time.Time) error {
	list, err := b.access.store.List(ctx)
	if err != nil {
		b.log.Warn("access: cannot load the approved users yet", "err", err)
		return err
	}
	a := b.access
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, au := range list {
		a.approved[UserRef{Platform: au.Platform, UserID: au.UserID}] = now
	}
	a.loaded = true
	b.log.Info("access: approved users loaded", "count", len(list))
	return nil
}

// remember records what the store said of u.
func (a *access) remember(u UserRef, approved bool, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if approved {
		a.approved[u] = now
		delete(a.codes, u)
	} else {
		delete(a.approved, u)
	}
}

// pairingCode returns the stranger's live code, or gives them a new one
// when theirs has less than half its time left.
func (b *Brain) pairingCode(ctx context.Context, u UserRef, name string, now time.Time) (Pairing, error) {
	a := b.access
	a.mu.Lock()
	p, ok := a.codes[u]
	a.mu.Unlock()
	if ok && p.Expires.Sub(now) > pairingTTL/2 {
		return p, nil
	}
	for range 5 {
		code, err := newPairingCode()
		if err != nil {
			return Pairing{}, err
		}
		p = Pairing{Code: code, Platform: u.Platform, UserID: u.UserID, UserName: name, Expires: now.Add(pairingTTL)}
		err = a.store.SavePairing(ctx, p, now)
		if errors.Is(err, ErrPairingCodeTaken) {
			continue
		}
		if err != nil {
			return Pairing{}, fmt.Errorf("save pairing code: %w", err)
		}
		a.mu.Lock()
		if len(a.codes) >= accessMapMax {
			for k, c := range a.codes {
				if !c.Expires.After(now) {
					delete(a.codes, k)
				}
			}
		}
		a.codes[u] = p
		a.mu.Unlock()
		return p, nil
	}
	return Pairing{}, errors.New("save pairing code: every code tried is taken")
}

// newPairingCode draws six random digits.
func newPairingCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("pairing code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// NormalizePairingCode reads a code as a person may type it ("123 456",
// "`123456`"): six digits, or false.
func NormalizePairingCode(s string) (string, bool) {
	code := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '`', '\t':
			return -1
		}
		return r
	}, s)
	if len(code) != 6 {
		return "", false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return code, true
}

// AllowPairing lets in the user who was given code (/allow, `evo users
// allow`): it takes the code, once, and approves its user; by names the
// admin. An unknown, used or expired code fails with ErrPairingNotFound.
func AllowPairing(ctx context.Context, st AccessStore, code, by string, now time.Time) (ApprovedUser, error) {
	c, ok := NormalizePairingCode(code)
	if !ok {
		return ApprovedUser{}, ErrPairingNotFound
	}
	p, err := st.TakePairing(ctx, c, now)
	if err != nil {
		return ApprovedUser{}, fmt.Errorf("take pairing code: %w", err)
	}
	u := ApprovedUser{Platform: p.Platform, UserID: p.UserID, UserName: p.UserName, ApprovedBy: by, ApprovedAt: now}
	if err := st.Approve(ctx, u); err != nil {
		return ApprovedUser{}, fmt.Errorf("approve %s:%s (ask them for a new code): %w", p.Platform, p.UserID, err)
	}
	return u, nil
}

// What the access gate, the rate limit and /allow, /deny say (kept with
// the gate; text.go holds the rest).
const (
	msgPairing = "Merhaba! EVO-TR'yi şimdilik yalnızca yöneticinin onayladığı kişiler kullanabiliyor. " +
		"Eşleştirme kodun: `%s` (%d dakika geçerli).\n" +
		"Bu kodu yöneticiye ilet; yönetici sohbette `/allow %s` ya da terminalde `evo users allow %s` yazınca " +
		"sana cevap vermeye başlarım. Bu mesajını kaydetmedim."
	msgAccessRefused = "Üzgünüm, EVO-TR'yi yalnızca izin verilen kişiler kullanabiliyor ve sen bu listede değilsin. " +
		"Erişim istersen yöneticiye başvurabilirsin. Bu mesajını kaydetmedim."
	msgAccessUnsure = "Şu anda seni doğrulayamıyorum (izin listesine ulaşamıyorum); mesajını kaydetmedim. Birazdan tekrar dener misin?"
	msgAccessOff    = "Erişim denetimi bu kurulumda kapalı: herkes kullanabiliyor."
	msgAccessDown   = "İzin listesine şu anda ulaşamıyorum (veritabanı); birazdan tekrar dener misin?"
	msgAllowUsage   = "Kullanım: /allow KOD — kullanıcının benden aldığı 6 haneli eşleştirme kodu."
	msgAllowBad     = "Bu kod geçersiz, kullanılmış ya da süresi dolmuş: %q. Kullanıcı bana yeniden yazarsa yeni bir kod alır."
	msgAllowDone    = "Tamam: %s artık EVO-TR'yi kullanabilir; bir sonraki mesajına cevap vereceğim."
	msgDenyUsage    = "Kullanım: /deny KULLANICI-ID (bu platformdaki kullanıcı numarası) ya da /deny telegram:123456789"
	msgDenyDone     = "%s kullanıcısının iznini kaldırdım."
	msgDenyNone     = "%s onaylı kullanıcılar arasında değildi; değişen bir şey yok."
	msgDenyConfig   = "Not: bu kullanıcı ALLOWED_USERS ayarında olduğu için yine de kullanabilir; onu oradan çıkarman gerekir."
	msgRateLimited  = "Çok hızlı yazıyorsun: dakikada en fazla %d mesajına cevap verebiliyorum. Bu mesajını kaydettim ama cevaplamadım; " +
		"biraz bekleyip tekrar yazar mısın? (Bu arada sınırı aşan mesajların da kaydedilir ama cevapsız kalır.)"
)
