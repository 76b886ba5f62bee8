package sleep

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

func TestParseMemories(t *testing.T) {
	long := strings.Repeat("çok uzun bir anı ", 100)
	tests := []struct {
		name   string
		answer string
		want   []brain.Memory
	}{
		{"the asked format", `{"memories":[{"text":"Kullanıcı Go öğreniyor.","tags":["Go","öğrenme"]}]}`,
			[]brain.Memory{{Text: "Kullanıcı Go öğreniyor.", Tags: []string{"go", "öğrenme"}}}},
		{"prose around a fenced object", "Tabii!\n```json\n{\"memories\":[{\"text\":\"Kullanıcı çay sever.\"}]}\n```\nİyi geceler.",
			[]brain.Memory{{Text: "Kullanıcı çay sever."}}},
		{"memories as plain strings", `{"memories":["Kullanıcı İzmirli.", "Kullanıcı öğretmen."]}`,
			[]brain.Memory{{Text: "Kullanıcı İzmirli."}, {Text: "Kullanıcı öğretmen."}}},
		{"an empty list means nothing to remember", `{"memories":[]}`, nil},
		{"a bare array", `[{"text":"Kullanıcı koşuya başladı.","tags":["spor"]}]`,
			[]brain.Memory{{Text: "Kullanıcı koşuya başladı.", Tags: []string{"spor"}}}},
		{"bullet lines", "İşte kullanıcı hakkında öğrendiklerim:\n- Kullanıcı Ankara'da yaşıyor.\n2) Kullanıcı kedi seviyor.\n• Kullanıcı çay içer.\n10. Kullanıcı öğretmen.\nİyi geceler, yarın görüşürüz!",
			[]brain.Memory{{Text: "Kullanıcı Ankara'da yaşıyor."}, {Text: "Kullanıcı kedi seviyor."}, {Text: "Kullanıcı çay içer."}, {Text: "Kullanıcı öğretmen."}}},
		{"prose and noise are not memories", "eartitinixzntixerarxulseninirayohtasegyog nnitixnita\nKullanıcı hakkında bir şey bulamadım.", nil},
		{"a bare number is not a bullet", "2026. yıl güzel geçti\n3)yapışık", nil},
		{"whitespace collapsed, tags cleaned and capped", `{"memories":[{"text":"  Kullanıcı\n\n  yüzüyor. ","tags":["Su Sporları","su sporları","İ!","a","b","c","d","e"]}]}`,
			[]brain.Memory{{Text: "Kullanıcı yüzüyor.", Tags: []string{"su_sporları", "i", "a", "b", "c"}}}},
		{"empty texts dropped", `{"memories":[{"text":""},{"text":"  "},{"text":"ok"},{"tags":["x"]}]}`, nil},
		{"garbage", "{{{ ]]", nil},
		{"invalid UTF-8 removed", "{\"memories\":[{\"text\":\"Kullanıcı \xff\xfeçalışıyor.\"}]}",
			[]brain.Memory{{Text: "Kullanıcı çalışıyor."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseMemories(tt.answer); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseMemories:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
	t.Run("a huge memory is cut", func(t *testing.T) {
		got := parseMemories(`{"memories":[{"text":"` + long + `"}]}`)
		if len(got) != 1 || utf8.RuneCountInString(got[0].Text) != maxMemoryRunes || !strings.HasSuffix(got[0].Text, "…") {
			t.Errorf("got %d memories, first of %d runes", len(got), utf8.RuneCountInString(got[0].Text))
		}
	})
}

func TestTranscript(t *testing.T) {
	ist := time.FixedZone("TRT", 3*3600)
	k := brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "c", UserID: "u"}
	recs := []brain.Record{
		{Key: k, Role: brain.RoleUser, Text: "Merhaba", Time: time.Date(2026, 1, 2, 9, 5, 0, 0, ist)},
		{Key: k, Role: brain.RoleAssistant, Text: "Hata!", Failed: true, Time: time.Date(2026, 1, 2, 9, 5, 1, 0, ist)},
		{Key: k, Role: brain.RoleAssistant, Text: "Selam!", Time: time.Date(2026, 1, 2, 9, 6, 0, 0, ist)},
		{Key: k, Role: brain.RoleUser, Text: "   ", Time: time.Date(2026, 1, 2, 9, 7, 0, 0, ist)},
	}
	got := transcript(recs, 1000, ist)
	want := []string{"[09:05] Kullanıcı: Merhaba\n[09:06] Asistan: Selam!"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("transcript = %q, want %q", got, want)
	}
	if got := transcript(nil, 1000, ist); got != nil {
		t.Errorf("transcript of nothing = %q, want nil", got)
	}
}

// TestTranscriptClockIsTheNights: the store hands records back in its own
// zone (the database server's, the host's); the transcript tells the time
// in the night's zone all the same.
func TestTranscriptClockIsTheNights(t *testing.T) {
	k := brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "c", UserID: "u"}
	at := time.Date(2026, 12, 1, 21, 40, 0, 0, time.UTC) // 00:40 on Dec 2 in Istanbul
	tests := []struct {
		zone   string // the night's
		stored *time.Location
		want   string
	}{
		{"Europe/Istanbul", time.UTC, "[00:40]"},
		{"Europe/Istanbul", time.FixedZone("server", -11*3600), "[00:40]"},
		{"Europe/Istanbul", time.FixedZone("host", 14*3600), "[00:40]"},
		{"UTC", time.FixedZone("TRT", 3*3600), "[21:40]"},
		{"America/Los_Angeles", time.UTC, "[13:40]"},
		{"Pacific/Kiritimati", time.UTC, "[11:40]"},
		{"Pacific/Pago_Pago", time.UTC, "[10:40]"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.stored.String(), func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			recs := []brain.Record{{Key: k, Role: brain.RoleUser, Text: "Merhaba", Time: at.In(tt.stored)}}
			got := transcript(recs, 1000, loc)
			if want := []string{tt.want + " Kullanıcı: Merhaba"}; !reflect.DeepEqual(got, want) {
				t.Errorf("transcript = %q, want %q", got, want)
			}
		})
	}
}

func TestRejectedAnswer(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	k := brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "c", UserID: "u"}
	answer := brain.Record{Key: k, Role: brain.RoleAssistant, Text: "cevap", Time: t0}
	tests := []struct {
		name string
		next string
		gap  time.Duration
		want bool
	}{
		{"no next message", "", 0, false},
		{"thanks", "Teşekkürler, oldu!", time.Minute, false},
		{"wrong", "Yanlış, liste değil sözlük istemiştim", time.Minute, true},
		{"upper-case Turkish", "OLMADI, hâlâ aynı", time.Minute, true},
		{"still an error", "Kodu denedim ama çalışmıyor", 2 * time.Minute, true},
		{"English", "that's wrong", time.Minute, true},
		{"much later", "yanlış", time.Hour, false},
		{"a new topic", "Peki sözlükler nasıl sıralanır?", time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := []brain.Record{{Key: k, Role: brain.RoleUser, Text: "soru", Time: t0.Add(-time.Second)}, answer}
			if tt.next != "" {
				conv = append(conv, brain.Record{Key: k, Role: brain.RoleUser, Text: tt.next, Time: t0.Add(tt.gap)})
			}
			if got := rejectedAnswer(conv, 1); got != tt.want {
				t.Errorf("rejectedAnswer after %q = %v, want %v", tt.next, got, tt.want)
			}
		})
	}
}
