package translate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/lang"
)

// The segment protocol. Each piece of text travels in the user message as
//
//	<seg id="N">TEXT</seg>
//
// and the model must answer with exactly one <seg id="N">TRANSLATION</seg>
// per input id. Lines before the first <seg> are context, not text to
// translate: "Title: …", "Previous text: …" (the end of the paragraph
// before) and "Glossary: 马斯克 = Musk; 奥尔特曼 = Altman" (the glossary
// entries whose source occurs in the request's segments, longest first).
// Anything outside the tags (reasoning, preambles, commentary) is ignored,
// so a model's chatter never reaches the output.

var segRE = regexp.MustCompile(`(?s)<seg\s+id\s*=\s*["']?([0-9]+)["']?\s*>(.*?)</seg>`)

// formatSegments writes pieces as numbered <seg> elements, ids from 1.
func formatSegments(b *strings.Builder, texts []string) {
	for i, t := range texts {
		fmt.Fprintf(b, "<seg id=\"%d\">%s</seg>\n", i+1, t)
	}
}

// parseAnswer extracts the answer's segments by id. An id that occurs more
// than once is reported in dup and dropped from the map.
func parseAnswer(s string) (got map[int]string, dup map[int]bool, unknown int) {
	got = map[int]string{}
	dup = map[int]bool{}
	for _, m := range segRE.FindAllStringSubmatch(s, -1) {
		id, err := strconv.Atoi(m[1])
		if err != nil {
			unknown++
			continue
		}
		if _, seen := got[id]; seen || dup[id] {
			dup[id] = true
			delete(got, id)
			continue
		}
		got[id] = strings.TrimSpace(m[2])
	}
	return got, dup, unknown
}

// checker judges the translations of a request's segments.
type checker struct {
	lang  lang.Language
	gloss glossary.Glossary // the whole glossary; each segment's terms are looked up
}

// segment returns why out is not a good translation of the masked source
// src, or "" if it is. id names the segment in the reason. suspect tells a
// reason that judges the answer as a translation (left in Chinese, wrong
// script, length, sentences, retained source, markup, lines, glossary),
// which Options.AcceptSuspect may overrule, from a broken answer (empty,
// links lost), which nothing can use.
func (c checker) segment(id int, src, out string) (reason string, suspect bool) {
	switch {
	case out == "":
		return fmt.Sprintf("segment %d answered empty", id), false
	case !keepsLinks(src, out):
		return fmt.Sprintf("segment %d lost or repeated a link", id), false
	case c.lang.Untranslated(src, out):
		return fmt.Sprintf("segment %d left in Chinese", id), true
	case c.lang.WrongScript(src, out):
		return fmt.Sprintf("segment %d not in %s", id, c.lang.Name), true
	}
	terms := c.gloss.In(src)
	var keep []string
	for _, e := range terms {
		keep = append(keep, e.Target)
	}
	if why := implausible(c.lang, src, out, keep); why != "" {
		return fmt.Sprintf("segment %d: %s", id, why), true
	}
	if len(terms) > 0 {
		// A substring test, case-insensitive: "Musk's" and "musk" have Musk.
		lower := strings.ToLower(out)
		for _, e := range terms {
			if !strings.Contains(lower, strings.ToLower(e.Target)) {
				return fmt.Sprintf("segment %d lacks the glossary rendering %q of %s", id, e.Target, e.Source), true
			}
		}
	}
	return "", false
}

// verdict is what checkAnswer made of an answer.
type verdict struct {
	good map[int]string // index -> translation
	bad  []int          // indexes to ask again, in order
	why  []string       // one reason per problem found
	// suspect holds the answers of bad segments that were rejected only as
	// implausible translations (see checker.segment), by index, with the
	// reason: what Options.AcceptSuspect may take.
	suspect map[int]suspectAnswer
	// cut tells that the answer ended early (a stream cut, a truncation):
	// the segments it closed were judged, the rest are in bad unjudged.
	cut bool
}

// judgeCut judges an answer that ended early: the segments up to the last
// one it closed are judged as a whole answer to them, and those after it
// are still to ask, with no suspicion on their neighbours (they were never
// reached, not merged).
func judgeCut(texts []string, answer string, c checker, why string) verdict {
	got, _, _ := parseAnswer(answer)
	reached := 0
	for id := range got {
		if id >= 1 && id <= len(texts) {
			reached = max(reached, id)
		}
	}
	v := verdict{good: map[int]string{}, suspect: map[int]suspectAnswer{}}
	if reached > 0 {
		v = judgeAnswer(texts[:reached], answer, c)
	}
	v.cut = true
	for i := reached; i < len(texts); i++ {
		v.bad, v.why = append(v.bad, i), append(v.why, fmt.Sprintf("segment %d not reached: %s", i+1, why))
	}
	return v
}

