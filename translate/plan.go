package translate

import (
	"strconv"
	"strings"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/lang"
)

// Request is one translation request as planned: described fully enough
// to be sent now (Translate), written elsewhere (a line of a batch file)
// and its answer judged later by Accept, in another process.
type Request struct {
	System string  `json:"system,omitempty"`
	User   string  `json:"user,omitempty"`
	Brief  string  `json:"brief,omitempty"` // "summary", "note" or "": what Options.Extra it carries
	Pieces []Piece `json:"pieces"`          // one per <seg>, in order
	// Tokens is the request's prompt size in tokens and Answer the
	// answer's expected size; not kept in manifests.
	Tokens int `json:"-"`
	Answer int `json:"-"`

	job job // the context its re-asks are built with
}

// Piece is one <seg> of a Request.
type Piece struct {
	Source string `json:"source,omitempty"` // the whole segment, as in Input
	Text   string `json:"text"`             // what was sent: Source or a part of it, URLs masked
	Part   int    `json:"part,omitempty"`   // index of the part, when Parts > 1
	Parts  int    `json:"parts,omitempty"`  // number of parts Source was split into (0 or 1: whole)

	id int // index into the article's segments (0: the title)
}

// Plan is how an article's segments become requests.
type Plan struct {
	Requests     []Request
	Segments     int // distinct texts needing translation (title included)
	Cached       int // of those, served from the cache
	Shared       int // of those, claimed by another article (PlanOptions.Claim)
	Pinned       int // texts a person translated (Input.Pinned), repeats included: never planned
	SourceTokens int // tokens of all texts needing translation, repeats included
	// Brief tells that the requests ask for Options.Extra.
	Brief bool
}

// Missing is the number of distinct texts the cache lacks.
func (p Plan) Missing() int { return p.Segments - p.Cached }

// InputTokens are the planned requests' prompt tokens; OutputTokens their
// expected answers'.
func (p Plan) InputTokens() (n int) {
	for _, r := range p.Requests {
		n += r.Tokens
	}
	return n
}

func (p Plan) OutputTokens() (n int) {
	for _, r := range p.Requests {
		n += r.Answer
	}
	return n
}

// PlanOptions adjust Plan.
type PlanOptions struct {
	// Claim is called with the cache key of each text the cache lacks and
	// reports whether this article asks for it: false when another
	// article's requests carry it (a paragraph repeated across files is
	// asked for once). nil claims everything.
	Claim func(key string) bool
	// SkipParts leaves out the parts of a long segment that Accept already
	// stored (a batch round after a partial answer).
	SkipParts bool
}

// Plan returns the requests that Translate(in) would send first, without
// sending any. It is the one place that decides how an article's
// segments become requests: Translate sends them, a dry run counts them,
// a batch writes them.
func (t *Translator) Plan(in Input, opts PlanOptions) Plan {
	admit := func(_ int, key string) bool { return opts.Claim == nil || opts.Claim(key) }
	return t.plan(in, memo(t.counter), admit, nil, planFlags{skipParts: opts.SkipParts})
}

// planFlags adjust plan.
type planFlags struct {
	skipParts bool // see PlanOptions.SkipParts
	fresh     bool // plan as if the cache were empty
}

