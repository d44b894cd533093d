package summarize

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/lang"
)

// The summary rides on the translation requests where it can: an article
// that takes one request gets its summary in the same answer, one that
// takes several gets a note on each request's segments, and the summary is
// then made from the notes in one small request. The translator carries
// the instructions below and hands the answers back (Read, Note).
//
// "TL;DR:" is a format marker, kept as it is in every language. %[1]s is
// the target language.
const (
	wholePrompt = "\n- After the last segment add <summary>TL;DR: <one %[1]s sentence summing up the whole article>\n- <key point in %[1]s>\n(3 to 5 key points)</summary>"
	partPrompt  = "\n- After the last segment add <note>the key facts of these segments in one or two %[1]s sentences</note>"
)

// notePromptVersion versions the notes (their key): the note prompt was
// the translation prompt's, version t2, when notes were first cached.
const notePromptVersion = "t2"

// Instructions returns what a translation request adds to its system
// prompt to ask for the article's summary (whole: the article takes one
// request) or for a note on its segments.
func (s *Summarizer) Instructions() (whole, part string) {
	return fmt.Sprintf(wholePrompt, s.opts.Lang), fmt.Sprintf(partPrompt, s.opts.Lang)
}

var (
	summaryRE = regexp.MustCompile(`(?s)<summary>(.*?)</summary>`)
	noteRE    = regexp.MustCompile(`(?s)<note>(.*?)</note>`)
)

// Read returns the summary (whole) or the note that an answer to a
// translation request carries, if it has a usable one: in the summary's
// language, not Chinese left as it was, not an echo of the prompt.
func (s *Summarizer) Read(answer string, whole bool) (string, bool) {
	re := noteRE
	if whole {
		re = summaryRE
	}
	m := re.FindStringSubmatch(answer)
	if m == nil {
		return "", false
	}
	text := strings.TrimSpace(m[1])
	if text == "" || utf8.RuneCountInString(text) > 2000 || s.lang.LooksChinese(text) || EchoesPrompt(text) != "" {
		return "", false
	}
	return text, true
}

// Note keeps the note the model wrote on a request's segments (texts, as
// sent), for the article's summary.
func (s *Summarizer) Note(texts []string, note string) {
	_ = s.store.Put(s.noteKey(texts), []byte(note))
}

func (s *Summarizer) noteKey(texts []string) string {
	return cache.Key(append([]string{"note", notePromptVersion, s.opts.Model, s.opts.Lang}, texts...)...)
}

// Part is one translation request's share of an article, for its summary:
// the texts of its segments as sent, and their translation.
type Part struct {
	Sent        []string
	Translation string
}

// Make makes the summary of a translated article: from brief, the summary
// its one translation request carried, when that parses; from the
// translation itself when the article is mostly not Chinese (the model saw
// too little of it to note); else from the notes the model wrote on each
// part (parts, called only then), or a part's translation where its note
// is missing. After one
// paragraph of a long article was edited, that is every note but one and
// one part of translation: one small request instead of a second reading
// of the article.
func (s *Summarizer) Make(ctx context.Context, title string, source, translated []string, parts func() []Part, brief string) (Summary, error) {
	if brief != "" {
		if sum, err := s.Parse(brief); err == nil {
			return sum, nil
		}
	}
	if keptShare(source) > 0.3 {
		return s.Summarize(ctx, title, translated)
	}
	var notes []string
	for _, p := range parts() {
		if v, ok := s.store.Get(s.noteKey(p.Sent)); ok && len(v) > 0 {
			notes = append(notes, string(v))
		} else {
			notes = append(notes, p.Translation)
		}
	}
	return s.FromNotes(ctx, title, notes)
}

// keptShare is the share (in bytes) of texts that hold no Chinese.
func keptShare(texts []string) float64 {
	var kept, total int
	for _, t := range texts {
		total += len(t)
		if !lang.NeedsTranslation(t) {
			kept += len(t)
		}
	}
	if total == 0 {
		return 0
	}
	return float64(kept) / float64(total)
}

// promptMarkup is the markup of xlate's prompts, lower case.
var promptMarkup = []string{"<seg", "</seg", "<summary", "</summary", "<note", "</note", "<article", "</article", "<summaries", "</summaries", "<think", "</think"}

// contextLabels are the context lines of a translation request: a note or
// summary that repeats one echoes the request.
var contextLabels = []string{"Title:", "Previous text:", "Glossary:"}

// EchoesPrompt returns why a summary or note repeats the prompt instead of
// answering it, or "": it holds a piece of xlate's prompt markup (a <seg>,
// <summary>, <note>, <article>, <notes>, <summaries> or <think> tag,
// opening or closing, in any case; a markdown escape before "<" counts) or
// one of the context labels of a translation request ("Title:",
// "Previous text:", "Glossary:").
func EchoesPrompt(text string) string {
	lower := strings.ReplaceAll(strings.ToLower(text), `\<`, "<")
	for _, m := range promptMarkup {
		if strings.Contains(lower, m) {
			return "holds the prompt's " + m
		}
	}
	for _, label := range contextLabels {
		if strings.Contains(text, label) {
			return "repeats the prompt's " + label
		}
	}
	return ""
}
