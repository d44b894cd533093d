package chunk

import (
	"fmt"
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

// bpe is the real byte-pair-encoding Counter built on tiktoken's o200k_base
// vocabulary (the encoding of GPT-4o, GPT-4.1, GPT-5 and the o-series).
//
// The vocabulary is compiled into github.com/tiktoken-go/tokenizer as Go
// source, so counting never touches the network or the filesystem. The codec
// only reads its vocabulary map after construction, and its split regexp
// (regexp2) is documented as safe for concurrent use, so one bpe serves every
// goroutine.
type bpe struct {
	codec tokenizer.Codec
}

// NewCounter returns a Counter for the o200k_base encoding. Building one
// parses a large vocabulary (tens of milliseconds, shared between calls), so
// build it once and reuse it; it is safe for concurrent use. Most callers
// want [Default].
func NewCounter() (Counter, error) {
	codec, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil, fmt.Errorf("chunk: load o200k_base: %w", err)
	}
	return &bpe{codec: codec}, nil
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

// Default returns a shared o200k_base Counter, built on first use. It is safe
// for concurrent use.
func Default() Counter {
	return defaultCounter()
}
