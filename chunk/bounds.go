package chunk

import (
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"
)

// Cut levels, coarsest first. Levels 0-3 keep markdown links and code spans
// whole; levels 4-7 repeat the same marks inside a span that is over the
// limit on its own.
const (
	markSentence = iota
	markClause
	markSpace
	markRune
	marks // number of mark kinds

	lastLevel = 2*marks - 1
)

// span is a byte range [start, end) of the text.
type span struct {
	start, end int
}

// bounds returns the cut offsets of level in text[s:e]: absolute, strictly
// ascending, each in (s, e], always ending with e.
func (sp *splitter) bounds(s, e, level int) []int {
	var prot []span
	if level < marks {
		if !sp.protDone {
			sp.prot = protectedSpans(sp.text)
			sp.protDone = true
		}
		prot = sp.prot
	}
	// k walks the protected spans alongside the ascending cuts.
	k := sort.Search(len(prot), func(x int) bool { return prot[x].end > s })
	var bs []int
	add := func(rel int) {
		off := s + rel
		if off <= s || off >= e || (len(bs) > 0 && off <= bs[len(bs)-1]) {
			return
		}
		for k < len(prot) && prot[k].end <= off {
			k++
		}
		if k < len(prot) && prot[k].start < off {
			return // inside a link or code span
		}
		bs = append(bs, off)
	}
	t := sp.text[s:e]
	switch level % marks {
	case markSentence:
		sentenceCuts(t, add)
	case markClause:
		clauseCuts(t, add)
	case markSpace:
		spaceCuts(t, add)
	default:
		for i := range t {
			add(i) // each rune start; add drops 0
		}
	}
	return append(bs, e)
}

// isWideStop reports full-width sentence ends, which need no space after.
func isWideStop(r rune) bool {
	switch r {
	case '。', '！', '？', '；', '…':
		return true
	}
	return false
}

// isNarrowStop reports ASCII sentence ends, which count only before
// whitespace (so "3.14" and "example.com" stay whole).
func isNarrowStop(r rune) bool {
	switch r {
	case '.', '!', '?', ';':
		return true
	}
	return false
}

// isCloser reports closing quotes and brackets that belong to the sentence
// or clause they follow.
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '”', '’', '」', '』', '）', '》', '】', '〉', '»', '〕':
		return true
	}
	return false
}

func isWideClause(r rune) bool {
	switch r {
	case '，', '、', '：':
		return true
	}
	return false
}

func isNarrowClause(r rune) bool {
	return r == ',' || r == ':'
}

