package chunk

import "sort"

// part is a piece of the splitter's text: text[start:end], tokens long.
type part struct {
	start, end, tokens int
}

// estSlack is how far the token estimate may exceed the limit before the
// splitter believes it without counting: the estimate comes from tokenizing
// the whole text, and a substring tokenizes differently only at its edges.
const estSlack = 8

// splitter cuts one text into parts of at most limit tokens.
type splitter struct {
	text  string
	limit int
	c     Counter
	total int // tokens in the whole text

	// ends holds the byte offset where each token of the whole text ends,
	// when the Counter can tell (see ender); nil otherwise.
	ends      []int
	triedEnds bool

	prot     []span // protected markdown spans (links, code), absolute
	protDone bool

	out []part
}

// newSplitter measures text. For a text that is probably over the limit
// (more than two bytes per token of limit) and a Counter that can report
// token offsets, it tokenizes once and keeps the offsets for run.
func newSplitter(text string, limit int, c Counter) *splitter {
	sp := &splitter{text: text, limit: limit, c: c}
	if len(text) > 2*limit {
		sp.loadEnds()
		if sp.ends != nil {
			sp.total = len(sp.ends)
			return sp
		}
	}
	sp.total = sp.count(0, len(text))
	return sp
}

func (sp *splitter) loadEnds() {
	if sp.triedEnds {
		return
	}
	sp.triedEnds = true
	if e, ok := sp.c.(ender); ok {
		sp.ends = e.tokenEnds(sp.text)
	}
}

// run splits a text known to be over the limit.
func (sp *splitter) run() []part {
	sp.loadEnds()
	sp.split(0, len(sp.text), 0)
	return sp.out
}

func (sp *splitter) count(s, e int) int {
	return max(sp.c.Count(sp.text[s:e]), 0)
}

// est estimates the tokens of text[s:e] as the number of whole-text tokens
// overlapping it. Requires sp.ends.
func (sp *splitter) est(s, e int) int {
	a := sort.SearchInts(sp.ends, s+1) // first token ending after s
	b := sort.SearchInts(sp.ends, e)   // first token ending at or after e
	return b - a + 1
}

// split appends parts covering text[s:e], which is known to be over the
// limit, cutting at the boundaries of level (see bounds) and recursing into
// the next level for a unit that is over the limit on its own.
func (sp *splitter) split(s, e, level int) {
	bs := sp.bounds(s, e, level)
	start, i := s, 0
	for start < e {
		for bs[i] <= start {
			i++
		}
		hi := len(bs) - i
		if start == s {
			hi-- // text[s:e] itself is over the limit
		}
		j, n, ok := sp.fit(start, bs[i:], -1, 0, hi)
		if !ok {
			if level == lastLevel {
				// A single rune over the limit: only a Counter that
				// charges more than limit tokens for one rune gets here.
				// Emit it rather than loop.
				sp.out = append(sp.out, part{start, bs[i], sp.count(start, bs[i])})
				start = bs[i]
				continue
			}
			sp.split(start, bs[i], level+1)
			// Reopen the last finer part and let it grow with the
			// units that follow, so the cut does not leave a runt.
			last := sp.out[len(sp.out)-1]
			sp.out = sp.out[:len(sp.out)-1]
			start = last.start
			hi = len(bs) - i
			if start == s {
				hi--
			}
			j, n, _ = sp.fit(start, bs[i:], 0, last.tokens, max(hi, 1))
		}
		sp.out = append(sp.out, part{start, bs[i+j], n})
		start = bs[i+j]
	}
}

// fit finds the largest index j of bs (cut offsets after start, ascending)
// such that text[start:bs[j]] is within the limit, and returns it with its
// token count. lo is an index known to fit with loN tokens, or -1; hi is the
// first index known not to fit (len(bs) if none is known). ok is false if
// not even bs[0] fits.
//
// Token counts grow with length almost, but not exactly, monotonically, so j
// is the end of a binary search rather than a proven maximum; every returned
// count is a real one.
func (sp *splitter) fit(start int, bs []int, lo, loN, hi int) (j, n int, ok bool) {
	hi = min(hi, len(bs))
	if sp.ends != nil {
		// Guess from the whole-text tokenization and verify. The guess is
		// usually right first time; if the real count overshoots, aim
		// lower by the overshoot and try again.
		target := sp.limit
		for try := 0; try < 4 && hi-lo > 1; try++ {
			g := lo + sort.Search(hi-lo-1, func(k int) bool {
				return sp.est(start, bs[lo+1+k]) > target
			})
			if g <= lo {
				if lo >= 0 {
					return lo, loN, true
				}
				if sp.est(start, bs[0]) > sp.limit+estSlack {
					return 0, 0, false
				}
				break
			}
			n := sp.count(start, bs[g])
			if n <= sp.limit {
				return g, n, true
			}
			hi = g
			target -= n - sp.limit
		}
	}
	// Search with real counts: gallop up from lo, then bisect (lo, hi).
	if lo < 0 {
		if hi <= 0 {
			return 0, 0, false
		}
		n := sp.count(start, bs[0])
		if n > sp.limit {
			return 0, 0, false
		}
		lo, loN = 0, n
	}
	for step := 1; lo+step < hi; step *= 2 {
		n := sp.count(start, bs[lo+step])
		if n > sp.limit {
			hi = lo + step
			break
		}
		lo, loN = lo+step, n
	}
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		n := sp.count(start, bs[mid])
		if n <= sp.limit {
			lo, loN = mid, n
		} else {
			hi = mid
		}
	}
	return lo, loN, true
}
