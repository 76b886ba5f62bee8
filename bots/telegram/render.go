package telegram

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The renderer turns the Markdown a model writes into Telegram's HTML
// parse mode. It knows fenced code blocks, inline code, bold, italics,
// strikethrough, links, headings (rendered bold), block quotes, bullets and
// rules; everything else is escaped text. Every tag it opens it closes in
// the same call, so unbalanced or invalid Markdown still yields valid HTML:
// a delimiter without a partner is shown as it was typed.

var (
	headingRe = regexp.MustCompile(`^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	quoteRe   = regexp.MustCompile(`^ {0,3}> ?(.*)$`)
	bulletRe  = regexp.MustCompile(`^([ \t]*)[-*+][ \t]+(.*)$`)
	ruleRe    = regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	langRe    = regexp.MustCompile(`^[A-Za-z0-9_+#.\-]{1,32}$`)
)

// renderHTML renders Markdown as Telegram HTML.
func renderHTML(md string) string {
	md = strings.ToValidUTF8(md, "\uFFFD")
	md = strings.ReplaceAll(md, "\r\n", "\n")
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); {
		line := lines[i]
		if fence, lang, ok := openFence(line); ok {
			j := i + 1
			for j < len(lines) && !closesFence(lines[j], fence) {
				j++
			}
			if body := strings.Join(lines[i+1:min(j, len(lines))], "\n"); strings.TrimSpace(body) != "" {
				out = append(out, codeBlock(lang, body))
			}
			i = j + 1
			continue
		}
		if m := quoteRe.FindStringSubmatch(line); m != nil {
			var quoted []string
			for ; i < len(lines); i++ {
				m := quoteRe.FindStringSubmatch(lines[i])
				if m == nil {
					break
				}
				quoted = append(quoted, renderInline(m[1], false))
			}
			if body := strings.Join(quoted, "\n"); strings.TrimSpace(body) != "" {
				out = append(out, "<blockquote>"+body+"</blockquote>")
			}
			continue
		}
		out = append(out, renderLine(line))
		i++
	}
	return strings.Join(out, "\n")
}

// renderLine renders one line outside code blocks and quotes.
func renderLine(line string) string {
	switch {
	case ruleRe.MatchString(line):
		return "──────────"
	case headingRe.MatchString(line):
		m := headingRe.FindStringSubmatch(line)
		if strings.TrimSpace(m[1]) == "" {
			return ""
		}
		return "<b>" + renderInline(m[1], false) + "</b>"
	case bulletRe.MatchString(line):
		m := bulletRe.FindStringSubmatch(line)
		return m[1] + "• " + renderInline(m[2], false)
	}
	return renderInline(line, false)
}

// openFence reports whether line opens a fenced code block: its fence
// (``` or ~~~, or longer) and the language of its info string.
func openFence(line string) (fence, lang string, ok bool) {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", "", false
	}
	n := runLen(t, 0, t[0])
	if n < 3 {
		return "", "", false
	}
	info := strings.TrimSpace(t[n:])
	if t[0] == '`' && strings.Contains(info, "`") {
		return "", "", false
	}
	if f := strings.Fields(info); len(f) > 0 && langRe.MatchString(f[0]) {
		lang = f[0]
	}
	return t[:n], lang, true
}

// closesFence reports whether line closes a block opened with fence.
func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return len(t) >= len(fence) && t[0] == fence[0] && runLen(t, 0, t[0]) == len(t)
}

func codeBlock(lang, body string) string {
	if lang == "" {
		return "<pre>" + escape(body) + "</pre>"
	}
	return `<pre><code class="language-` + escape(lang) + `">` + escape(body) + "</code></pre>"
}

// renderInline renders the inline Markdown of one line. Inside a link's
// text noLinks is set, since Telegram does not nest links.
func renderInline(s string, noLinks bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && isPunct(s[i+1]) {
				b.WriteString(escape(s[i+1 : i+2]))
				i += 2
				continue
			}
		case '`':
			n := runLen(s, i, '`')
			if end := findRun(s, i+n, '`', n); end >= 0 && strings.TrimSpace(s[i+n:end]) != "" {
				code := s[i+n : end]
				if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' {
					code = code[1 : len(code)-1]
				}
				b.WriteString("<code>" + escape(code) + "</code>")
				i = end + n
				continue
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		case '[':
			if !noLinks {
				if out, next, ok := link(s, i); ok {
					b.WriteString(out)
					i = next
					continue
				}
			}
		case '*', '_', '~':
			if out, next, ok := emphasis(s, i, noLinks); ok {
				b.WriteString(out)
				i = next
				continue
			}
			n := runLen(s, i, c)
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteString(escape(s[i : i+1]))
		i++
	}
	return b.String()
}

