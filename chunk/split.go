package chunk

import "sort"

// part is a piece of the splitter's text: text[start:end], tokens long.
type part struct {
	start, end, tokens int
}

// splitter cuts one text into parts of at most limit tokens.
type splitter struct {
	text  string
	limit int
	c     Counter
	total int // tokens in the whole text

	prot     []span // protected markdown spans (links, code), absolute
	protDone bool

	out []part
}

// newSplitter measures text: one count of the whole of it.
func newSplitter(text string, limit int, c Counter) *splitter {
	sp := &splitter{text: text, limit: limit, c: c}
	sp.total = sp.count(0, len(text))
	return sp
}

// run splits a text known to be over the limit.
func (sp *splitter) run() []part {
	sp.split(0, len(sp.text), 0)
	return sp.out
}

func (sp *splitter) count(s, e int) int {
	return max(sp.c.Count(sp.text[s:e]), 0)
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
// is the end of a search rather than a proven maximum; every returned count
// is a real one. Each count tokenizes up to a part's worth of text, so fit
// first guesses where the limit falls from the density of the text in tokens
// per byte (see guess), which brackets j within a few bounds in two or three
// counts; it then gallops up from lo and bisects what is left, so that it
// never needs more than O(log n) counts whatever the Counter.
func (sp *splitter) fit(start int, bs []int, lo, loN, hi int) (j, n int, ok bool) {
	hi = min(hi, len(bs))
	hiN := -1 // tokens at hi, when counted
	for range maxGuesses {
		g := sp.guess(start, bs, lo, loN, hi, hiN)
		if g < 0 {
			break
		}
		n := sp.count(start, bs[g])
		if n <= sp.limit {
			lo, loN = g, n
		} else {
			hi, hiN = g, n
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

// maxGuesses bounds the density guesses of one fit.
const maxGuesses = 4

// firstAim is the share of the limit a guess aims at while nothing of the
// part is known to fit: a little under, so that the guess usually fits and
// the next one can aim from it.
const firstAim = 0.95

// guess returns an index of bs strictly between lo and hi (hiN tokens, or
// -1 if not counted) at which text[start:bs[g]] should hold about the limit
// in tokens, or -1 when too few bounds are left for a guess to beat the
// gallop. The density comes from what is known, best first: the counts at
// lo and hi (interpolating between them), the count at lo, the count at hi,
// the whole text.
func (sp *splitter) guess(start int, bs []int, lo, loN, hi, hiN int) int {
	if hi-lo <= 4 {
		return -1
	}
	from, fromN, aim := start, 0, firstAim*float64(sp.limit)
	var perToken float64 // bytes per token
	switch {
	case lo >= 0 && hiN > loN:
		from, fromN, aim = bs[lo], loN, float64(sp.limit)
		perToken = float64(bs[hi]-bs[lo]) / float64(hiN-loN)
	case lo >= 0 && loN >= 16:
		from, fromN, aim = bs[lo], loN, float64(sp.limit)
		perToken = float64(bs[lo]-start) / float64(loN)
	case hiN > 0:
		perToken = float64(bs[hi]-start) / float64(hiN)
	case sp.total > 0:
		perToken = float64(len(sp.text)) / float64(sp.total)
	default:
		return -1
	}
	target := from + int((aim-float64(fromN))*perToken)
	// The last bound at or before target, strictly inside (lo, hi).
	g := sort.SearchInts(bs[:hi], target+1) - 1
	return min(max(g, lo+1), hi-1)
}
