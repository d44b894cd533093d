package chunk

import (
	"fmt"
	"runtime"
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

// bpe is the byte-pair-encoding Counter of tiktoken-go's codec for the
// o200k_base vocabulary (the encoding of GPT-4o, GPT-4.1, GPT-5 and the
// o-series). NewCounter returns the faster fastBPE, which counts the same;
// bpe is its fallback and, in tests, its reference.
//
// The vocabulary is compiled into github.com/tiktoken-go/tokenizer as Go
// source, so counting never touches the network or the filesystem. The codec
// only reads its vocabulary map after construction, and its split regexp
// (regexp2) is documented as safe for concurrent use, so one bpe serves every
// goroutine.
type bpe struct {
	codec tokenizer.Codec
}

// NewCounter returns a Counter for the o200k_base encoding. It counts
// exactly as tiktoken-go's codec does, with a faster splitter and merge
// (see fastBPE). Building one loads a large vocabulary and indexes it (tens
// of milliseconds), so build it once and reuse it; it is safe for concurrent
// use. Most callers want [Default].
func NewCounter() (Counter, error) {
	codec, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil, fmt.Errorf("chunk: load o200k_base: %w", err)
	}
	f, err := newFastBPEFromCodec(codec)
	if err != nil {
		// Unexpected with the pinned module; the codec itself still
		// counts correctly, only slower.
		return &bpe{codec: codec}, nil
	}
	return f, nil
}

// o200kMaxID bounds the token ids tried when reading the vocabulary; the
// o200k_base vocabulary has ids 0 to 199997 (the special tokens, which the
// codec never emits for plain text, are not in it).
const o200kMaxID = 200_000

// newFastBPEFromCodec reads every token out of codec with Decode (its
// vocabulary map is unexported) and builds a fastBPE over them. Decode is
// safe for concurrent use, so the ids are split between a few goroutines.
func newFastBPEFromCodec(codec tokenizer.Codec) (*fastBPE, error) {
	toks := make([]string, o200kMaxID)
	// The first Decode builds the codec's reverse vocabulary.
	if _, err := codec.Decode([]uint{0}); err != nil {
		return nil, fmt.Errorf("chunk: decode o200k_base: %w", err)
	}
	workers := min(runtime.GOMAXPROCS(0), 4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ids := make([]uint, 1)
			for id := w; id < len(toks); id += workers {
				ids[0] = uint(id)
				if tok, err := codec.Decode(ids); err == nil {
					toks[id] = tok
				}
			}
		})
	}
	wg.Wait()
	f, err := newFastBPE(toks)
	if err != nil {
		return nil, fmt.Errorf("chunk: index o200k_base: %w", err)
	}
	return f, nil
}

// Count returns the number of o200k_base tokens in text. If the tokenizer
// reports an error it returns len(text), an upper bound for a byte-level BPE.
func (b *bpe) Count(text string) int {
	n, err := b.codec.Count(text)
	if err != nil {
		return len(text)
	}
	return n
}

// tokenEnds returns the byte offset at which each token of text ends, as the
// whole text tokenizes. It returns nil if the offsets do not line up with
// text (the codec replaces invalid UTF-8, which changes byte lengths).
func (b *bpe) tokenEnds(text string) []int {
	_, toks, err := b.codec.Encode(text)
	if err != nil {
		return nil
	}
	ends := make([]int, len(toks))
	off := 0
	for i, t := range toks {
		off += len(t)
		ends[i] = off
	}
	if off != len(text) {
		return nil
	}
	return ends
}

// ender is implemented by counters that can report token end offsets; the
// splitter uses them to guess cut points instead of searching for them.
type ender interface {
	tokenEnds(text string) []int
}

// byteCounter counts one token per byte: the upper bound of any byte-level
// BPE. It is the fallback if the real tokenizer cannot be built.
type byteCounter struct{}

func (byteCounter) Count(text string) int { return len(text) }

var defaultCounter = sync.OnceValue(func() Counter {
	c, err := NewCounter()
	if err != nil {
		// Unreachable with the pinned tokenizer module (o200k_base is
		// built in); counting bytes over-estimates but stays safe.
		return byteCounter{}
	}
	return c
})

// Default returns the shared o200k_base Counter. The vocabulary is loaded
// on the first count, not here, so a run that counts nothing (a re-run
// served from the cache) never pays for it. It is safe for concurrent use.
func Default() Counter {
	return lazy{}
}

// lazy is the Counter Default returns: defaultCounter, built on first use.
type lazy struct{}

func (lazy) Count(text string) int { return defaultCounter().Count(text) }

func (lazy) tokenEnds(text string) []int {
	if e, ok := defaultCounter().(ender); ok {
		return e.tokenEnds(text)
	}
	return nil
}
