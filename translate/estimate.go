package translate

import (
	"github.com/xlate/xlate/chunk"
)

// Estimate is what translating an article would take, worked out without a
// request: the same cache lookups and chunks as Translate.
type Estimate struct {
	Segments     int // distinct texts needing translation (title included)
	Cached       int // of those, served from the cache
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
	all := append([]string{in.Title}, in.Texts...)
	var (
		e     Estimate
		items []chunk.Item
		seen  = map[string]bool{}
	)
	for i, s := range all {
		if !NeedsTranslation(s) {
			continue
		}
		e.SourceTokens += t.counter.Count(s)
		if seen[s] {
			continue
		}
		seen[s] = true
		e.Segments++
		if _, ok := t.store.Get(t.key(s)); ok {
			e.Cached++
			continue
		}
		masked, _ := mask(s)
		items = append(items, chunk.Item{ID: i, Text: masked})
	}
	if len(items) == 0 {
		return e
	}
	e.Brief = in.Brief && sentShare(all, items) >= minBriefShare
	chunks := chunk.Split(items, t.opts.Budget, t.counter)
	e.Chunks = len(chunks)
	kind := briefNone
	switch {
	case e.Brief && len(chunks) == 1:
		kind = briefSummary
	case e.Brief:
		kind = briefNote
	}
	// Each chunk's first request, exactly as translateItems would build it.
	for _, c := range chunks {
		texts := make([]string, len(c.Pieces))
		for i, p := range c.Pieces {
			texts[i] = p.Text
		}
		system, user := t.request(job{title: in.Title, prev: previous(all, c.Pieces[0]), brief: kind}, texts)
		e.InputTokens += t.counter.Count(system) + t.counter.Count(user)
		e.OutputTokens += int(float64(c.Tokens) * outputPerSource)
		if e.Brief {
			e.OutputTokens += 60 // a note, or a summary
		}
	}
	return e
}