// emphasis renders the bold, italic or strikethrough span that opens at
// s[i], if its closing delimiter is on the same line.
func emphasis(s string, i int, noLinks bool) (string, int, bool) {
	c := s[i]
	n := runLen(s, i, c)
	if c == '_' && i > 0 && isWordBefore(s, i) {
		return "", 0, false // snake_case, not emphasis
	}
	try := func(d int, tag string) (string, int, bool) {
		start := i + d
		if start >= len(s) || isSpace(s[start]) {
			return "", 0, false
		}
		for j := start; j < len(s); {
			switch s[j] {
			case '`':
				m := runLen(s, j, '`')
				if e := findRun(s, j+m, '`', m); e >= 0 {
					j = e + m
				} else {
					j += m
				}
				continue
			case '\\':
				j += 2
				continue
			case c:
				m := runLen(s, j, c)
				closer := j + m - d
				ok := j > start && !isSpace(s[j-1]) && (m == d || (m > d && (d == 2 || m >= 3)))
				if ok && c == '_' && closer+d < len(s) && isWordAfter(s, closer+d) {
					ok = false
				}
				if ok {
					inner := s[start:closer]
					return "<" + tag + ">" + renderInline(inner, noLinks) + "</" + tag + ">", closer + d, true
				}
				j += m
				continue
			}
			j++
		}
		return "", 0, false
	}
	switch {
	case c == '~':
		if n >= 2 {
			return try(2, "s")
		}
	case n >= 2:
		if out, next, ok := try(2, "b"); ok {
			return out, next, ok
		}
		if n >= 3 {
			return try(1, "i")
		}
	default:
		return try(1, "i")
	}
	return "", 0, false
}

var linkSchemes = []string{"http://", "https://", "tg://", "mailto:"}

// link renders a [text](url) link that opens at s[i]; only web, mail and
// tg: links are made clickable.
func link(s string, i int) (string, int, bool) {
	depth := 0
	closeText := -1
	for j := i; j < len(s) && closeText < 0; j++ {
		switch s[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				closeText = j
			}
		}
	}
	if closeText < 0 || closeText+1 >= len(s) || s[closeText+1] != '(' {
		return "", 0, false
	}
	end := strings.IndexByte(s[closeText+2:], ')')
	if end < 0 {
		return "", 0, false
	}
	url := s[closeText+2 : closeText+2+end]
	if url == "" || strings.ContainsAny(url, " \t") {
		return "", 0, false
	}
	scheme := false
	for _, p := range linkSchemes {
		if len(url) > len(p) && strings.EqualFold(url[:len(p)], p) {
			scheme = true
		}
	}
	if !scheme {
		return "", 0, false
	}
	text := s[i+1 : closeText]
	inner := renderInline(text, true)
	if strings.TrimSpace(text) == "" {
		inner = escape(url)
	}
	return `<a href="` + escapeAttr(url) + `">` + inner + "</a>", closeText + 3 + end, true
}

// runLen counts the bytes equal to c from s[i].
func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// findRun returns where the next run of exactly n bytes c starts at or
// after from, or -1.
func findRun(s string, from int, c byte, n int) int {
	for j := from; j < len(s); {
		if s[j] != c {
			j++
			continue
		}
		m := runLen(s, j, c)
		if m == n {
			return j
		}
		j += m
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func isPunct(c byte) bool {
	return c < utf8.RuneSelf && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}

func isWordBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

func isWordAfter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80 && r != utf8.RuneError
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
)

func escape(s string) string     { return textEscaper.Replace(s) }
func escapeAttr(s string) string { return attrEscaper.Replace(s) }

// plainText is what Telegram shows of rendered HTML: the text without tags,
// entities decoded.
func plainText(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i++ {
		if h[i] == '<' {
			if end := strings.IndexByte(h[i:], '>'); end >= 0 {
				i += end
				continue
			}
		}
		b.WriteByte(h[i])
	}
	return html.UnescapeString(b.String())
}

// utf16Len is the length of s in UTF-16 code units, Telegram's measure.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
