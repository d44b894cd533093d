package translate

import (
	"fmt"
)

// Verdict is what Accept made of an answer.
type Verdict struct {
	Good int      // pieces whose translation was stored
	Bad  int      // pieces not answered acceptably
	Why  []string // why, one reason per problem found
	// Brief is the summary (Request.Brief "summary") or the note ("note")
	// the answer carried, when it had a usable one (Options.Extra; a note
	// also went to Extra.Note); a summary is the caller's to remember.
	Brief string
}

// Accept judges the answer to r exactly as Translate judges an answer to
// the same request (ids, truncation, language, leftover Chinese, links,
// glossary) and stores every good translation in the cache, where
// Translate and Plan find it. Parts of a split segment are stored
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
	v.Brief, _ = t.readBrief(briefNamed(r.Brief), texts, content)
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
		s = t.lang.Join(parts)
	}
	_, urls := mask(p.Source)
	text, err := unmask(s, urls)
	if err != nil {
		return false
	}
	_ = t.store.Put(t.key(p.Source), encodeEntry(t.counter.Count(p.Source), text))
	return true
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
