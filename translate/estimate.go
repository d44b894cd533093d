package translate

import (
	"github.com/xlate/xlate/chunk"
)

// Estimate is what translating an article would take, worked out without a
// request: the same cache lookups and chunks as Translate.
type Estimate struct {
	Segments     int // distinct texts needing translation (title included)
	Cached       int // of those, served from the cache
	Shared       int // of those, claimed by another article (see EstimateShared)
	Chunks       int // requests (before any retry)
	SourceTokens int // tokens of all texts needing translation, repeats included
	InputTokens  int // prompt tokens of the requests
	OutputTokens int // expected answer tokens
	Brief        bool
}

// outputPerSource is the expected answer tokens per source token (o200k
// counts an English translation of Chinese at about 1.1 to 1.4 times the
// Chinese) plus the tags of the answer.
const outputPerSource = 1.3

// Estimate works out what Translate(in) would send, consulting the cache: the
// requests are built as Translate builds them (prompts, context, glossary
// lines), so their input tokens are counted, not guessed.
func (t *Translator) Estimate(in Input) Estimate {
	return t.EstimateShared(in, nil)
}

// EstimateShared is Estimate for one article of many: claim is called with
// the cache key of each text the cache does not hold, and reports whether
// this article is the first to need it. A text another article claimed is
// counted as Shared and left out of the requests, as a run asks for a
// paragraph once however many files repeat it. claim must be safe for
// concurrent use if the calls are concurrent; nil claims everything.
func (t *Translator) EstimateShared(in Input, claim func(key string) bool) Estimate {
	all := append([]string{in.Title}, in.Texts...)
	var (
		e     Estimate
		items []chunk.Item
		seen  = map[string]bool{}
	)
	counter := memo(t.counter)
	for i, s := range all {
		if !NeedsTranslation(s) {
			continue
		}
		if seen[s] {
			e.SourceTokens += counter.Count(s)
			continue
		}
		seen[s] = true
		e.Segments++
		key := t.key(s)
		if v, ok := t.store.Get(key); ok {
			if _, n, ok := decodeEntry(v); ok {
				e.Cached++
				e.SourceTokens += n
				counter.m[s] = n
				continue
			}
		}
		e.SourceTokens += counter.Count(s)
		if claim != nil && !claim(key) {
			e.Shared++
			continue
		}
		masked, _ := mask(s)
		items = append(items, chunk.Item{ID: i, Text: masked})
	}
	if len(items) == 0 {
		return e
	}
	e.Brief = in.Brief && sentShare(all, items) >= minBriefShare
	chunks := chunk.Split(items, t.opts.Budget, counter)
	e.Chunks = len(chunks)
	kind := briefFor(e.Brief, len(chunks))
	// Each chunk's first request as translateItems builds it: the system
	// message, the context lines, and the segments, whose tokens (wrappers
	// included) the chunker has counted already.
	for _, c := range chunks {
		texts := make([]string, len(c.Pieces))
		for i, p := range c.Pieces {
			texts[i] = p.Text
		}
		system, context := t.requestParts(job{title: in.Title, prev: previous(all, c.Pieces[0]), brief: kind}, texts)
		e.InputTokens += counter.Count(system) + counter.Count(context) + c.Tokens
		e.OutputTokens += answerTokens(c.Tokens, kind)
	}
	return e
}

// memoCounter remembers counts, so that one call counts each text (and
// each system prompt) once: BPE counting is the costliest step of a dry
// run. Not safe for concurrent use: one per call.
type memoCounter struct {
	c chunk.Counter
	m map[string]int
}

func memo(c chunk.Counter) *memoCounter { return &memoCounter{c: c, m: map[string]int{}} }

func (m *memoCounter) Count(s string) int {
	if n, ok := m.m[s]; ok {
		return n
	}
	n := m.c.Count(s)
	m.m[s] = n
	return n
}

// answerTokens is the expected answer size of a request whose segments
// take tokens, with a note or summary when kind asks for one.
func answerTokens(tokens int, kind brief) int {
	n := int(float64(tokens) * outputPerSource)
	if kind != briefNone {
		n += 60 // a note, or a summary
	}
	return n
}
