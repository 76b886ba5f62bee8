package router

import "testing"

func TestStem(t *testing.T) {
	stem := func(w string) string {
		rs := normalize(nil, w)
		rs = rs[1 : len(rs)-1] // the padding spaces
		return string(rs[:stemEnd(rs, 0, len(rs))])
	}
	// Forms of one word share a stem.
	groups := [][]string{
		{"sözlük", "sözlükte", "sözlükteki", "sözlükler", "sözlüklerde"},
		{"liste", "listesi", "listesini", "listeler", "listeyi", "listede"},
		{"sırala", "sıralama", "sıralanması", "sıralamak"},
		{"fonksiyon", "fonksiyonu", "fonksiyonlar", "fonksiyonda"},
	}
	for _, g := range groups {
		t.Run(g[0], func(t *testing.T) {
			want := stem(g[0])
			for _, w := range g[1:] {
				if got := stem(w); got != want {
					t.Errorf("stem(%q) = %q, want %q (the stem of %q)", w, got, want, g[0])
				}
			}
		})
	}
	tests := []struct{ in, want string }{
		{"sözlükte", "sozluk"},
		{"ev", "ev"},   // too short to strip
		{"kod", "kod"}, // a stem is at least minStem runes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := stem(tt.in); got != tt.want {
				t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
