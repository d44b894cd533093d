package chunk

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// This file splits text into the pieces that o200k_base encodes one by one.
// tiktoken-go finds them with regexp2 and the pattern
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// run by the matcher regexp2cg generated for it (tokenizer/codec/regexp.gen.go).
// pieceEnd follows that matcher, including its quirks:
//
//   - the alternation is atomic: the first alternative that matches wins;
//   - \s is unicode.IsSpace, \p{..} the unicode package's tables;
//   - the contraction group is an optional atomic loop, so it never causes
//     backtracking into the letter loops; (?i) adds only 'ſ' (U+017F) to
//     's' and 'S';
//   - in \s*[\r\n]+ the generated backtracking jumps to the FIRST \r or \n of
//     the whitespace run, not the last;
//   - its ASCII bitmaps for [^\r\n\p{L}\p{N}] and [^\s\p{L}\p{N}] leave out
//     DEL (U+007F), so no alternative matches at a DEL: regexp2 skips it,
//     and the codec emits no token for it. Every other rune starts a match.
//
// The text must be valid UTF-8 (see validUTF8).

// Character classes, as bits.
const (
	clsUpper  uint8 = 1 << iota // \p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}
	clsLower                    // \p{Ll}\p{Lm}\p{Lo}\p{M}
	clsLetter                   // \p{L}
	clsNumber                   // \p{N}
	clsSpace                    // \s: unicode.IsSpace
	clsPrefix                   // [^\r\n\p{L}\p{N}] as generated (no DEL)
	clsPunct                    // [^\s\p{L}\p{N}] as generated (no DEL)
)

// del is the one rune the generated sets get wrong; see above.
const del = 0x7F

// bmpClasses holds the class bits of every rune below 0x10000.
var bmpClasses = sync.OnceValue(func() *[1 << 16]uint8 {
	t := new([1 << 16]uint8)
	mark := func(bit uint8, tabs ...*unicode.RangeTable) {
		for _, tab := range tabs {
			for _, r := range tab.R16 {
				for c := uint32(r.Lo); c <= uint32(r.Hi); c += uint32(r.Stride) {
					t[c] |= bit
				}
			}
		}
	}
	mark(clsUpper, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
	mark(clsLower, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
	mark(clsLetter, unicode.L)
	mark(clsNumber, unicode.N)
	mark(clsSpace, unicode.White_Space)
	// unicode.IsSpace uses its own list below 0x100; it agrees with
	// White_Space, but take it from the source.
	for c := range rune(0x100) {
		t[c] &^= clsSpace
		if unicode.IsSpace(c) {
			t[c] |= clsSpace
		}
	}
	for c := range t {
		t[c] |= derivedClasses(rune(c), t[c])
	}
	return t
})

// classOf returns the class bits of r, computed from the unicode tables.
func classOf(r rune) uint8 {
	var c uint8
	if unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsUpper
	}
	if unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsLower
	}
	if unicode.In(r, unicode.L) {
		c |= clsLetter
	}
	if unicode.In(r, unicode.N) {
		c |= clsNumber
	}
	if unicode.IsSpace(r) {
		c |= clsSpace
	}
	return c | derivedClasses(r, c)
}

// derivedClasses returns the clsPrefix and clsPunct bits of r, whose other
// class bits are c.
func derivedClasses(r rune, c uint8) uint8 {
	if r == del || c&(clsLetter|clsNumber) != 0 {
		return 0
	}
	d := clsPrefix
	if r == '\r' || r == '\n' {
		d = 0
	}
	if c&clsSpace == 0 {
		d |= clsPunct
	}
	return d
}

// splitter state: the class table, loaded once per pieceEnd call.
type scanner struct {
	s   string
	cls *[1 << 16]uint8
}

// at decodes the rune at byte offset i < len(s), returning it, its length
// and its class bits.
func (sc scanner) at(i int) (rune, int, uint8) {
	if c := sc.s[i]; c < utf8.RuneSelf {
		return rune(c), 1, sc.cls[c]
	}
	r, n := utf8.DecodeRuneInString(sc.s[i:])
	if r < 1<<16 {
		return r, n, sc.cls[r]
	}
	return r, n, classOf(r)
}