// plan is Plan's work. Index 0 of the article's segments is the title;
// the texts follow. Texts without Chinese are kept; a text repeated in the
// article is planned once; a text the cache holds is not planned, and its
// translation goes to known (when non-nil) at its index; admit decides, for
// each other text, whether this call asks for it.
func (t *Translator) plan(in Input, counter *memoCounter, admit func(i int, key string) bool, known []string, f planFlags) Plan {
	all := append([]string{in.Title}, in.Texts...)
	var (
		p     Plan
		items []chunk.Item
		seen  = map[string]bool{}
	)
	for i, s := range all {
		if in.pinned(s) {
			p.Pinned++
			if known != nil {
				known[i] = in.Pinned[s]
			}
			continue
		}
		if !lang.NeedsTranslation(s) {
			continue
		}
		if seen[s] {
			p.SourceTokens += counter.Count(s)
			continue
		}
		seen[s] = true
		p.Segments++
		key := t.key(s)
		if v, ok := t.store.Get(key); ok && !f.fresh {
			if text, n, ok := decodeEntry(v); ok {
				p.Cached++
				p.SourceTokens += n
				counter.m[s] = n
				if known != nil {
					known[i] = text
				}
				continue
			}
		}
		p.SourceTokens += counter.Count(s)
		if !admit(i, key) {
			p.Shared++
			continue
		}
		masked, _ := mask(s)
		items = append(items, chunk.Item{ID: i, Text: masked})
	}
	if len(items) == 0 {
		return p
	}
	p.Brief = in.Brief && t.opts.Extra != nil && sentShare(all, items) >= minBriefShare
	chunks := chunk.Split(items, t.opts.Budget, counter)
	kind := briefFor(p.Brief, len(chunks))
	for _, c := range chunks {
		var (
			texts  []string
			pieces []Piece
		)
		for _, cp := range c.Pieces {
			pc := Piece{Source: all[cp.ID], Text: cp.Text, id: cp.ID}
			if cp.Parts > 1 {
				pc.Part, pc.Parts = cp.Part, cp.Parts
				if _, ok := t.store.Get(t.partKey(pc.Source, cp.Part, cp.Parts)); ok && f.skipParts {
					continue
				}
			}
			texts = append(texts, cp.Text)
			pieces = append(pieces, pc)
		}
		if len(pieces) == 0 {
			continue
		}
		j := job{title: in.Title, prev: previous(all, c.Pieces[0].ID), brief: kind}
		system, context := t.requestParts(j, texts)
		var b strings.Builder
		b.WriteString(context)
		formatSegments(&b, texts)
		p.Requests = append(p.Requests, Request{System: system, User: b.String(), Brief: briefNames[kind], Pieces: pieces,
			Tokens: counter.Count(system) + counter.Count(context) + c.Tokens, Answer: answerTokens(c.Tokens, kind), job: j})
	}
	return p
}

// Parts returns how the article in falls into requests when nothing is
// cached, as its notes for a summary were written (Options.Extra): for
// each request, the texts of its segments as sent, and the translation of
// those segments, out being in's translation.
func (t *Translator) Parts(in Input, out Output) (sent [][]string, translated []string) {
	tr := append([]string{out.Title}, out.Texts...)
	plan := t.plan(Input{Title: in.Title, Texts: in.Texts}, memo(t.counter), func(int, string) bool { return true }, nil, planFlags{fresh: true})
	for _, r := range plan.Requests {
		var (
			texts []string
			b     strings.Builder
		)
		for i, p := range r.Pieces {
			texts = append(texts, p.Text)
			if i == 0 || p.id != r.Pieces[i-1].id {
				b.WriteString(tr[p.id] + "\n")
			}
		}
		sent = append(sent, texts)
		translated = append(translated, strings.TrimSpace(b.String()))
	}
	return sent, translated
}

// minBriefShare is the least share of an article's text that must go to the
// model for it to write the summary (or notes) too: paragraphs served from
// the cache are mostly boilerplate repeated across articles, which a summary
// can miss.
const minBriefShare = 0.7

// sentShare is the share (in bytes) of the article's text that goes to the
// model in items.
func sentShare(all []string, items []chunk.Item) float64 {
	var sent, total int
	for _, it := range items {
		sent += len(all[it.ID])
	}
	for _, s := range all {
		total += len(s)
	}
	if total == 0 {
		return 0
	}
	return float64(sent) / float64(total)
}

// partKey is the cache key of the translation of one part of a segment
// that was split across requests (masked, as the model wrote it). Parts
// depend on the budget the segment was split for, so the key has it.
func (t *Translator) partKey(source string, part, parts int) string {
	return cache.Key("part", t.key(source), strconv.Itoa(t.opts.Budget), strconv.Itoa(part), strconv.Itoa(parts))
}

// outputPerSource is the expected answer tokens per source token (o200k
// counts an English translation of Chinese at about 1.1 to 1.4 times the
// Chinese) plus the tags of the answer.
const outputPerSource = 1.3

// answerTokens is the expected answer size of a request whose segments
// take tokens, with a note or summary when kind asks for one.
func answerTokens(tokens int, kind brief) int {
	n := int(float64(tokens) * outputPerSource)
	if kind != briefNone {
		n += 60 // a note, or a summary
	}
	return n
}

// memoCounter remembers counts, so that one call counts each text (and
// each system prompt) once. Not safe for concurrent use: one per call.
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
