package telegram

import (
	"testing"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
)

func TestRenderHTML(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{"plain", "Merhaba dünya", "Merhaba dünya"},
		{"escapes", "a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"html is text", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"bold", "**kalın** ve __da__", "<b>kalın</b> ve <b>da</b>"},
		{"italic", "*eğik* ve _bu_", "<i>eğik</i> ve <i>bu</i>"},
		{"bold italic", "***ikisi***", "<b><i>ikisi</i></b>"},
		{"italic with bold inside", "*a **b** c*", "<i>a <b>b</b> c</i>"},
		{"strike", "~~yok~~", "<s>yok</s>"},
		{"snake case", "my_var_name ve __init__", "my_var_name ve <b>init</b>"},
		{"unbalanced bold", "**açık kaldı", "**açık kaldı"},
		{"lone stars", "2 * 3 * 4", "2 * 3 * 4"},
		{"inline code", "`x < 1` ve ``a`b``", "<code>x &lt; 1</code> ve <code>a`b</code>"},
		{"code hides emphasis", "`**not bold**`", "<code>**not bold**</code>"},
		{"unclosed code span", "`açık", "`açık"},
		{"link", "[site](https://example.com/?a=1&b=\"2\")", `<a href="https://example.com/?a=1&amp;b=&quot;2&quot;">site</a>`},
		{"bad scheme", "[x](javascript:alert(1))", "[x](javascript:alert(1))"},
		{"link text no nested link", "[**a** [b](http://x.y)](https://e.com)", `<a href="https://e.com"><b>a</b> [b](http://x.y)</a>`},
		{"heading", "## Başlık **x** ##", "<b>Başlık <b>x</b></b>"},
		{"bullets", "- bir\n* iki\n  + üç", "• bir\n• iki\n  • üç"},
		{"rule", "a\n---\nb", "a\n──────────\nb"},
		{"quote", "> alıntı\n> devam\nsonra", "<blockquote>alıntı\ndevam</blockquote>\nsonra"},
		{"escaped punct", `\*değil\*`, "*değil*"},
		{"fence with lang", "Kod:\n```python\nprint(\"<hi>\")\n```\nbitti", "Kod:\n<pre><code class=\"language-python\">print(\"&lt;hi&gt;\")</code></pre>\nbitti"},
		{"fence no lang", "```\nx && y\n```", "<pre>x &amp;&amp; y</pre>"},
		{"fence hides markdown", "```go\n**a** _b_ [c](http://d)\n```", "<pre><code class=\"language-go\">**a** _b_ [c](http://d)</code></pre>"},
		{"unclosed fence", "```js\nlet a = 1;", "<pre><code class=\"language-js\">let a = 1;</code></pre>"},
		{"hostile lang", "```\"><b>\nx\n```", "<pre>x</pre>"},
		{"tilde fence", "~~~sh\nls\n~~~", "<pre><code class=\"language-sh\">ls</code></pre>"},
		{"empty fence dropped", "```python\n```", ""},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderHTML(tt.md)
			if got != tt.want {
				t.Errorf("renderHTML(%q)\n got %q\nwant %q", tt.md, got, tt.want)
			}
			if _, err := telegramtest.ParseHTML(got); err != nil {
				t.Errorf("renderHTML(%q) = %q: Telegram would reject it: %v", tt.md, got, err)
			}
		})
	}
}

func TestPlainTextMatchesTelegram(t *testing.T) {
	md := "# T\n**b** & `c<d>` [l](https://x.y/?q=1&r=2)\n```py\nif a < b: pass\n```"
	h := renderHTML(md)
	vis, err := telegramtest.ParseHTML(h)
	if err != nil {
		t.Fatalf("ParseHTML(%q): %v", h, err)
	}
	if got := plainText(h); got != vis {
		t.Errorf("plainText = %q, want Telegram's %q", got, vis)
	}
}

func FuzzRenderHTML(f *testing.F) {
	for _, s := range []string{
		"**a", "*a **b** c*", "```py\nx\n```", "[a](http://b)", "`a` _b_ ~~c~~", "> q\n# h\n- l",
		"***", "__a__b", "[[x](http://a)](http://b)", "\\*a\\*", "<&>\"'", "a_b_c *d_e* _f*g_",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		h := renderHTML(md)
		vis, err := telegramtest.ParseHTML(h)
		if err != nil {
			t.Fatalf("renderHTML(%q) = %q: invalid Telegram HTML: %v", md, h, err)
		}
		if got := plainText(h); got != vis {
			t.Fatalf("plainText(%q) = %q, want %q", h, got, vis)
		}
	})
}
