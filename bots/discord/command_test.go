package discord

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

var validName = regexp.MustCompile(`^[-_\p{L}\p{N}]{1,32}$`)

func TestSlashCommandsAreValid(t *testing.T) {
	cmds := append(brain.Commands(),
		brain.Command{Name: "Uzun Ad Ve Boşluk Ve Çok Daha Uzun Bir Ad", Description: strings.Repeat("ç", 150), Args: "Bir Arg"},
		brain.Command{Name: "  ", Description: "adı yok"},
		brain.Command{Name: "bos", Description: ""},
	)
	got := slashCommands(cmds)
	if len(got) != len(cmds)-1 {
		t.Fatalf("got %d commands, want %d (the nameless one dropped)", len(got), len(cmds)-1)
	}
	for _, c := range got {
		if !validName.MatchString(c.Name) || strings.ToLower(c.Name) != c.Name {
			t.Errorf("invalid command name %q", c.Name)
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
			t.Errorf("/%s description has %d characters, want 1..100", c.Name, n)
		}
		for _, o := range c.Options {
			if !validName.MatchString(o.Name) || strings.ToLower(o.Name) != o.Name || o.Required {
				t.Errorf("/%s has an invalid or required option %q", c.Name, o.Name)
			}
			if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
				t.Errorf("/%s option description has %d characters", c.Name, n)
			}
		}
	}
	if got, want := got[len(got)-2].Name, "uzun_ad_ve_boşluk_ve_çok_daha_uz"; got != want {
		t.Errorf("long name became %q, want %q", got, want)
	}
	for i, c := range brain.Commands() {
		p := got[i].DefaultMemberPermissions
		if hidden := p != nil && *p == 0; hidden != c.Admin {
			t.Errorf("/%s hidden from members = %v, want %v (admin %v)", c.Name, hidden, c.Admin, c.Admin)
		}
	}
}
