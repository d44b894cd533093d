package chunk

import (
	"fmt"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// fastBPE counts o200k_base tokens exactly as tiktoken-go's codec does
// (github.com/tiktoken-go/tokenizer v0.10.0, ErrorModeNone), several times
// faster and without allocating:
//
//   - it splits the text with a hand-written scanner that follows the
//     generated regexp2 matcher of the o200k_base split pattern step by step
//     (see pieceEnd), instead of running regexp2 over a []rune copy;
//   - it merges each piece with ranks from an open-addressing table keyed by
//     the token bytes (vocabTable), built once from the codec's vocabulary,
//     using scratch buffers from a sync.Pool.
//
// The differential tests in o200k_test.go compare it with the codec on the
// whole corpus, on a table of tricky inputs and under fuzzing.
type fastBPE struct {
	vocab *vocabTable
	pool  sync.Pool // *mergeScratch
}

// newFastBPE builds the counter from a vocabulary: toks[id] is the token
// whose rank is id, or "" for an unused id.
func newFastBPE(toks []string) (*fastBPE, error) {
	v, err := newVocabTable(toks)
	if err != nil {
		return nil, err
	}
	return &fastBPE{vocab: v}, nil
}

// Count returns the number of o200k_base tokens in text.
func (f *fastBPE) Count(text string) int {
	text = validUTF8(text)
	sc := f.scratch()
	n := 0
	for p := 0; p < len(text); {
		e := pieceEnd(text, p)
		if e == p {
			p++ // a DEL, which the codec skips
			continue
		}
		n += f.vocab.encodePiece(sc, text[p:e], false)
		p = e
	}
	f.pool.Put(sc)
	return n
}

// tokenEnds returns the byte offset at which each token of text ends. Like
// the codec-based bpe.tokenEnds, it returns nil when the tokens do not cover
// text exactly: for text that is not valid UTF-8 (the codec tokenizes it
// with every invalid byte replaced by U+FFFD) and for text with a DEL
// (U+007F, which the codec skips).
func (f *fastBPE) tokenEnds(text string) []int {
	if !utf8.ValidString(text) {
		return nil
	}
	sc := f.scratch()
	// About one token per 2.5 bytes for Chinese, fewer for English.
	ends := make([]int, 0, len(text)/2+1)
	for p := 0; p < len(text); {
		e := pieceEnd(text, p)
		if e == p {
			f.pool.Put(sc)
			return nil
		}
		n := f.vocab.encodePiece(sc, text[p:e], true)
		for _, end := range sc.out[:n] {
			ends = append(ends, p+int(end))
		}
		p = e
	}
	f.pool.Put(sc)
	return ends
}

func (f *fastBPE) scratch() *mergeScratch {
	if sc, ok := f.pool.Get().(*mergeScratch); ok {
		return sc
	}
	return new(mergeScratch)
}

// validUTF8 returns s with each byte that does not start a valid UTF-8
// sequence replaced by U+FFFD, as Go's []rune(s) conversion (which regexp2
// applies before matching) does; the codec then encodes the replacement
// characters. Valid text is returned unchanged without allocating.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return string(out)
}

// noRank marks a pair of parts that is not a token.
const noRank = ^uint32(0)

// vocabTable maps token bytes to ranks (token ids).
//
// One- and two-byte tokens, and three-byte tokens that are one BMP
// character, are looked up directly in arrays. Longer tokens sit in an
// open-addressing hash table with linear probing; a slot holds the
// token's first eight bytes (zero-padded) as key, and its rank, length and,
// for tokens over eight bytes, the offset of the whole token in arena.
type vocabTable struct {
	byte1 [256]uint32
	byte2 []uint32 // 1<<16 entries, indexed by b0<<8 | b1
	// char3 holds the three-byte strings [\xE0-\xEF][\x80-\xBF][\x80-\xBF]
	// (the UTF-8 form of U+0800 to U+FFFF, CJK included), indexed by
	// their low bits; it answers the commonest lookups of CJK text.
	char3 []uint32
	slots []vocabSlot
	// tags has one byte per slot: 0 if empty, else 0x80 | seven bits of
	// the token's hash. Probing it first keeps most lookups of non-tokens
	// (the commonest lookup when merging) out of the much larger slots.
	tags  []uint8
	shift uint // 64 - log2(len(slots))
	mask  uint64
	arena string // bytes of the tokens longer than eight bytes
	// maxLen is the length of the longest token: longer pieces need not
	// be looked up whole.
	maxLen int
}

