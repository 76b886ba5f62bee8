package brain

import (
	"context"
	"fmt"
	"strings"
)

// memoryCommands show and delete what EVO-TR keeps of the user: private.
func memoryCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "memory", Description: "Uzun süreli hafızamda senin hakkında neler var", Private: true},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.listMemories(ctx, m) }},
		{Command{Name: "forget", Description: "Uzun süreli hafızamdaki bilgilerini sil: /forget evet", Args: "onay", Private: true},
			(*Brain).forgetMe},
	}
}

// memoryListLimit is how many memories /memory shows.
const memoryListLimit = 10

// listMemories shows the user what long-term memory keeps of them.
func (b *Brain) listMemories(ctx context.Context, m Message) Reply {
	if b.lister == nil {
		return Reply{Kind: ReplyCommand, Text: msgMemoryOff}
	}
	ms, err := b.lister.List(ctx, m.Platform, m.UserID, memoryListLimit+1)
	if err != nil {
		b.log.Error("list memories", "platform", m.Platform, "user", m.UserID, "err", err)
		return Reply{Kind: ReplyError, Text: msgMemoryDown}
	}
	if len(ms) == 0 {
		return Reply{Kind: ReplyCommand, Text: msgMemoryNone}
	}
	var s strings.Builder
	s.WriteString(msgMemoryHead)
	for i, mem := range ms {
		if i == memoryListLimit {
			s.WriteString("\n")
			s.WriteString(msgMemoryMore)
			break
		}
		fmt.Fprintf(&s, "\n• %s — %s", mem.Time.In(b.clock.Now().Location()).Format("02.01.2006"), oneLine(mem.Text, 300))
		if len(mem.Tags) > 0 {
			fmt.Fprintf(&s, " _(%s)_", oneLine(strings.Join(mem.Tags, ", "), 80))
		}
	}
	s.WriteString("\n\n")
	s.WriteString(msgMemoryFoot)
	return Reply{Kind: ReplyCommand, Text: s.String()}
}

// forgetMe deletes the user's own long-term memories after "/forget evet".
func (b *Brain) forgetMe(ctx context.Context, m Message, args string) Reply {
	if b.forget == nil {
		return Reply{Kind: ReplyCommand, Text: msgMemoryOff}
	}
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(args), "İ", "i")) {
	case "evet", "yes", "onay", "onaylıyorum":
	default:
		return Reply{Kind: ReplyCommand, Text: msgForgetAsk}
	}
	if err := b.forget.ForgetUser(ctx, m.Platform, m.UserID); err != nil {
		b.log.Error("forget own memories", "platform", m.Platform, "user", m.UserID, "err", err)
		return Reply{Kind: ReplyError, Text: msgMemoryDown}
	}
	b.log.Info("user forgot their long-term memories", "platform", m.Platform, "user", m.UserID)
	return Reply{Kind: ReplyCommand, Text: msgForgetDone}
}