// isBreak reports the ASCII whitespace that must follow a narrow mark.
func isBreak(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

func skipRunes(t string, i int, f func(rune) bool) int {
	for i < len(t) {
		r, n := utf8.DecodeRuneInString(t[i:])
		if !f(r) {
			break
		}
		i += n
	}
	return i
}

func isHSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\u3000' }

func isNewline(r rune) bool { return r == '\n' || r == '\r' }

// afterMark returns where a cut goes after marks ending at j: past closers,
// then spaces, then line breaks (the indentation of the next line stays
// with it). ok is false if a narrow mark is not followed by whitespace.
func afterMark(t string, j int, narrow bool) (int, bool) {
	j = skipRunes(t, j, isCloser)
	if narrow && j < len(t) && !isBreak(t[j]) {
		return j, false
	}
	j = skipRunes(t, j, isHSpace)
	return skipRunes(t, j, isNewline), true
}

// sentenceCuts calls add with each sentence end and line end in t.
func sentenceCuts(t string, add func(int)) {
	for i := 0; i < len(t); {
		r, n := utf8.DecodeRuneInString(t[i:])
		switch {
		case isNewline(r):
			i = skipRunes(t, i, isNewline)
			add(i)
		case isWideStop(r) || isNarrowStop(r):
			wide := false
			j := skipRunes(t, i, func(r rune) bool {
				if isWideStop(r) {
					wide = true
					return true
				}
				return isNarrowStop(r)
			})
			j, ok := afterMark(t, j, !wide)
			if ok {
				add(j)
			}
			i = j
		default:
			i += n
		}
	}
}

// clauseCuts calls add after each clause mark in t.
func clauseCuts(t string, add func(int)) {
	for i := 0; i < len(t); {
		r, n := utf8.DecodeRuneInString(t[i:])
		if !isWideClause(r) && !isNarrowClause(r) {
			i += n
			continue
		}
		j, ok := afterMark(t, i+n, isNarrowClause(r))
		if ok {
			add(j)
		}
		i = j
	}
}

// spaceCuts calls add after each run of whitespace in t.
func spaceCuts(t string, add func(int)) {
	for i := 0; i < len(t); {
		r, n := utf8.DecodeRuneInString(t[i:])
		if !unicode.IsSpace(r) {
			i += n
			continue
		}
		i = skipRunes(t, i, unicode.IsSpace)
		add(i)
	}
}

// protectedSpans returns the inline code spans and markdown links and
// images of t, sorted and merged. Both scans are linear: a split must stay
// fast on megabytes of adversarial text.
func protectedSpans(t string) []span {
	code := codeSpans(t)
	spans := append(code, linkSpans(t, code)...)
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	out := spans[:1]
	for _, x := range spans[1:] {
		if last := &out[len(out)-1]; x.start < last.end {
			last.end = max(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}

// codeSpans finds backtick code spans: a run of n backticks up to the next
// run of exactly n backticks (CommonMark's rule; fenced blocks match too).
func codeSpans(t string) []span {
	type run struct{ pos, n int }
	var runs []run
	for i := 0; i < len(t); {
		if t[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(t) && t[j] == '`' {
			j++
		}
		runs = append(runs, run{i, j - i})
		i = j
	}
	if len(runs) < 2 {
		return nil
	}
	next := make([]int, len(runs)) // next run of the same length, or -1
	seen := map[int]int{}
	for k := len(runs) - 1; k >= 0; k-- {
		next[k] = -1
		if x, ok := seen[runs[k].n]; ok {
			next[k] = x
		}
		seen[runs[k].n] = k
	}
	var out []span
	for k := 0; k < len(runs); {
		m := next[k]
		if m < 0 {
			k++
			continue
		}
		out = append(out, span{runs[k].pos, runs[m].pos + runs[m].n})
		k = m + 1
	}
	return out
}

// linkSpans finds `[text](url)` and `![alt](src)` outside code spans.
// Brackets pair up within a paragraph and parentheses within a line.
func linkSpans(t string, code []span) []span {
	var (
		closeBracket = map[int]int{}
		closeParen   = map[int]int{}
		brackets     []int
		parens       []int
	)
	k := 0
	for i := 0; i < len(t); i++ {
		for k < len(code) && code[k].end <= i {
			k++
		}
		if k < len(code) && code[k].start <= i {
			i = code[k].end - 1
			continue
		}
		switch t[i] {
		case '[':
			brackets = append(brackets, i)
		case ']':
			if n := len(brackets); n > 0 {
				closeBracket[brackets[n-1]] = i
				brackets = brackets[:n-1]
			}
		case '(':
			parens = append(parens, i)
		case ')':
			if n := len(parens); n > 0 {
				closeParen[parens[n-1]] = i
				parens = parens[:n-1]
			}
		case '\n':
			parens = parens[:0]
			if i+1 < len(t) && t[i+1] == '\n' {
				brackets = brackets[:0]
			}
		}
	}
	if len(closeBracket) == 0 || len(closeParen) == 0 {
		return nil
	}
	var out []span
	for i := 0; i < len(t); i++ {
		if t[i] != '[' {
			continue
		}
		c, ok := closeBracket[i]
		if !ok || c+1 >= len(t) || t[c+1] != '(' {
			continue
		}
		p, ok := closeParen[c+1]
		if !ok {
			continue
		}
		s := i
		if i > 0 && t[i-1] == '!' {
			s = i - 1
		}
		out = append(out, span{s, p + 1})
		i = p
	}
	return out
}