type vocabSlot struct {
	key uint64
	// meta is rank | len<<24 | arena offset<<40 (the offset only for
	// tokens over eight bytes).
	meta uint64
}

const (
	metaRankBits = 24
	metaLenBits  = 16
	metaOffShift = metaRankBits + metaLenBits
)

func newVocabTable(toks []string) (*vocabTable, error) {
	if len(toks) > 1<<metaRankBits {
		return nil, fmt.Errorf("chunk: %d token ids, too many", len(toks))
	}
	v := &vocabTable{byte2: make([]uint32, 1<<16), char3: make([]uint32, 1<<16)}
	for i := range v.byte1 {
		v.byte1[i] = noRank
	}
	for i := range v.byte2 {
		v.byte2[i] = noRank
		v.char3[i] = noRank
	}
	longs, arenaLen := 0, 0
	for id, tok := range toks {
		if len(tok) >= 1<<metaLenBits {
			return nil, fmt.Errorf("chunk: token %d has length %d", id, len(tok))
		}
		v.maxLen = max(v.maxLen, len(tok))
		rank := uint32(id)
		switch len(tok) {
		case 0: // unused id
		case 1:
			if v.byte1[tok[0]] != noRank {
				return nil, fmt.Errorf("chunk: duplicate token %q", tok)
			}
			v.byte1[tok[0]] = rank
		case 2:
			i := int(tok[0])<<8 | int(tok[1])
			if v.byte2[i] != noRank {
				return nil, fmt.Errorf("chunk: duplicate token %q", tok)
			}
			v.byte2[i] = rank
		case 3:
			if i, ok := char3Index(tok); ok {
				if v.char3[i] != noRank {
					return nil, fmt.Errorf("chunk: duplicate token %q", tok)
				}
				v.char3[i] = rank
				break
			}
			longs++
		default:
			longs++
			if len(tok) > 8 {
				arenaLen += len(tok)
			}
		}
	}
	for b, r := range v.byte1 {
		if r == noRank {
			return nil, fmt.Errorf("chunk: byte %#x is not a token", b)
		}
	}
	if arenaLen >= 1<<(64-metaOffShift) {
		return nil, fmt.Errorf("chunk: vocabulary too large (%d bytes)", arenaLen)
	}

	// At most half full, so that probes (of the tags) stay short.
	size := 1 << bits.Len(uint(longs*2))
	v.slots = make([]vocabSlot, size)
	v.tags = make([]uint8, size)
	v.shift = uint(64 - bits.TrailingZeros(uint(size)))
	v.mask = uint64(size - 1)

	arena := make([]byte, 0, arenaLen)
	for id, tok := range toks {
		if !v.inTable(tok) {
			continue
		}
		key, h := hashToken(tok)
		i := h >> v.shift
		for ; v.tags[i] != 0; i = (i + 1) & v.mask {
			if toks[v.slots[i].meta&(1<<metaRankBits-1)] == tok {
				return nil, fmt.Errorf("chunk: duplicate token %q", tok)
			}
		}
		meta := uint64(id) | uint64(len(tok))<<metaRankBits
		if len(tok) > 8 {
			meta |= uint64(len(arena)) << metaOffShift
			arena = append(arena, tok...)
		}
		v.slots[i] = vocabSlot{key: key, meta: meta}
		v.tags[i] = v.tag(h)
	}
	v.arena = string(arena)
	return v, nil
}

// inTable reports whether tok belongs in the hash table rather than in one
// of the arrays.
func (v *vocabTable) inTable(tok string) bool {
	if len(tok) == 3 {
		_, ok := char3Index(tok)
		return !ok
	}
	return len(tok) > 3
}

