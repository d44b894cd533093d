// Package pipeline runs xlate's one-way flow for each input file:
// read → article.Parse → translate and summarize → render → write.
//
// It owns the file system side of xlate: finding inputs (Plan), mirroring
// them into an output tree, and writing every output atomically so that an
// output file is either complete or absent.
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/memory"
	"github.com/xlate/xlate/render"
	"github.com/xlate/xlate/summarize"
	"github.com/xlate/xlate/translate"
)

// Pipeline turns articles into rendered markdown.
type Pipeline struct {
	Translator *translate.Translator
	Summarizer *summarize.Summarizer // nil: no summaries
	Layout     render.Layout
	Model      string
	// Syntax is the syntax of the inputs' bodies (article.SyntaxAuto finds
	// it from each one's content).
	Syntax article.Syntax
	// HugoLang is the language code of the outputs in a Hugo multilingual
	// site (see render.Document.Lang), "" for a site of their own.
	HugoLang string
	// Outputs, when set, keeps each finished output under a key made of the
	// input's bytes and every setting that shapes it, so that an unchanged
	// input costs one cache read on a re-run: no parsing and no lookup per
	// segment. Usually the same store as the translations'.
	Outputs cache.Store
	// Memory, when set, is the translation memory: the translations a
	// person pinned, which win over any model's, and the record of every
	// output written, from which a person's edits are read back (see
	// edits.go). Lang is the target language's name as the memory keys
	// it.
	Memory *memory.Memory
	Lang   string
	// Force overwrites an output that cannot be read back (see
	// readPrior), after saving it as NAME.orig.
	Force bool

	claims Claims // texts a dry run's estimates planned
}

// Result is one processed article.
type Result struct {
	Markdown []byte
	// Cached is true when nothing had to be requested: every translation
	// and the summary came from the cache.
	Cached bool
	// SourceTokens is the size of the Chinese text, in tokens.
	SourceTokens int
	// Plan is the estimate of a dry run.
	Plan Estimate
	// Reasks counts the requests made again for suspect or bad answers,
	// and Suspects lists the segments that had a suspect answer.
	Reasks   int
	Suspects []translate.Suspect
	// SummaryErr is why the summary could not be made: the output was
	// written without it (every translation is there, and cached), and is
	// not recorded as finished, so the next run asks for the summary alone.
	SummaryErr error

	written *written       // what went into Markdown; nil when it came from Outputs
	tmpl    *memory.Record // the output's memory record without its place (recordContent)
}

// Article processes one input.
func (p *Pipeline) Article(ctx context.Context, data []byte) (Result, error) {
	return p.article(ctx, data, nil)
}

// article processes one input whose output replaces what pr describes
// (nil: the output goes to standard output).
func (p *Pipeline) article(ctx context.Context, data []byte, pr *prior) (Result, error) {
	var key string
	if p.Outputs != nil {
		key = p.outputKey(data)
		// A recorded output that is as xlate wrote it can be served whole;
		// one that needs a new record (or none) is made again.
		if res, ok := p.cachedOutput(key); ok && pr.servable(res) {
			return res, nil
		}
	}
	if pr != nil {
		if err := pr.keepPersonKeys(); err != nil {
			return Result{}, err
		}
	}
	a, texts, err := p.load(data)
	if err != nil {
		return Result{}, err
	}

	// The summary comes, cheapest first, from the cache, from the
	// translation request itself (a one-request article), from the notes
	// the model wrote on each chunk, or from the English translation.
	var (
		sum     summarize.Summary
		haveSum bool
	)
	wantSum := p.Summarizer != nil && len(texts) > 0
	var sumPin string
	if wantSum {
		sum, sumPin, haveSum = p.pinnedSummary(pr, a)
	}
	if wantSum && !haveSum {
		var release func()
		sum, haveSum, release, err = p.Summarizer.Claim(ctx, a.Title, texts)
		if err != nil {
			return Result{}, err
		}
		if release != nil {
			defer release()
		}
	}
	in := translate.Input{Title: a.Title, Texts: texts, Brief: wantSum && !haveSum, Pinned: p.pins(pr, a.Title, texts)}
	tr, err := p.Translator.Translate(ctx, in)
	if err != nil {
		return Result{}, err
	}
	var sumErr error
	if wantSum && !haveSum {
		sum, err = p.summary(ctx, in, tr)
		switch {
		case err == nil:
			p.Summarizer.Remember(a.Title, texts, sum)
		case errIsCancel(err) || llm.IsSystemic(err):
			return Result{}, err
		default:
			// Every paragraph is translated: write them without a summary
			// rather than lose the file.
			sum, sumErr = summarize.Summary{}, err
		}
	}

	if pr != nil && pr.unrecorded != nil {
		// No record: what differs from this run's text is a person's.
		pr.unrecordedEdits(a, texts, &tr, &sum, render.Document{Article: a, Lang: p.HugoLang, Model: p.Model, Title: tr.Title}, p.Layout)
		if pr.summary != nil {
			sumPin = summarySource(a)
		}
	}

	title := tr.Title
	if title == "" {
		title = englishTitle(sum.TLDR, tr.Texts)
	}
	doc := render.Document{
		Article:  a,
		Title:    title,
		Lang:     p.HugoLang,
		Segments: tr.Texts,
		TLDR:     sum.TLDR,
		Points:   sum.Points,
		Model:    p.Model,
	}
	if pr != nil && len(pr.keep) > 0 {
		doc.Keep, doc.KeepKeys = pr.meta, pr.keep
	}
	var buf bytes.Buffer
	if err := render.Markdown(&buf, doc, p.Layout); err != nil {
		return Result{}, fmt.Errorf("render: %w", err)
	}
	cached := tr.Requested == 0 && (p.Summarizer == nil || len(texts) == 0 || sum.Cached || haveSum)
	res := Result{Markdown: buf.Bytes(), Cached: cached, SourceTokens: tr.SourceTokens, Reasks: tr.Reasks, Suspects: tr.Suspects, SummaryErr: sumErr,
		written: &written{article: a, doc: doc, pinned: in.Pinned, summaryPin: sumPin}}
	if pr != nil && pr.unrecorded != nil && len(pr.edits) > 0 {
		res.written.pinned = maps.Clone(in.Pinned)
		if res.written.pinned == nil {
			res.written.pinned = map[string]string{}
		}
		for _, e := range pr.edits {
			res.written.pinned[e.source] = e.text
		}
	}
	if p.Memory != nil && (pr != nil || key != "") {
		// For the record of this output, or of a file output later
		// served whole from Outputs.
		res.tmpl = p.recordContent(res.Markdown, res.written)
	}
	accepted := slices.ContainsFunc(tr.Suspects, func(s translate.Suspect) bool { return s.Accepted })
	if key != "" && !accepted && sumErr == nil && (res.tmpl == nil || !res.tmpl.Personal) && (pr == nil || len(pr.keep) == 0 && pr.unrecorded == nil) {
		// An output holding an accepted suspect answer is never recorded:
		// a re-run must not serve it without the warning.
		p.rememberOutput(key, res)
	}
	return res, nil
}

