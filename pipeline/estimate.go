package pipeline

import (
	"hash/maphash"
	"strconv"
	"sync"

	"github.com/xlate/xlate/translate"
)

// Estimate is what processing files would take, worked out without any
// request (a dry run).
type Estimate struct {
	Files          int
	Segments       int // distinct texts needing translation
	CachedSegments int
	SharedSegments int // asked for by another file's requests
	Chunks         int // translation requests
	Requests       int // all requests: translations and summaries
	SourceTokens   int
	InputTokens    int
	OutputTokens   int
}

func (e *Estimate) add(o Estimate) {
	e.Files += o.Files
	e.Segments += o.Segments
	e.CachedSegments += o.CachedSegments
	e.SharedSegments += o.SharedSegments
	e.Chunks += o.Chunks
	e.Requests += o.Requests
	e.SourceTokens += o.SourceTokens
	e.InputTokens += o.InputTokens
	e.OutputTokens += o.OutputTokens
}

// Rough sizes of summary requests, for estimates: the instructions, one
// note, and the answer.
const (
	summaryPromptTokens = 110
	noteTokens          = 45
	summaryAnswerTokens = 90
	englishPerSource    = 1.3 // English tokens per Chinese source token
)

// Estimate works out what Article would request for an input, consulting
// the cache, without sending anything.
func (p *Pipeline) Estimate(data []byte) (Estimate, error) {
	return p.estimate(data, nil)
}

// estimate is Estimate for an output that replaces what pr describes: its
// edits are used as pins already.
func (p *Pipeline) estimate(data []byte, pr *prior) (Estimate, error) {
	a, texts, err := p.load(data)
	if err != nil {
		return Estimate{}, err
	}
	wantSum := p.Summarizer != nil && len(texts) > 0 && !p.Summarizer.Has(a.Title, texts)
	if wantSum {
		_, _, pinned := p.pinnedSummary(pr, a)
		wantSum = !pinned
	}
	// Across files, a paragraph is asked for once (the cache or a request
	// in flight serves its repeats): the first file to plan it claims it.
	in := translate.Input{Title: a.Title, Texts: texts, Brief: wantSum, Pinned: p.pins(pr, a.Title, texts)}
	t := p.Translator.Plan(in, translate.PlanOptions{Claim: p.claims.Claim})
	chunks := len(t.Requests)
	e := Estimate{
		Files:          1,
		Segments:       t.Segments,
		CachedSegments: t.Cached,
		SharedSegments: t.Shared,
		Chunks:         chunks,
		Requests:       chunks,
		SourceTokens:   t.SourceTokens,
		InputTokens:    t.InputTokens(),
		OutputTokens:   t.OutputTokens(),
	}
	if !wantSum || (t.Brief && chunks == 1) {
		return e, nil // no summary, or it rides on the one translation request
	}
	// A combine request over the chunk notes, or a reading of the English.
	e.Requests++
	e.OutputTokens += summaryAnswerTokens
	if t.Brief {
		e.InputTokens += summaryPromptTokens + noteTokens*chunks
	} else {
		e.InputTokens += summaryPromptTokens + int(float64(t.SourceTokens)*englishPerSource)
	}
	return e, nil
}

// Claims remembers which texts have been planned (by a dry run, or by a
// batch), by the first 64 bits of their cache key (hex SHA-256): 8 bytes a
// text, so that planning an archive of millions of paragraphs stays small.
// The zero value is ready; it is safe for concurrent use.
type Claims struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

// Claim reports whether key was not claimed before, and claims it.
func (c *Claims) Claim(key string) bool {
	h, err := strconv.ParseUint(key[:min(16, len(key))], 16, 64)
	if err != nil {
		h = maphash.String(claimSeed, key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[uint64]struct{}{}
	}
	if _, ok := c.seen[h]; ok {
		return false
	}
	c.seen[h] = struct{}{}
	return true
}

var claimSeed = maphash.MakeSeed()