// rank returns the rank of token s, or noRank if s is not a token.
func (v *vocabTable) rank(s string) uint32 {
	switch len(s) {
	case 0:
		return noRank
	case 1:
		return v.byte1[s[0]]
	case 2:
		return v.byte2[int(s[0])<<8|int(s[1])]
	case 3:
		if i, ok := char3Index(s); ok {
			return v.char3[i]
		}
	}
	return v.lookup(s)
}

// char3Index maps a three-byte string of the form of char3 to its index.
func char3Index(s string) (int, bool) {
	_ = s[2]
	if s[0]&0xF0 != 0xE0 || s[1]&0xC0 != 0x80 || s[2]&0xC0 != 0x80 {
		return 0, false
	}
	return int(s[0]&0x0F)<<12 | int(s[1]&0x3F)<<6 | int(s[2]&0x3F), true
}

// lookup finds a token of three or more bytes in the hash table.
func (v *vocabTable) lookup(s string) uint32 {
	key, h := hashToken(s)
	n := uint64(len(s))
	tag := v.tag(h)
	for i := h >> v.shift; ; i = (i + 1) & v.mask {
		t := v.tags[i]
		if t == 0 {
			return noRank
		}
		if t != tag {
			continue
		}
		sl := &v.slots[i]
		if sl.key != key || sl.meta>>metaRankBits&(1<<metaLenBits-1) != n {
			continue
		}
		if n > 8 {
			off := sl.meta >> metaOffShift
			if v.arena[off+8:off+n] != s[8:] {
				continue
			}
		}
		return uint32(sl.meta & (1<<metaRankBits - 1))
	}
}

// tag returns the tag byte of a token with hash h: the seven bits below
// those that index the table.
func (v *vocabTable) tag(h uint64) uint8 {
	return uint8(h>>(v.shift-8)) | 0x80
}

const (
	hashMul1 = 0x9E3779B97F4A7C15
	hashMul2 = 0xBF58476D1CE4E5B9
)

// hashToken returns the first eight bytes of s (zero-padded, little
// endian) and a hash of all of s, whose high bits index the table. s has at
// least three bytes.
func hashToken(s string) (key, h uint64) {
	n := len(s)
	switch {
	case n >= 8:
		key = load64(s)
	case n >= 4:
		key = uint64(load32(s)) | uint64(load32(s[n-4:]))<<(8*(n-4))
	default:
		key = uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16
	}
	h = (key ^ uint64(n)) * hashMul1
	if n > 8 {
		for i := 8; i+8 <= n; i += 8 {
			h = (h ^ load64(s[i:]) ^ h>>29) * hashMul2
		}
		h = (h ^ load64(s[n-8:]) ^ h>>29) * hashMul1
	}
	return key, h
}

func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// mergeScratch holds the buffers of one encodePiece call, reused through a
// sync.Pool so that merging does not allocate.
type mergeScratch struct {
	pos  []int32  // scan: part start offsets; heap: next links
	rank []uint32 // rank of the token formed by part i and part i+1
	prev []int32
	heap []uint64 // candidates, rank<<32 | offset
	out  []int32  // token end offsets, relative to the piece
}

// scanMax is the longest piece merged by a linear scan for the lowest rank
// (quadratic, but fast on short pieces); longer ones use a heap.
const scanMax = 24

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// encodePiece returns the number of tokens piece encodes to. If wantEnds is
// set, sc.out receives each token's end offset within piece.
//
// Like tiktoken, it repeatedly merges the adjacent pair of parts that forms
// the token of lowest rank, the leftmost on ties, starting from bytes.
func (v *vocabTable) encodePiece(sc *mergeScratch, piece string, wantEnds bool) int {
	n := len(piece)
	if n <= v.maxLen {
		if v.rank(piece) != noRank {
			if wantEnds {
				sc.out = append(sc.out[:0], int32(n))
			}
			return 1
		}
	}
	if n <= scanMax {
		return v.mergeScan(sc, piece, wantEnds)
	}
	return v.mergeHeap(sc, piece, wantEnds)
}

