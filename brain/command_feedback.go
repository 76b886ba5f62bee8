package brain

import (
	"context"
	"fmt"
)

// What /iyi and /kotu say.
const (
	msgFeedbackGood = "Teşekkürler! Bu cevabı iyi olarak işaretledim; geceleri böyle cevaplardan öğreniyorum."
	msgFeedbackBad  = "Teşekkürler, not ettim. Bu cevabı kötü olarak işaretledim; geceleri ondan öğrenmeyeceğim. İstersen soruyu başka türlü sorabilirsin."
	msgFeedbackNone = "Bu sohbette değerlendirebileceğin bir cevabım yok. Bir cevabımdan hemen sonra /iyi ya da /kotu yazabilirsin."
	msgFeedbackOff  = "Geri bildirim bu kurulumda kapalı."
	msgFeedbackDown = "Geri bildirimini şu anda kaydedemedim (veritabanına ulaşamıyorum). Birkaç dakika sonra tekrar dener misin?"
)

// feedbackCommands rate the conversation's last answer.
func feedbackCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "iyi", Description: "Son cevabım iyiydi (öğrenmem için işaretle)"},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply {
				return b.rateLast(ctx, m, FeedbackGood)
			}},
		{Command{Name: "kotu", Description: "Son cevabım kötüydü (ondan öğrenmeyeyim)"},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.rateLast(ctx, m, FeedbackBad) }},
	}
}

// rateLast stores the user's feedback on the conversation's last answer.
// Commands wait in the conversation's queue like messages, so the last
// answer is the one the user has just read.
func (b *Brain) rateLast(ctx context.Context, m Message, value int) Reply {
	if b.feedback == nil {
		return Reply{Kind: ReplyCommand, Text: msgFeedbackOff}
	}
	ref, err := b.lastAnswer(ctx, m.Key())
	switch {
	case err != nil:
		b.log.Error("feedback: find the last answer", "conv", m.Key().String(), "err", err)
		return Reply{Kind: ReplyError, Text: msgFeedbackDown}
	case ref == "":
		return Reply{Kind: ReplyCommand, Text: msgFeedbackNone}
	}
	r := Rating{Platform: m.Platform, ChatID: m.ChatID, ReplyRef: ref, UserID: m.UserID, Value: value, Source: SourceCommand}
	if err := b.rate(ctx, r); err != nil {
		b.log.Error("feedback: store", "conv", m.Key().String(), "err", err)
		return Reply{Kind: ReplyError, Text: msgFeedbackDown}
	}
	if value == FeedbackGood {
		return Reply{Kind: ReplyCommand, Text: msgFeedbackGood}
	}
	return Reply{Kind: ReplyCommand, Text: msgFeedbackBad}
}

// lastAnswer is the Ref of the conversation's last answer, "" when there
// is none or it failed: from memory, else (after a restart) from the
// stored messages.
func (b *Brain) lastAnswer(ctx context.Context, k ConvKey) (string, error) {
	b.mu.Lock()
	s := b.sessions[k]
	if s != nil && s.last != nil {
		ref := s.lastRef
		b.mu.Unlock()
		return ref, nil
	}
	b.mu.Unlock()
	recs, err := b.history.Recent(ctx, k, b.cfg.ContextMessages)
	if err != nil {
		return "", fmt.Errorf("last answer: %w", err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Role != RoleAssistant {
			continue
		}
		if r.Failed || r.Ref == "" {
			return "", nil
		}
		return r.Ref, nil
	}
	return "", nil
}
