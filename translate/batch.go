package translate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
)

// Request is one translation request as Translate would first send it,
// described fully enough to be sent elsewhere (a line of a batch file) and
// its answer judged later by Accept, in another process.
type Request struct {
	System string  `json:"system,omitempty"`
	User   string  `json:"user,omitempty"`
	Brief  string  `json:"brief,omitempty"` // "summary", "note" or ""
	Pieces []Piece `json:"pieces"`          // one per <seg>, in order
	// Tokens is the request's prompt size in tokens (o200k) and Answer
	// the answer's expected size, as Plan and Estimate work them out; not
	// kept in manifests.
	Tokens int `json:"-"`
	Answer int `json:"-"`
}

// Piece is one <seg> of a Request.
type Piece struct {
	Source string `json:"source,omitempty"` // the whole segment, as in Input
	Text   string `json:"text"`             // what was sent: Source or a part of it, URLs masked
	Part   int    `json:"part,omitempty"`   // index of the part, when Parts > 1
	Parts  int    `json:"parts,omitempty"`  // number of parts Source was split into (0 or 1: whole)
}

var briefNames = map[brief]string{briefNone: "", briefNote: "note", briefSummary: "summary"}

func briefNamed(name string) brief {
	for k, v := range briefNames {
		if v == name {
			return k
		}
	}
	return briefNone
}

// Plan returns the requests Translate(in) would send first, without sending
// any: the same cache lookups, chunks, prompts and brief as Translate.
// claim is called with the cache key of each text the cache does not hold
// and reports whether this article is the first to need it (as in
// EstimateShared; nil claims everything): a text another article claimed
// is left out, as the run of all of them asks for it once. A part of a
// long segment that Accept already stored is left out too. Missing counts
// the distinct texts not in the cache, claimed here or elsewhere.
func (t *Translator) Plan(in Input, claim func(key string) bool) (reqs []Request, missing int) {
	all := append([]string{in.Title}, in.Texts...)
	counter := memo(t.counter)
	var (
		items []chunk.Item
		seen  = map[string]bool{}
	)
	for i, s := range all {
		if !NeedsTranslation(s) || seen[s] {
			continue
		}
		seen[s] = true
		key := t.key(s)
		if v, ok := t.store.Get(key); ok {
			if _, _, ok := decodeEntry(v); ok {
				continue
			}
		}
		missing++
		if claim != nil && !claim(key) {
			continue
		}
		masked, _ := mask(s)
		items = append(items, chunk.Item{ID: i, Text: masked})
	}
	if len(items) == 0 {
		return nil, missing
	}
	brief := in.Brief && sentShare(all, items) >= minBriefShare
	chunks := chunk.Split(items, t.opts.Budget, counter)
	kind := briefFor(brief, len(chunks))
	for _, c := range chunks {
		var (
			texts  []string
			pieces []Piece
		)
		for _, p := range c.Pieces {
			pc := Piece{Source: all[p.ID], Text: p.Text}
			if p.Parts > 1 {
				pc.Part, pc.Parts = p.Part, p.Parts
				if _, ok := t.store.Get(t.partKey(pc.Source, p.Part, p.Parts)); ok {
					continue
				}
			}
			texts = append(texts, p.Text)
			pieces = append(pieces, pc)
		}
		if len(pieces) == 0 {
			continue
		}
		j := job{title: in.Title, prev: previous(all, c.Pieces[0]), brief: kind}
		system, context := t.requestParts(j, texts)
		var b strings.Builder
		b.WriteString(context)
		formatSegments(&b, texts)
		reqs = append(reqs, Request{System: system, User: b.String(), Brief: briefNames[kind], Pieces: pieces,
			Tokens: counter.Count(system) + counter.Count(context) + c.Tokens, Answer: answerTokens(c.Tokens, kind)})
	}
	return reqs, missing
}

// partKey is the cache key of the translation of one part of a segment
// that was split across requests (masked, as the model wrote it). Parts
// depend on the budget the segment was split for, so the key has it.
func (t *Translator) partKey(source string, part, parts int) string {
	return cache.Key("part", t.key(source), strconv.Itoa(t.opts.Budget), strconv.Itoa(part), strconv.Itoa(parts))
}

// Verdict is what Accept made of an answer.
type Verdict struct {
	Good int      // pieces whose translation was stored
	Bad  int      // pieces not answered acceptably
	Why  []string // why, one reason per problem found
	// Brief is the summary (Request.Brief "summary") or the note ("note")
	// the answer carried, when it had a usable one. A note is stored for
	// the article's summary; a summary is the caller's to remember.
	Brief string
}

// Accept judges the answer to r exactly as Translate judges an answer to
// the same request (ids, truncation, language, leftover Chinese, links,
// glossary) and stores every good translation in the cache, where
// Translate, Plan and Estimate find it. Parts of a split segment are stored
// as they come; the segment is stored once all of its parts are.
func (t *Translator) Accept(r Request, content, finishReason string) Verdict {
	var v Verdict
	if len(r.Pieces) == 0 {
		return v
	}
	texts := make([]string, len(r.Pieces))
	for i, p := range r.Pieces {
		texts[i] = p.Text
	}
	if finishReason == "length" {
		v.Bad = len(r.Pieces)
		v.Why = []string{"answer truncated (finish_reason length)"}
		return v
	}
	good, bad, why := checkAnswer(texts, content, checker{lang: t.lang, gloss: t.opts.Glossary})
	v.Bad, v.Why = len(bad), why
	for i, s := range good {
		if t.store1(r.Pieces[i], s) {
			v.Good++
		} else {
			v.Bad++
			v.Why = append(v.Why, fmt.Sprintf("segment %d: links could not be restored", i+1))
		}
	}
	if kind := briefNamed(r.Brief); kind != briefNone {
		if text, ok := extractBrief(content, kind, t.lang); ok {
			v.Brief = text
			if kind == briefNote {
				_ = t.store.Put(t.noteKey(texts), []byte(text))
			}
		}
	}
	return v
}

// store1 stores the (masked) translation s of piece p: the segment's
// entry when p is whole or completes it, else the part's. It reports false
// if the segment's links cannot be put back.
func (t *Translator) store1(p Piece, s string) bool {
	if p.Parts > 1 {
		if p.Part < p.Parts-1 {
			s = keepBreak(p.Text, s)
		}
		_ = t.store.Put(t.partKey(p.Source, p.Part, p.Parts), []byte(s))
		parts := make([]string, p.Parts)
		for i := range parts {
			if i == p.Part {
				parts[i] = s
				continue
			}
			v, ok := t.store.Get(t.partKey(p.Source, i, p.Parts))
			if !ok {
				return true // stored; the segment waits for its other parts
			}
			parts[i] = string(v)
		}
		s = t.lang.join(parts)
	}
	_, urls := mask(p.Source)
	text, err := unmask(s, urls)
	if err != nil {
		return false
	}
	_ = t.store.Put(t.key(p.Source), encodeEntry(t.counter.Count(p.Source), text))
	return true
}
