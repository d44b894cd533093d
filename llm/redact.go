package llm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// minSecretLen is the length from which an API key is redacted wherever it
// appears in a message. A shorter key, such as the dummy "k" a local server
// is given, is no secret worth mangling "0 chunks" into "0 chun[redacted]s":
// it is redacted only where it stands as a whole token.
const minSecretLen = 8

// redactKey replaces the API key key in s with "[redacted]".
func redactKey(s, key string) string {
	if key == "" {
		return s
	}
	if len(key) >= minSecretLen {
		return strings.ReplaceAll(s, key, "[redacted]")
	}
	var b strings.Builder
	done := 0 // s[:done] is in b
	for from := 0; ; {
		i := strings.Index(s[from:], key)
		if i < 0 {
			break
		}
		i += from
		end := i + len(key)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (i == 0 || !isTokenRune(before)) && (end == len(s) || !isTokenRune(after)) {
			b.WriteString(s[done:i])
			b.WriteString("[redacted]")
			done = end
		}
		from = end
	}
	b.WriteString(s[done:])
	return b.String()
}

// isTokenRune reports whether r can be part of the same token as a key.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}
