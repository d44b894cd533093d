package translate

import "testing"

func TestEntry(t *testing.T) {
	for _, tc := range []struct {
		text   string
		tokens int
	}{{"Hello.", 3}, {"Two\nlines", 0}, {"T5\nlooks like a header", 12}} {
		text, n, ok := decodeEntry(encodeEntry(tc.tokens, tc.text))
		if !ok || text != tc.text || n != tc.tokens {
			t.Errorf("round trip of %q, %d = %q, %d, %v", tc.text, tc.tokens, text, n, ok)
		}
	}
	for _, bad := range []string{"", "Hello", "T\nx", "Tx\ny", "T-1\ny", "T3\n", "5\nfoo"} {
		if _, _, ok := decodeEntry([]byte(bad)); ok {
			t.Errorf("decodeEntry(%q) accepted", bad)
		}
	}
}
