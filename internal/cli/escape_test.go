package cli

import (
	"bytes"
	"testing"
)

func TestEscapeControls(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain/路径/文章.md: failed", "plain/路径/文章.md: failed"},
		{"a\x1b[31mred\x1b[0m.md", `a\x1b[31mred\x1b[0m.md`},
		{"title\x1b]0;pwned\x07.md", `title\x1b]0;pwned\x07.md`},
		{"two\nlines\r\tx\x7f", `two\nlines\r\tx\x7f`},
		{"c1\u009b31m 中文", `c1\u009b31m 中文`},
		{"latin1 caf\xe9.md", `latin1 caf\xe9.md`},
		{"emoji 😀 and é", "emoji 😀 and é"},
	} {
		if got := escapeControls(tt.in); got != tt.want {
			t.Errorf("escapeControls(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLinesEscape(t *testing.T) {
	var b bytes.Buffer
	style{}.lines(&b)("%s: %v", "x\x1b[2J.md", "bad")
	if got, want := b.String(), "xlate: x\\x1b[2J.md: bad\n"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}