// suspectAnswer is an answer rejected as an implausible translation.
type suspectAnswer struct {
	text, why string
}

// checkAnswer validates a translation answer for texts (ids 1..len(texts)).
// It returns the good translations by index and the indexes that need
// asking again, with a reason for each bad one.
//
// Ids outside the request make the whole answer suspect (the model may have
// renumbered), so every segment is asked again. A missing id often means the
// model merged it into a neighbour, so a neighbour whose answer is much longer
// than its source warrants (compared with the rest of the answer) is asked
// again too. Answers that pass alone but are the same for sources that
// clearly differ (see sameAnswers) are asked again.
func checkAnswer(texts []string, answer string, c checker) (good map[int]string, bad []int, why []string) {
	v := judgeAnswer(texts, answer, c)
	return v.good, v.bad, v.why
}

// judgeAnswer is checkAnswer with the suspect answers.
func judgeAnswer(texts []string, answer string, c checker) verdict {
	got, dup, _ := parseAnswer(answer)
	v := verdict{good: map[int]string{}, suspect: map[int]suspectAnswer{}}
	var missing []int
	for id := range got {
		if id < 1 || id > len(texts) {
			for i := range texts {
				v.bad = append(v.bad, i)
			}
			v.why = []string{fmt.Sprintf("answer has unknown segment id %d", id)}
			return v
		}
	}
	for i, src := range texts {
		id := i + 1
		out, ok := got[id]
		switch {
		case dup[id]:
			v.bad, v.why = append(v.bad, i), append(v.why, fmt.Sprintf("segment %d answered more than once", id))
		case !ok:
			v.bad, v.why = append(v.bad, i), append(v.why, fmt.Sprintf("segment %d missing from the answer", id))
			missing = append(missing, i)
		default:
			reason, soft := c.segment(id, src, out)
			switch {
			case reason == "":
				v.good[i] = out
			default:
				v.bad, v.why = append(v.bad, i), append(v.why, reason)
				if soft {
					v.suspect[i] = suspectAnswer{out, reason}
				}
			}
		}
	}
	// Identical answers are compared over every answered segment, so that a
	// short segment answered like a long one that failed is caught too.
	answered := map[int]string{}
	for i := range texts {
		if out, ok := got[i+1]; ok && out != "" && !dup[i+1] {
			answered[i] = out
		}
	}
	for i, reason := range sameAnswers(texts, answered) {
		if out, ok := v.good[i]; ok {
			v.suspect[i] = suspectAnswer{out, reason}
			delete(v.good, i)
			v.bad, v.why = append(v.bad, i), append(v.why, reason)
		}
	}
	v.bad, v.why = suspectNeighbours(texts, v.good, missing, v.bad, v.why)
	return v
}

// suspectNeighbours moves into bad the good neighbours of missing segments
// that may have absorbed them: a model that merges two segments usually
// answers the pair under the first id, so the segment before a missing one
// is always asked again; the one after it is when its translation is
// unusually long for its source compared with the other good segments.
func suspectNeighbours(texts []string, good map[int]string, missing, bad []int, why []string) ([]int, []string) {
	ratio := func(i int) float64 {
		return float64(len(good[i])+1) / float64(len(texts[i])+1)
	}
	var sum float64
	for i := range good {
		sum += ratio(i)
	}
	suspect := func(n int) {
		delete(good, n)
		bad = append(bad, n)
		why = append(why, fmt.Sprintf("segment %d may hold a missing neighbour", n+1))
	}
	for _, m := range missing {
		if _, ok := good[m-1]; ok {
			suspect(m - 1)
		}
		if _, ok := good[m+1]; ok && len(good) > 1 {
			others := (sum - ratio(m+1)) / float64(len(good)-1)
			if ratio(m+1) > 1.6*others {
				suspect(m + 1)
			}
		}
	}
	slices.Sort(bad)
	return bad, why
}

// keepBreak returns s, the translation of piece (a part of a split
// segment), with the line break that ends the piece, if it ends in one:
// the segment was cut after a hard break, which the answer, trimmed, lost.
// Without it the parts would be rejoined with a space, the break a literal
// backslash in mid-line.
func keepBreak(piece, s string) string {
	if tail := piece[len(strings.TrimRight(piece, " \t\r\n")):]; strings.Contains(tail, "\n") {
		return s + "\n"
	}
	return s
}
