package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// escapeControls makes a line safe to print on a terminal: control
// characters (C0, DEL and C1) and bytes that are not UTF-8 are escaped, as
// \x1b, \n or \u009b, so that a file name holding them can neither move the
// cursor nor recolour, retitle or otherwise drive the terminal, nor break
// the line. Everything else, Chinese included, is kept as is.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool {
	return r < 0x20 || 0x7f <= r && r < 0xa0
}
