package telegramtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// allowedTags are the tags of Telegram's HTML parse mode.
var allowedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true,
}

// ErrEntities is wrapped by ParseHTML's errors; its text is Telegram's.
var ErrEntities = errors.New("can't parse entities")

// ParseHTML parses text the way Telegram's HTML parse mode does and returns
// the visible text. It is stricter than Telegram where strictness catches
// escaping bugs: every <, > and & that is not part of a tag or entity is an
// error, tags must nest properly, and only Telegram's tags are accepted.
func ParseHTML(s string) (string, error) {
	var out strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("%w: unclosed start tag at byte offset %d", ErrEntities, i)
			}
			tag := s[i+1 : i+end]
			i += end + 1
			if strings.HasPrefix(tag, "/") {
				name := strings.TrimSpace(tag[1:])
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("%w: unmatched end tag %q", ErrEntities, name)
				}
				stack = stack[:len(stack)-1]
				continue
			}
			name, attrs, _ := strings.Cut(tag, " ")
			if !allowedTags[name] {
				return "", fmt.Errorf("%w: unsupported start tag %q", ErrEntities, name)
			}
			if err := checkAttrs(name, attrs, stack); err != nil {
				return "", err
			}
			stack = append(stack, name)
		case '>':
			return "", fmt.Errorf("%w: unescaped '>' at byte offset %d", ErrEntities, i)
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 || end > 10 {
				return "", fmt.Errorf("%w: unescaped '&' at byte offset %d", ErrEntities, i)
			}
			r, ok := decodeEntity(s[i+1 : i+end])
			if !ok {
				return "", fmt.Errorf("%w: unsupported HTML entity %q", ErrEntities, s[i:i+end+1])
			}
			out.WriteString(r)
			i += end + 1
		default:
			out.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("%w: can't find end tag corresponding to start tag %q", ErrEntities, stack[len(stack)-1])
	}
	return out.String(), nil
}

func checkAttrs(name, attrs string, stack []string) error {
	attrs = strings.TrimSpace(attrs)
	switch name {
	case "a":
		if !strings.HasPrefix(attrs, `href="`) || !strings.HasSuffix(attrs, `"`) || len(attrs) < len(`href=""`) {
			return fmt.Errorf("%w: <a> needs one href attribute, got %q", ErrEntities, attrs)
		}
		if strings.ContainsAny(attrs[6:len(attrs)-1], `"<>`) {
			return fmt.Errorf("%w: bad href %q", ErrEntities, attrs)
		}
		for _, open := range stack {
			if open == "a" {
				return fmt.Errorf("%w: nested links", ErrEntities)
			}
		}
	case "code":
		if attrs == "" {
			return nil
		}
		if len(stack) == 0 || stack[len(stack)-1] != "pre" {
			return fmt.Errorf("%w: a code language needs <pre>", ErrEntities)
		}
		if !strings.HasPrefix(attrs, `class="language-`) || !strings.HasSuffix(attrs, `"`) {
			return fmt.Errorf("%w: bad code attribute %q", ErrEntities, attrs)
		}
	case "span":
		if attrs != `class="tg-spoiler"` {
			return fmt.Errorf("%w: bad span attribute %q", ErrEntities, attrs)
		}
	case "blockquote":
		if attrs != "" && attrs != "expandable" {
			return fmt.Errorf("%w: bad blockquote attribute %q", ErrEntities, attrs)
		}
	case "tg-emoji":
		if !strings.HasPrefix(attrs, `emoji-id="`) {
			return fmt.Errorf("%w: tg-emoji needs emoji-id", ErrEntities)
		}
	default:
		if attrs != "" {
			return fmt.Errorf("%w: unexpected attributes on <%s>", ErrEntities, name)
		}
	}
	return nil
}

func decodeEntity(name string) (string, bool) {
	switch name {
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "amp":
		return "&", true
	case "quot":
		return `"`, true
	}
	if !strings.HasPrefix(name, "#") {
		return "", false
	}
	var n uint64
	var err error
	if strings.HasPrefix(name, "#x") || strings.HasPrefix(name, "#X") {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil || n == 0 || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) {
		return "", false
	}
	return string(rune(n)), true
}

// UTF16Len is the length of s in UTF-16 code units, as Telegram counts.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
