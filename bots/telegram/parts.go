package telegram

import (
	"strings"

	"github.com/evo-tr/evo/bots/markdown"
)

// maxMessageLen is Telegram's limit on a message's visible text, in UTF-16
// code units after entity parsing.
const maxMessageLen = 4096

// visibleLen is how long Markdown is once rendered, as Telegram counts.
func visibleLen(md string) int { return utf16Len(plainText(renderHTML(md))) }

// renderParts splits Markdown into messages that each fit Telegram's limit
// (code blocks closed and reopened across parts) and renders each as
// HTML. Parts with nothing visible are dropped.
func renderParts(md string) []string {
	var out []string
	for _, p := range markdown.Split(md, maxMessageLen, visibleLen) {
		h := renderHTML(p)
		if strings.TrimSpace(plainText(h)) == "" {
			continue
		}
		out = append(out, h)
	}
	return out
}
