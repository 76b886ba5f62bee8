package brain_test

import (
	"reflect"
	"testing"

	"github.com/evo-tr/evo/brain"
)

func TestThread(t *testing.T) {
	u := func(ref, text string) brain.Record { return brain.Record{Role: brain.RoleUser, Ref: ref, Text: text} }
	a := func(replyTo, text string) brain.Record {
		return brain.Record{Role: brain.RoleAssistant, Ref: "a:" + replyTo, ReplyTo: replyTo, Text: text}
	}
	for _, tt := range []struct {
		name string
		in   []brain.Record
		want []string
	}{
		{"in order already", []brain.Record{u("m:1", "s1"), a("m:1", "c1"), u("m:2", "s2"), a("m:2", "c2")},
			[]string{"s1", "c1", "s2", "c2"}},
		{"a question sent while the last was answered",
			[]brain.Record{u("m:1", "s1"), u("m:2", "s2"), a("m:1", "c1"), a("m:2", "c2")},
			[]string{"s1", "c1", "s2", "c2"}},
		{"three in a burst, answers late",
			[]brain.Record{u("m:1", "s1"), u("m:2", "s2"), u("m:3", "s3"), a("m:1", "c1"), a("m:3", "c3"), a("m:2", "c2")},
			[]string{"s1", "c1", "s2", "c2", "s3", "c3"}},
		{"an unanswered question stays in place",
			[]brain.Record{u("m:1", "s1"), u("m:2", "s2"), a("m:2", "c2"), u("m:3", "s3")},
			[]string{"s1", "s2", "c2", "s3"}},
		{"records without refs keep their order",
			[]brain.Record{{Role: brain.RoleUser, Text: "eski"}, {Role: brain.RoleAssistant, Text: "eski cevap"}, u("m:4", "s4"), a("m:4", "c4")},
			[]string{"eski", "eski cevap", "s4", "c4"}},
		{"a reply whose question is not in the window stays",
			[]brain.Record{a("m:0", "c0"), u("m:1", "s1"), a("m:1", "c1")},
			[]string{"c0", "s1", "c1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range brain.Thread(tt.in) {
				got = append(got, r.Text)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