// run returns the end of the longest run of runes from i whose class has
// one of the bits in want.
func (sc scanner) run(i int, want uint8) int {
	for i < len(sc.s) {
		_, n, c := sc.at(i)
		if c&want == 0 {
			break
		}
		i += n
	}
	return i
}

// pieceEnd returns the end of the piece that starts at byte p < len(s), or
// p if no piece starts there (a DEL, which the codec skips).
func pieceEnd(s string, p int) int {
	sc := scanner{s: s, cls: bmpClasses()}
	r0, n0, c0 := sc.at(p)
	if r0 == del {
		return p
	}

	// Alternatives 1 and 2 start with an optional [^\r\n\p{L}\p{N}],
	// taken greedily and given back if the rest fails.
	starts := [2]int{p, p}
	nstarts := 1
	if c0&clsPrefix != 0 {
		starts[0] = p + n0
		nstarts = 2
	}

	// Alternative 1: [Upper]*[Lower]+ then a contraction.
	for _, q := range starts[:nstarts] {
		// [Upper]* runs to e; [Lower]+ then starts at the last position
		// in [q, e] that holds a Lower rune (the loop gives back one rune
		// at a time).
		e, k := q, -1
		for e < len(s) {
			_, n, c := sc.at(e)
			if c&clsUpper == 0 {
				break
			}
			if c&clsLower != 0 {
				k = e
			}
			e += n
		}
		if e < len(s) {
			if _, _, c := sc.at(e); c&clsLower != 0 {
				k = e
			}
		}
		if k < 0 {
			continue
		}
		return contraction(s, sc.run(k, clsLower))
	}

	// Alternative 2: [Upper]+[Lower]* then a contraction.
	for _, q := range starts[:nstarts] {
		e := sc.run(q, clsUpper)
		if e == q {
			continue
		}
		return contraction(s, sc.run(e, clsLower))
	}

	// Alternative 3: \p{N}{1,3}.
	if c0&clsNumber != 0 {
		e := p + n0
		for range 2 {
			if e >= len(s) {
				break
			}
			_, n, c := sc.at(e)
			if c&clsNumber == 0 {
				break
			}
			e += n
		}
		return e
	}

	// Alternative 4: ' '?[^\s\p{L}\p{N}]+[\r\n/]*, all atomic.
	q := p
	if r0 == ' ' {
		q++
	}
	e := sc.run(q, clsPunct)
	if e > q {
		for e < len(s) && (s[e] == '\r' || s[e] == '\n' || s[e] == '/') {
			e++
		}
		return e
	}

	// What is left starts with whitespace. Find the run.
	e = p
	last := p // start of the run's last rune
	for e < len(s) {
		_, n, c := sc.at(e)
		if c&clsSpace == 0 {
			break
		}
		last = e
		e += n
	}
	if e == p {
		// Unreachable: only DEL matches no alternative.
		return p
	}

	// Alternative 5: \s*[\r\n]+, backtracking to the first \r or \n.
	for i := p; i < e; i++ {
		if s[i] == '\r' || s[i] == '\n' {
			for i < e && (s[i] == '\r' || s[i] == '\n') {
				i++
			}
			return i
		}
	}

	// Alternative 6: \s+(?!\S): the whole run at the end of the text,
	// else all but its last rune, if that leaves one.
	if e == len(s) {
		return e
	}
	if last > p {
		return last
	}
	// Alternative 7: \s+.
	return e
}

// contraction extends a letter run ending at i by an optional
// (?i:'s|'t|'re|'ve|'m|'ll|'d), as regexp2 matches it.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return i
	}
	switch c := s[i+1]; c {
	case 'S', 'T', 's', 't', 'M', 'm', 'D', 'd':
		return i + 2
	case 'R', 'r', 'V', 'v':
		if i+2 < len(s) && s[i+2]|0x20 == 'e' {
			return i + 3
		}
	case 'L', 'l':
		if i+2 < len(s) && s[i+2]|0x20 == 'l' {
			return i + 3
		}
	case 0xC5: // 'ſ' is C5 BF
		if i+2 < len(s) && s[i+2] == 0xBF {
			return i + 3
		}
	}
	return i
}