// ErrOwnOutput reports an input that is one of xlate's own outputs: it
// carries the front matter key that xlate writes (render.MarkerKey). It is
// never translated again.
var ErrOwnOutput = errors.New("an xlate output (it has " + render.MarkerKey + " in its front matter), not an original; skipped")

// load parses an input and lists its segments' texts; an untitled article
// gets a title where one can be derived.
func (p *Pipeline) load(data []byte) (*article.Article, []string, error) {
	a, err := article.Parse(data, p.Syntax)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := a.Meta.Fields[render.MarkerKey]; ok {
		return nil, nil, ErrOwnOutput
	}
	if a.Title == "" {
		a.Title = deriveTitle(a)
	}
	segs := a.Segments(p.Layout == render.English)
	texts := make([]string, len(segs))
	for i, s := range segs {
		texts[i] = s.Text
	}
	return a, texts, nil
}

// summary makes the summary of a translated article.
func (p *Pipeline) summary(ctx context.Context, in translate.Input, tr translate.Output) (summarize.Summary, error) {
	parts := func() []summarize.Part {
		sent, translated := p.Translator.Parts(in, tr)
		parts := make([]summarize.Part, len(sent))
		for i := range sent {
			parts[i] = summarize.Part{Sent: sent[i], Translation: translated[i]}
		}
		return parts
	}
	return p.Summarizer.Make(ctx, tr.Title, in.Texts, tr.Texts, parts, tr.Summary)
}

// deriveTitle gives an untitled article (plain text, bare HTML; the parser
// already took a leading heading) a title: its first paragraph when that
// reads like a title (one short line without a sentence end). Otherwise it stays untitled: the file
// name is not used, so that a file and the same text on stdin give the same
// output.
func deriveTitle(a *article.Article) string {
	for _, b := range a.Blocks {
		if b.Kind != article.Paragraph {
			continue
		}
		t := b.Text
		if utf8.RuneCountInString(t) <= 40 && !strings.ContainsAny(t, "\n。！？.!?；;：:") {
			return t
		}
		break
	}
	return ""
}

// maxTitle is the length in runes past which a title made from text is cut.
const maxTitle = 80

// englishTitle makes a title for an article that has none, neither in its
// front matter nor in a heading-like first line: the summary's TL;DR, or
// without a summary the first sentence of the first translated text, as
// plain text cut at a word boundary to at most maxTitle runes. A Hugo page
// without a title is blank in every list. The file name is never used, so
// that a file and the same bytes on stdin give the same output.
func englishTitle(tldr string, translations []string) string {
	text := tldr
	if text == "" {
		for _, t := range translations {
			if t = plainText(t); t != "" {
				text = firstSentence(t)
				break
			}
		}
	}
	text = strings.Join(strings.Fields(plainText(text)), " ")
	if utf8.RuneCountInString(text) <= maxTitle {
		return text
	}
	r := []rune(text)[:maxTitle]
	cut := strings.LastIndex(string(r), " ")
	if cut < maxTitle/2 {
		cut = len(string(r))
	}
	return strings.TrimRight(string(r)[:cut], " ,;:-–—") + "…"
}

var (
	mdLinkRE  = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdMarkRE  = regexp.MustCompile("\\*\\*|__|`+")
	mdEscRE   = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)
	sentEndRE = regexp.MustCompile(`[.!?。！？](\s|$)`)
)

// plainText reduces inline markdown to its text: links to their text,
// emphasis and code marks and backslash escapes dropped.
func plainText(md string) string {
	s := mdLinkRE.ReplaceAllString(md, "$1")
	s = mdMarkRE.ReplaceAllString(s, "")
	s = mdEscRE.ReplaceAllString(s, "$1")
	return strings.TrimSpace(s)
}

// firstSentence returns s up to its first sentence end, without the final
// full stop.
func firstSentence(s string) string {
	if loc := sentEndRE.FindStringIndex(s); loc != nil && loc[0] > 0 {
		s = s[:loc[0]+1]
	}
	return strings.TrimSuffix(s, ".")
}

// FileError is the failure of one input file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	return e.Path + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// errIsCancel reports whether err comes from an interrupted run.
func errIsCancel(err error) bool {
	return errors.Is(err, context.Canceled)
}