// mergeScan merges with a linear scan per merge, as the codec's
// mergePairsScan does. n >= 2 (single bytes are tokens).
func (v *vocabTable) mergeScan(sc *mergeScratch, piece string, wantEnds bool) int {
	n := len(piece)
	sc.pos = grow(sc.pos, n+1)
	sc.rank = grow(sc.rank, n+1)
	pos, rank := sc.pos[:n+1], sc.rank[:n+1]
	for i := range pos {
		pos[i] = int32(i)
	}
	for i := 0; i+1 < n; i++ {
		rank[i] = v.byte2[int(piece[i])<<8|int(piece[i+1])]
	}
	rank[n-1], rank[n] = noRank, noRank
	m := n + 1 // boundaries; parts = m-1
	for m > 2 {
		// rank<<32 | index, minimized without branches: the lowest
		// rank, leftmost on ties.
		best := uint64(noRank) << 32
		for i, r := range rank[:m-2] {
			best = min(best, uint64(r)<<32|uint64(i))
		}
		if uint32(best>>32) == noRank {
			break
		}
		mi := int(uint32(best))
		copy(pos[mi+1:m-1], pos[mi+2:m])
		copy(rank[mi+1:m-1], rank[mi+2:m])
		m--
		rank[mi] = noRank
		if mi+2 < m {
			rank[mi] = v.rank(piece[pos[mi]:pos[mi+2]])
		}
		if mi > 0 {
			rank[mi-1] = v.rank(piece[pos[mi-1]:pos[mi+1]])
		}
	}
	if wantEnds {
		sc.out = append(sc.out[:0], pos[1:m]...)
	}
	return m - 1
}

// mergeHeap merges with a min-heap of candidate pairs over a linked list of
// parts, as the codec's mergePairsHeap does for long pieces: O(n log n).
func (v *vocabTable) mergeHeap(sc *mergeScratch, piece string, wantEnds bool) int {
	n := int32(len(piece))
	sc.pos = grow(sc.pos, int(n)+1)
	sc.prev = grow(sc.prev, int(n)+1)
	sc.rank = grow(sc.rank, int(n)+1)
	next, prev, rank := sc.pos[:n+1], sc.prev[:n+1], sc.rank[:n+1]
	h := sc.heap[:0]
	for i := range n + 1 {
		next[i], prev[i], rank[i] = i+1, i-1, noRank
	}
	next[n] = -1
	for i := int32(0); i+1 < n; i++ {
		if r := v.byte2[int(piece[i])<<8|int(piece[i+1])]; r != noRank {
			rank[i] = r
			h = append(h, uint64(r)<<32|uint64(i))
		}
	}
	heapInit(h)
	parts := int(n)
	for len(h) > 0 {
		top := h[0]
		h = heapPop(h)
		i := int32(uint32(top))
		if rank[i] != uint32(top>>32) {
			continue // stale: the pair changed since it was pushed
		}
		j := next[i]
		k := next[j]
		rank[j] = noRank
		next[i] = k
		if k >= 0 {
			prev[k] = i
		}
		parts--
		for _, b := range [2]int32{i, prev[i]} {
			if b < 0 {
				continue
			}
			r := noRank
			if c := next[b]; c >= 0 {
				if d := next[c]; d >= 0 {
					r = v.rank(piece[b:d])
				}
			}
			rank[b] = r
			if r != noRank {
				h = heapPush(h, uint64(r)<<32|uint64(b))
			}
		}
	}
	sc.heap = h
	if wantEnds {
		out := sc.out[:0]
		for i := next[0]; i >= 0; i = next[i] {
			out = append(out, i)
		}
		sc.out = out
	}
	return parts
}

// The heap orders candidates by rank, then offset: among equal ranks the
// leftmost pair merges first.

func heapInit(h []uint64) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		heapDown(h, i)
	}
}

func heapPush(h []uint64, x uint64) []uint64 {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= x {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
	return h
}

func heapPop(h []uint64) []uint64 {
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	if last > 0 {
		heapDown(h, 0)
	}
	return h
}

func heapDown(h []uint64, i int) {
	x := h[i]
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1] < h[c] {
			c++
		}
		if x <= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}
