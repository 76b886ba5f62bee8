package router

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/evo-tr/evo/brain"
)

// smallExperts has enough examples for the fold models (2*folds).
func smallExperts() []brain.Expert {
	return []brain.Expert{
		expert("kod", "python'da liste sıralama", "for döngüsü hata veriyor", "SyntaxError: invalid syntax",
			"git commit geri alma", "pandas ile csv okuma", "fonksiyon nasıl yazılır", "regex ile e-posta doğrulama",
			"docker imajı küçültme"),
		expert("sohbet", "bugün hava çok güzel", "annemin doğum günü için hediye", "karnıyarık tarifi",
			"moralim bozuk", "hafta sonu nereye gidelim", "kira artışı ne kadar olur", "bir şiir yazar mısın",
			"kedim yemek yemiyor"),
	}
}

func saved(t *testing.T, r *Router, salt []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Save(&buf, salt); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return buf.Bytes()
}

// TestSnapshotRoundTrip: the shipped router, saved and loaded, decides
// every evaluation line exactly as the trained one does.
func TestSnapshotRoundTrip(t *testing.T) {
	trained := newShipped(t)
	salt := []byte("build-1")
	snap := saved(t, trained, salt)
	loaded, err := Load(bytes.NewReader(snap), salt, loadShipped(t), testBase, shippedThreshold)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	set := readSet(t, evalFile)
	ctx := context.Background()
	for _, l := range set {
		if got, want := loaded.Route(ctx, l.Text), trained.Route(ctx, l.Text); got != want {
			t.Fatalf("Route(%q): loaded %+v, trained %+v", l.Text, got, want)
		}
	}
	if got, want := loaded.Experts(), trained.Experts(); !slices.Equal(got, want) {
		t.Errorf("Experts() = %v, want %v", got, want)
	}
	// Saving the loaded router gives the same bytes: nothing was lost.
	if again := saved(t, loaded, salt); !bytes.Equal(again, snap) {
		t.Errorf("the loaded router saves %d bytes unlike the %d it was loaded from", len(again), len(snap))
	}
	t.Logf("snapshot of the shipped router: %d bytes", len(snap))
}

// TestSnapshotStale: a snapshot is refused, with ErrStale, whenever it
// was made for anything but these experts, this salt and this code.
func TestSnapshotStale(t *testing.T) {
	experts := smallExperts()
	r, err := New(experts, testBase, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("build-1")
	snap := saved(t, r, salt)

	moreExamples := smallExperts()
	moreExamples[1].Examples = append(moreExamples[1].Examples, "çay mı kahve mi")
	keywords := smallExperts()
	keywords[0].Keywords = []string{"python"}
	renamed := smallExperts()
	renamed[0].Name = "coder"
	swapped := []brain.Expert{experts[1], experts[0]}
	probe := slices.Clone(snap)
	probe[len(probe)-1] ^= 0x40 // the last probe's last probability
	magic := slices.Clone(snap)
	magic[0] = 'E'
	tests := []struct {
		name    string
		snap    []byte
		salt    string
		experts []brain.Expert
	}{
		{"other salt (new code)", snap, "build-2", experts},
		{"an example added", snap, "build-1", moreExamples},
		{"a keyword added", snap, "build-1", keywords},
		{"an expert renamed", snap, "build-1", renamed},
		{"experts reordered", snap, "build-1", swapped},
		{"probes differ (other features)", probe, "build-1", experts},
		{"other format", magic, "build-1", experts},
		{"bytes after the end", append(slices.Clone(snap), 0), "build-1", experts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(bytes.NewReader(tt.snap), []byte(tt.salt), tt.experts, testBase, 0.5)
			if !errors.Is(err, ErrStale) {
				t.Errorf("Load = %v, want ErrStale", err)
			}
		})
	}
	if _, err := Load(bytes.NewReader(snap), salt, experts, testBase, 0.5); err != nil {
		t.Errorf("Load of the unchanged snapshot: %v", err)
	}
}

// TestSnapshotDamaged: a cut or empty snapshot is an error, never a
// panic or a half-loaded router.
func TestSnapshotDamaged(t *testing.T) {
	experts := smallExperts()
	r, err := New(experts, testBase, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	snap := saved(t, r, nil)
	for _, n := range []int{0, 1, len(snapshotMagic), len(snapshotMagic) + 32, len(snapshotMagic) + 40, len(snap) / 2, len(snap) - 1} {
		if got, err := Load(bytes.NewReader(snap[:n]), nil, experts, testBase, 0.5); err == nil || got != nil {
			t.Errorf("Load of the first %d of %d bytes = %v, %v; want an error", n, len(snap), got, err)
		}
	}
	if _, err := Load(bytes.NewReader(snap), nil, experts, brain.Expert{}, 0.5); err == nil {
		t.Error("Load with no base model: want an error")
	}
}

// TestSnapshotOneExpert: with one expert nothing is trained, and the
// snapshot still round-trips.
func TestSnapshotOneExpert(t *testing.T) {
	experts := []brain.Expert{expert("tek", "merhaba")}
	r, err := New(experts, testBase, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(bytes.NewReader(saved(t, r, nil)), nil, experts, testBase, 0.5)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := loaded.Route(context.Background(), "ne olursa"); got.Expert != "tek" {
		t.Errorf("Route = %+v, want tek", got)
	}
}
