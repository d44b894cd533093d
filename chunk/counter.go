package chunk

import (
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// Counter counts the tokens a model would see for a text.
//
// Implementations must be safe for concurrent use and must not fail: a
// counter that cannot tokenize a text should return an upper bound (such as
// its length in bytes) rather than zero.
type Counter interface {
	Count(text string) int
}

// codec is tiktoken-go's o200k_base codec (the encoding of GPT-4o, GPT-4.1,
// GPT-5 and the o-series), built on first use: its vocabulary is compiled
// into github.com/tiktoken-go/tokenizer as Go source and loaded into a map
// the first time a codec is made (about 40 ms), so a run that never counts
// never pays for it. Counting never touches the network or the filesystem.
// The codec only reads its vocabulary after construction and its split
// regexp (regexp2) is safe for concurrent use, so one codec serves every
// counter and goroutine.
var codec = sync.OnceValues(func() (tokenizer.Codec, error) {
	c, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil, fmt.Errorf("chunk: load o200k_base: %w", err)
	}
	return c, nil
})

// memoShards is the number of independently locked parts of a memo, so
// that goroutines counting different texts rarely wait for each other.
const memoShards = 64

// memo remembers token counts by a 64-bit hash of the text (maphash, with
// a seed of the process's own). Only the hash and the count are kept, never
// the text, so a memo costs 20 to 40 bytes per distinct text (38 for a
// million texts) however long the texts are. Two texts whose hashes collide
// would share a count; with 64 bits that takes billions of distinct texts to
// become likely.
type memo struct {
	seed   maphash.Seed
	shards [memoShards]struct {
		mu sync.Mutex
		m  map[uint64]uint32
	}
}

func newMemo() *memo {
	m := &memo{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = map[uint64]uint32{}
	}
	return m
}

// count returns the memoized count of text, calling f on a miss. Two
// goroutines that miss the same text at once both call f; the counts are
// equal.
func (m *memo) count(text string, f func(string) int) int {
	h := maphash.String(m.seed, text)
	s := &m.shards[h%memoShards]
	s.mu.Lock()
	n, ok := s.m[h]
	s.mu.Unlock()
	if ok {
		return int(n)
	}
	k := f(text)
	s.mu.Lock()
	s.m[h] = uint32(min(k, 1<<32-1))
	s.mu.Unlock()
	return k
}

// bpe is the o200k_base Counter: tiktoken-go's codec behind a memo, so that
// a text counted once (a segment measured by Split, then again for a
// request's size or an estimate) is never tokenized again.
type bpe struct {
	memo *memo
}

// NewCounter returns a Counter for the o200k_base encoding: tiktoken-go's
// codec, with a memo of its own. The codec is shared and loaded once per
// process (about 40 ms, which the first NewCounter pays). It is safe
// for concurrent use. Most callers want [Default], which shares one memo.
func NewCounter() (Counter, error) {
	if _, err := codec(); err != nil {
		return nil, err
	}
	return &bpe{memo: newMemo()}, nil
}

// Count returns the number of o200k_base tokens in text. If the codec
// cannot be loaded or reports an error it returns len(text), an upper bound
// for a byte-level BPE.
func (b *bpe) Count(text string) int {
	if text == "" {
		return 0
	}
	return b.memo.count(text, countO200k)
}

// countO200k tokenizes text with the codec.
func countO200k(text string) int {
	c, err := codec()
	if err != nil {
		// Unreachable with the pinned tokenizer module (o200k_base is
		// built in); counting bytes over-estimates but stays safe.
		return len(text)
	}
	n, err := c.Count(text)
	if err != nil {
		return len(text)
	}
	return n
}

// defaultCounter is the Counter Default returns. Making it allocates the
// memo only; the codec is loaded by the first Count.
var defaultCounter = &bpe{memo: newMemo()}

// Default returns the shared o200k_base Counter, whose memo lasts the whole
// process. The vocabulary is loaded on the first count, not here, so a run
// that counts nothing (a re-run served from the cache) never pays for it.
// It is safe for concurrent use.
func Default() Counter {
	return defaultCounter
}
