package brain

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// exportCommands give users what EVO-TR keeps of them: private.
func exportCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "export", Description: "Senin hakkında tuttuğum her şeyi bir JSON dosyası olarak gönder", Private: true},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.export(ctx, m) }},
	}
}

// exportMemoryLimit is "all of them" for a user's long-term memories.
const exportMemoryLimit = 1 << 20

// Texts of /export.
const (
	msgExportOff    = "Dışa aktarma bu kurulumda kapalı."
	msgExportDone   = "Senin hakkında tuttuğum her şey ekteki dosyada: %d mesaj, %d uzun süreli anı, %d eğitim satırı."
	msgExportMemErr = "Uzun süreli hafızama şu anda ulaşamadığım için dışa aktarmayı tamamlayamadım; birazdan tekrar dener misin?"
	msgExportTrnErr = "Eğitim verilerini okuyamadığım için dışa aktarmayı tamamlayamadım; birazdan tekrar dener misin?"
)

// Export is the JSON file /export sends.
type Export struct {
	Platform   Platform          `json:"platform"`
	UserID     string            `json:"user_id"`
	ExportedAt time.Time         `json:"exported_at"`
	Messages   []ExportMessage   `json:"messages"`
	Memories   []ExportMemory    `json:"memories"`
	Training   []json.RawMessage `json:"training"`
}

// ExportMessage is one stored message in an export.
type ExportMessage struct {
	Time     time.Time `json:"time"`
	ChatID   string    `json:"chat_id"`
	ChatKind ChatKind  `json:"chat_kind,omitempty"`
	Role     Role      `json:"role"`
	Text     string    `json:"text"`
	Expert   string    `json:"expert,omitempty"`
	Failed   bool      `json:"failed,omitempty"`
}

// ExportMemory is one long-term memory in an export.
type ExportMemory struct {
	Time time.Time `json:"time"`
	Text string    `json:"text"`
	Tags []string  `json:"tags,omitempty"`
}

// export answers /export with a JSON file of everything kept of the user.
func (b *Brain) export(ctx context.Context, m Message) Reply {
	if b.reports.exporter == nil {
		return Reply{Kind: ReplyCommand, Text: msgExportOff}
	}
	now := b.clock.Now()
	x := Export{Platform: m.Platform, UserID: m.UserID, ExportedAt: now,
		Messages: []ExportMessage{}, Memories: []ExportMemory{}, Training: []json.RawMessage{}}
	recs, err := b.reports.exporter.UserMessages(ctx, m.Platform, m.UserID)
	if err != nil {
		b.log.Error("export: read messages", "platform", m.Platform, "user", m.UserID, "err", err)
		return Reply{Kind: ReplyError, Text: msgStoreDown}
	}
	for _, r := range recs {
		if r.Key.Platform != m.Platform || r.Key.UserID != m.UserID {
			continue // never another user's, whatever the store returns
		}
		em := ExportMessage{Time: r.Time, ChatID: r.Key.ChatID, ChatKind: r.ChatKind, Role: r.Role, Text: r.Text, Failed: r.Failed}
		if r.Decision != nil {
			em.Expert = r.Decision.Expert
		}
		x.Messages = append(x.Messages, em)
	}
	if b.lister != nil {
		ms, err := b.lister.List(ctx, m.Platform, m.UserID, exportMemoryLimit)
		if err != nil {
			b.log.Error("export: list memories", "platform", m.Platform, "user", m.UserID, "err", err)
			return Reply{Kind: ReplyError, Text: msgExportMemErr}
		}
		for _, mem := range ms {
			x.Memories = append(x.Memories, ExportMemory{Time: mem.Time, Text: mem.Text, Tags: mem.Tags})
		}
	}
	if b.reports.training != nil {
		lines, err := b.reports.training.UserLines(ctx, m.Platform, m.UserID)
		if err != nil {
			b.log.Error("export: read training lines", "platform", m.Platform, "user", m.UserID, "err", err)
			return Reply{Kind: ReplyError, Text: msgExportTrnErr}
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				raw, _ := json.Marshal(l) // kept as a string, never dropped
				l = string(raw)
			}
			x.Training = append(x.Training, json.RawMessage(l))
		}
	}
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		b.log.Error("export: encode", "err", err)
		return Reply{Kind: ReplyError, Text: msgStoreDown}
	}
	b.log.Info("user exported their data", "platform", m.Platform, "user", m.UserID,
		"messages", len(x.Messages), "memories", len(x.Memories), "training", len(x.Training))
	return Reply{
		Kind: ReplyCommand,
		Text: fmt.Sprintf(msgExportDone, len(x.Messages), len(x.Memories), len(x.Training)),
		File: &File{Name: "evo-export-" + now.In(b.nightZone()).Format(time.DateOnly) + ".json", MIME: "application/json", Data: data},
	}
}
