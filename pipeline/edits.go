package pipeline

// Hand edits. A person corrects translations in an output before
// publishing; a later run must read the corrections back, never overwrite
// them. For every output file it writes, xlate keeps a record in the
// translation memory (memory.Record, keyed by the output path, whatever
// the settings): the input it came from and the text of every place a
// translation went. Before writing over an existing output, the run
// compares the file with its record:
//
//   - the file is as written: nothing to read back;
//   - it differs: it is read back against the structure of the article it
//     was rendered from (render.Read), and each translation, the title or
//     the summary whose text differs from the record's is an edit. Edits
//     are pinned in the memory (durably, fsynced) before any file of the
//     run is translated, so a kill at any moment leaves every edit pinned
//     or still in its file; pins win over any model's translation, and the
//     record marks the texts that are a person's, which the output keeps
//     while they are pinned. Front matter keys a person added or changed
//     are carried into the new file;
//   - it cannot be read back (a block added, removed or moved, a
//     translation deleted, a link dropped): the file is left untouched and
//     the run fails for it, unless --force, which saves it as NAME.orig
//     first;
//   - there is no record (an output of an older xlate, or moved): a file
//     that carries xlate's marker and was written by the same model is
//     read back against the current input, and every translation that
//     differs from this run's is kept as an edit. Another model's file, or
//     a file xlate did not write, is left untouched (--force overwrites).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/memory"
	"github.com/xlate/xlate/render"
	"github.com/xlate/xlate/summarize"
	"github.com/xlate/xlate/translate"
)

// ErrUntouched wraps the reason an output was left as it is.
var ErrUntouched = errors.New("left untouched")

// prior is what an output path holds before the run writes it.
type prior struct {
	path string // the output path as given
	abs  string // absolute, the record's key
	data []byte // the file; nil when there is none

	// hasRec tells that xlate keeps a record of what it last wrote there,
	// sum the checksum of that; rec is read on demand (see record).
	hasRec   bool
	sum      string
	personal bool // the record says the file has texts of its own (memory.Record.Personal)
	rec      memory.Record
	loaded   bool
	mem      *memory.Memory

	// orig: the file cannot be read back and --force is set; it is saved
	// as path.orig before being overwritten. why says why.
	orig bool
	why  string

	// edits are the person's changes read back, pinned before the
	// translation (after it, for a file without a record).
	edits []edit
	// summary is an edited summary (nil: none).
	summary *summarize.Summary
	// unrecorded is the file read back against the current input when
	// there is no record: its differences from this run's translations are
	// edits.
	unrecorded *render.Slots
	// meta is the file's front matter and keep the keys of it that a
	// person added or changed.
	meta *article.FrontMatter
	keep []string
}

// servable reports whether res, an output served whole from the cache,
// can be written to pr's path as it is: pr is standard output, or a path
// with nothing of a person's to read back or carry over.
func (pr *prior) servable(res Result) bool {
	if pr == nil {
		return true
	}
	return res.tmpl != nil && pr.edits == nil && !pr.orig && pr.unrecorded == nil && len(pr.keep) == 0 && !pr.personal &&
		(pr.data == nil || pr.hasRec)
}

// record returns what xlate last wrote at pr's path (the zero Record
// without one), reading it on first use.
func (pr *prior) record() memory.Record {
	if pr.hasRec && !pr.loaded {
		pr.loaded = true
		rec, ok, _ := pr.mem.Record(pr.abs)
		pr.rec, pr.hasRec = rec, ok
	}
	return pr.rec
}

// keepPersonKeys carries the front matter keys a person added in an
// earlier run into the rewrite of an output that is as xlate wrote it.
func (pr *prior) keepPersonKeys() error {
	if pr.data == nil || pr.meta != nil || len(pr.record().Kept) == 0 {
		return nil
	}
	fm, err := article.ParseFrontMatter(pr.data)
	if err != nil {
		return fmt.Errorf("read the existing output's front matter: %w", err)
	}
	pr.meta = &fm
	pr.keep = present(pr.rec.Kept, fm)
	return nil
}

// edit is one translation a person changed.
type edit struct {
	where  string // "title", "paragraph 3", "the summary"
	source string // the original text it translates
	text   string // the person's translation
}

// summarySource is the memory's source for an edited summary: the
// article it summarises, which no segment can equal.
func summarySource(a *article.Article) string {
	texts := []string{a.Title}
	for _, s := range a.Segments(false) {
		texts = append(texts, s.Text)
	}
	return SummaryPrefix + cache.Key(texts...)
}

// SummaryPrefix starts the memory source of an edited summary (see
// summarySource); such entries are not segments and are never exported.
const SummaryPrefix = "\x00summary "

// summaryText and parseSummary store a summary as one memory text.
func summaryText(s summarize.Summary) string {
	t := s.TLDR
	for _, p := range s.Points {
		t += "\n- " + strings.ReplaceAll(p, "\n", " ")
	}
	return t
}

func parseSummary(t string) summarize.Summary {
	lines := strings.Split(t, "\n- ")
	return summarize.Summary{TLDR: lines[0], Points: lines[1:]}
}

// readPrior looks at what output path out holds, and reads a person's
// edits back from it. data is the input being translated. A file that
// cannot be read back is an error wrapping ErrUntouched, unless p.Force.
func (p *Pipeline) readPrior(out string, data []byte) (*prior, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		abs = out
	}
	pr := &prior{path: out, abs: abs}
	f, err := os.ReadFile(out)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return pr, nil // nothing there (writing will say what is wrong)
	case err != nil:
		return nil, fmt.Errorf("read the existing output: %w", fileErr(out, err).Err)
	}
	if len(bytes.TrimSpace(f)) == 0 {
		return pr, nil // nothing in it to lose
	}
	pr.data = f
	// The sums answer the common question (is the file as xlate wrote
	// it?); the record itself is read when it is needed.
	recSum, prevSum, personal, ok := p.Memory.RecordSums(abs)
	pr.hasRec, pr.sum, pr.personal, pr.mem = ok, recSum, personal, p.Memory
	if ok && asWritten(f, recSum, prevSum) {
		return pr, nil // as xlate wrote it
	}
	if ok {
		err = p.readEdits(pr)
		if err == nil && !pr.hasRec {
			err = p.readUnrecorded(pr, data) // the record was unreadable after all
		}
	} else {
		err = p.readUnrecorded(pr, data)
	}
	if err == nil {
		return pr, nil
	}
	if !p.Force {
		return nil, fmt.Errorf("%s %w: %v; --force overwrites it (keeping it as %s)", out, ErrUntouched, err, filepath.Base(out)+".orig")
	}
	pr.orig, pr.why = true, err.Error()
	pr.edits, pr.summary, pr.unrecorded, pr.meta, pr.keep = nil, nil, nil, nil, nil
	return pr, nil
}

// priorResult is an output read back before the run began.
type priorResult struct {
	pr  *prior
	err error
}

// pinEditsFirst reads back the edited outputs of jobs that xlate has a
// record of, and pins their edits, before any file is translated: a text a
// person corrected in one file is then used in every file of the run.
// Outputs without a record, or as xlate wrote them, are left to runJob. A
// dry run pins nothing.
func (p *Pipeline) pinEditsFirst(jobs []Job, opts RunOptions) map[string]*priorResult {
	if p.Memory == nil || opts.DryRun {
		return nil
	}
	notef := opts.Notef
	if notef == nil {
		notef = func(string, ...any) {}
	}
	var (
		mu    sync.Mutex
		early = map[string]*priorResult{}
		g     errgroup.Group
	)
	g.SetLimit(max(opts.Files, 1))
	for _, job := range jobs {
		if job.Out == Stdio {
			continue
		}
		g.Go(func() error {
			if !p.edited(job.Out) {
				return nil
			}
			pr, err := p.readPrior(job.Out, nil) // a record: the input is not needed
			if err == nil {
				err = p.pin(pr, pr.edits, notef)
			}
			mu.Lock()
			early[job.Out] = &priorResult{pr: pr, err: err}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return early
}

// edited reports whether output out differs from what its record says
// xlate wrote there.
func (p *Pipeline) edited(out string) bool {
	abs, err := filepath.Abs(out)
	if err != nil {
		return false
	}
	f, err := os.ReadFile(out)
	if err != nil || len(bytes.TrimSpace(f)) == 0 {
		return false
	}
	recSum, prevSum, _, ok := p.Memory.RecordSums(abs)
	if !ok {
		return false
	}
	return !asWritten(f, recSum, prevSum)
}

// asWritten reports whether output f is what its record says xlate wrote
// (recSum), or what the record before said (prevSum: a run killed between
// writing the record and the file).
func asWritten(f []byte, recSum, prevSum string) bool {
	sum := checksum(f)
	return sum == recSum || prevSum != "" && sum == prevSum
}

// readEdits reads the edits of pr.data against its record (or the one
// before, when the run that wrote the record was killed before the file).
func (p *Pipeline) readEdits(pr *prior) error {
	rec := pr.record()
	if !pr.hasRec {
		return nil // unreadable: the caller reads the file as unrecorded
	}
	slots, old, err := readBack(pr.data, rec)
	if err != nil && rec.Prev != nil {
		var err2 error
		if slots, old, err2 = readBack(pr.data, *rec.Prev); err2 == nil {
			rec, err = *rec.Prev, nil
		}
	}
	if err != nil {
		return err
	}
	// A text is xlate's when it is what the record, or the one before,
	// says was written for its source.
	written := func(source, text string) bool {
		for r := &pr.rec; r != nil; r = r.Prev { // loaded above
			if r.Title.Source == source && r.Title.Text == text {
				return true
			}
			for _, s := range r.Segments {
				if s.Source == source && s.Text == text {
					return true
				}
			}
		}
		return false
	}
	if len(slots.Segments) != len(rec.Segments) {
		return fmt.Errorf("its record does not fit it (%d translations for %d)", len(slots.Segments), len(rec.Segments))
	}
	for i, s := range rec.Segments {
		got := slots.Segments[i]
		if got == s.Text || written(s.Source, got) {
			continue
		}
		where := segmentName(i)
		if strings.TrimSpace(got) == "" {
			return fmt.Errorf("the translation of %s was deleted", where)
		}
		if miss := translate.MissingLinks(s.Source, got); len(miss) > 0 {
			return fmt.Errorf("the edited %s drops the link %s", where, miss[0])
		}
		pr.edits = append(pr.edits, edit{where: where, source: s.Source, text: got})
	}
	pr.meta = &slots.Meta
	titleEdited := slots.Title != rec.Title.Text && !written(rec.Title.Source, slots.Title)
	switch {
	case !titleEdited:
	case rec.Title.Source != "" && strings.TrimSpace(slots.Title) != "":
		pr.edits = append(pr.edits, edit{where: "title", source: rec.Title.Source, text: slots.Title})
	default:
		// A title made from the text (the article had none), or one a
		// person removed: kept as a front matter key.
		pr.keep = append(pr.keep, "title")
	}
	if sum, ok := editedSummary(slots, pr.rec); ok {
		pr.summary = &sum
		pr.edits = append(pr.edits, edit{where: "the summary", source: summarySource(old), text: summaryText(sum)})
	}
	for k, v := range slots.Meta.Fields {
		if xlateKeys[k] || k == "title" {
			continue
		}
		if h, ok := rec.Meta[k]; !ok || h != valueHash(v) {
			pr.keep = append(pr.keep, k)
		}
	}
	pr.keep = append(pr.keep, present(pr.rec.Kept, slots.Meta)...)
	slices.Sort(pr.keep)
	pr.keep = slices.Compact(pr.keep)
	return nil
}

// present returns the keys that fm has.
func present(keys []string, fm article.FrontMatter) []string {
	var out []string
	for _, k := range keys {
		if _, ok := fm.Fields[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// xlateKeys are the front matter keys that render writes from the
// translation: a person's change to them is read back as an edit (title,
// summary, description) or is xlate's to make.
var xlateKeys = map[string]bool{
	"original_title": true, "summary": true, "original_summary": true,
	"description": true, "original_description": true, render.MarkerKey: true,
}

// editedSummary returns the summary as the file has it, when a person
// changed it: the TL;DR and points of the body, or the front matter's
// summary.
func editedSummary(slots render.Slots, rec memory.Record) (summarize.Summary, bool) {
	if rec.TLDR == "" {
		return summarize.Summary{}, false
	}
	// As written by xlate: this record's, or the one before's.
	body, fm := true, true
	for r := &rec; r != nil; r = r.Prev {
		if slots.TLDR == r.TLDR && slices.Equal(slots.Points, r.Points) {
			body = false
		}
		if r.Meta["summary"] == "" || valueHash(slots.Meta.Fields["summary"]) == r.Meta["summary"] {
			fm = false
		}
	}
	switch {
	case body && strings.TrimSpace(slots.TLDR) != "":
		return summarize.Summary{TLDR: slots.TLDR, Points: slots.Points}, true
	case fm && strings.TrimSpace(slots.Summary) != "":
		return summarize.Summary{TLDR: render.Canon(slots.Summary), Points: rec.Points}, true
	}
	return summarize.Summary{}, false
}

// recordedArticle parses the input rec was written from.
func recordedArticle(rec memory.Record) (*article.Article, error) {
	syntax, err := article.ParseSyntax(rec.Syntax)
	if err != nil {
		syntax = article.SyntaxAuto
	}
	a, err := article.Parse(rec.Input, syntax)
	if err != nil {
		return nil, fmt.Errorf("its recorded input does not parse: %w", err)
	}
	if a.Title == "" {
		a.Title = deriveTitle(a)
	}
	return a, nil
}

// readBack reads file f against the article and settings of rec.
func readBack(f []byte, rec memory.Record) (render.Slots, *article.Article, error) {
	layout, err := render.ParseLayout(rec.Layout)
	if err != nil {
		return render.Slots{}, nil, fmt.Errorf("its record has an unknown layout %q", rec.Layout)
	}
	a, err := recordedArticle(rec)
	if err != nil {
		return render.Slots{}, nil, err
	}
	// The texts as written settle what the structure alone cannot: where
	// one of several english-layout paragraphs in a row ends, and whether
	// a summary is due.
	d := render.Document{Article: a, Lang: rec.HugoLang, Model: rec.Model, TLDR: rec.TLDR, Points: rec.Points}
	if n := len(a.Segments(layout == render.English)); n == len(rec.Segments) {
		d.Segments = make([]string, n)
		for i, s := range rec.Segments {
			d.Segments[i] = s.Text
		}
	}
	slots, err := render.Read(f, d, layout)
	return slots, a, err
}

// readUnrecorded reads an output xlate has no record of against the
// current input: its translations are compared with this run's later.
func (p *Pipeline) readUnrecorded(pr *prior, data []byte) error {
	out, err := article.Parse(pr.data, article.SyntaxMarkdown)
	if err != nil {
		return fmt.Errorf("it does not parse as markdown (%w), and xlate has no record of writing it", err)
	}
	model, ours := out.Meta.Fields[render.MarkerKey].(string)
	switch {
	case !ours:
		return fmt.Errorf("xlate did not write it (no %s in its front matter)", render.MarkerKey)
	case model != p.Model:
		return fmt.Errorf("xlate has no record of writing it (an older xlate, or a moved file), so it cannot tell a person's edits from %s's text; run once with --model %s to keep its edits", model, model)
	}
	a, _, err := p.load(data)
	if err != nil {
		return err
	}
	slots, err := render.Read(pr.data, render.Document{Article: a, Lang: p.HugoLang, Model: p.Model}, p.Layout)
	if err != nil {
		return fmt.Errorf("xlate has no record of writing it, and it does not fit the input: %w", err)
	}
	pr.unrecorded = &slots
	pr.meta = &slots.Meta
	for k := range slots.Meta.Fields {
		if _, inInput := a.Meta.Fields[k]; !inInput && !xlateKeys[k] && k != "title" {
			pr.keep = append(pr.keep, k)
		}
	}
	slices.Sort(pr.keep)
	return nil
}

// unrecordedEdits are the translations of an output without a record that
// differ from this run's: tr and sum are this run's, for article a
// rendered as d would render it.
func (pr *prior) unrecordedEdits(a *article.Article, texts []string, tr *translate.Output, sum *summarize.Summary, d render.Document, layout render.Layout) {
	s := pr.unrecorded
	if s == nil {
		return
	}
	d.Segments, d.TLDR, d.Points = tr.Texts, sum.TLDR, sum.Points
	mine, err := render.CanonSlots(d, layout)
	if err != nil || len(mine.Segments) != len(s.Segments) {
		return // cannot compare: nothing is taken for an edit
	}
	for i, got := range s.Segments {
		if i >= len(texts) || got == "" || got == mine.Segments[i] {
			continue
		}
		if len(translate.MissingLinks(texts[i], got)) > 0 {
			continue // this run's translation keeps them
		}
		pr.edits = append(pr.edits, edit{where: segmentName(i), source: texts[i], text: got})
		tr.Texts[i] = got
	}
	if a.Title != "" && s.Title != "" && tr.Title != "" && s.Title != tr.Title {
		pr.edits = append(pr.edits, edit{where: "title", source: a.Title, text: s.Title})
		tr.Title = s.Title
	}
	if sum.TLDR != "" && s.TLDR != "" && (s.TLDR != mine.TLDR || !slices.Equal(s.Points, mine.Points)) {
		*sum = summarize.Summary{TLDR: s.TLDR, Points: s.Points}
		pr.summary = sum
		pr.edits = append(pr.edits, edit{where: "the summary", source: summarySource(a), text: summaryText(*sum)})
	}
}

// pin stores edits in the memory, pinned. It says, through notef, which
// replace another file's different wording for the same text.
func (p *Pipeline) pin(pr *prior, edits []edit, notef func(string, ...any)) error {
	if len(edits) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Second)
	es := make([]memory.Entry, len(edits))
	for i, e := range edits {
		es[i] = memory.Entry{Lang: p.lang(pr), Source: e.source, Text: e.text, Created: now, Pinned: true, Origin: pr.abs}
		if old, ok := p.Memory.Pinned(es[i].Lang, e.source); ok && old.Text != e.text && old.Origin != pr.abs && old.Origin != "" {
			notef("%s: %s was corrected differently in %s: each file keeps its own wording, other articles get this one", pr.path, e.where, old.Origin)
		}
	}
	if err := p.Memory.Pin(es...); err != nil {
		return fmt.Errorf("translation memory: %w", err)
	}
	return nil
}

// lang is the target language of the edits of pr: the one its record was
// written in, else the run's.
func (p *Pipeline) lang(pr *prior) string {
	if pr != nil && pr.record().Lang != "" {
		return pr.rec.Lang
	}
	return p.Lang
}

// pins returns the translations a person wrote for the texts of an
// article (title included) in the run's language: from the memory, and
// from pr's edits (the same, before a dry run, which pins nothing).
func (p *Pipeline) pins(pr *prior, title string, texts []string) map[string]string {
	var m map[string]string
	add := func(s, t string) {
		if m == nil {
			m = map[string]string{}
		}
		m[s] = t
	}
	if pr != nil && p.lang(pr) == p.Lang {
		for _, e := range pr.edits {
			add(e.source, e.text)
		}
	}
	if p.Memory == nil {
		return m
	}
	if pr != nil && pr.record().Lang == p.Lang {
		// This output keeps its own edits while their sources are pinned,
		// also when another file pinned other wording for the same text.
		for _, s := range append([]memory.Pair{pr.rec.Title}, pr.rec.Segments...) {
			if _, ok := m[s.Source]; ok || !s.Person || s.Source == "" {
				continue
			}
			if _, pinned := p.Memory.Pinned(p.Lang, s.Source); pinned {
				add(s.Source, s.Text)
			}
		}
	}
	for _, s := range append([]string{title}, texts...) {
		if _, ok := m[s]; ok || s == "" {
			continue
		}
		if e, ok := p.Memory.Pinned(p.Lang, s); ok {
			add(s, e.Text)
		}
	}
	return m
}

// pinnedSummary returns the summary a person wrote for article a, and its
// source in the memory: the one read back from pr's output now, the one
// that output showed before (while pinned, also if the article changed
// since), or the one pinned for a.
func (p *Pipeline) pinnedSummary(pr *prior, a *article.Article) (summarize.Summary, string, bool) {
	if pr != nil && p.lang(pr) == p.Lang {
		for _, e := range pr.edits {
			if strings.HasPrefix(e.source, SummaryPrefix) && pr.summary != nil {
				return *pr.summary, e.source, true
			}
		}
		if src := pr.record().SummaryPin; src != "" && p.Memory != nil {
			if e, ok := p.Memory.Pinned(p.Lang, src); ok {
				return parseSummary(e.Text), src, true
			}
		}
	}
	if p.Memory == nil {
		return summarize.Summary{}, "", false
	}
	src := summarySource(a)
	if e, ok := p.Memory.Pinned(p.Lang, src); ok {
		return parseSummary(e.Text), src, true
	}
	return summarize.Summary{}, "", false
}

// split divides pr's edits into those that apply to article a (whose
// segments are texts) and the stale ones, whose source is no longer in
// it: they stay pinned for the old text, and the new text is translated.
func (pr *prior) split(a *article.Article, texts []string) (kept, stale []edit) {
	have := map[string]bool{a.Title: true}
	for _, t := range texts {
		have[t] = true
	}
	for _, e := range pr.edits {
		if have[e.source] || strings.HasPrefix(e.source, SummaryPrefix) { // an edited summary stays
			kept = append(kept, e)
		} else {
			stale = append(stale, e)
		}
	}
	return kept, stale
}

// written is what the run wrote for an article, for its record.
type written struct {
	article *article.Article
	doc     render.Document
	pinned  map[string]string // the person's translations used, by source
	// summaryPin is the memory source of the person's summary used ("":
	// none).
	summaryPin string
}

// recordContent is the memory record of output md, rendered as w says,
// without what depends on where it is written (path, input, history,
// kept keys): what Read gives for it, and which texts were a person's.
func (p *Pipeline) recordContent(md []byte, w *written) *memory.Record {
	r := &memory.Record{Model: p.Model, Lang: p.Lang, Layout: p.Layout.String(), Syntax: p.Syntax.String(), HugoLang: p.HugoLang, Sum: checksum(md)}
	segs := w.article.Segments(p.Layout == render.English)
	slots, err := render.Read(md, w.doc, p.Layout)
	if err != nil || len(slots.Segments) != len(segs) {
		// Should not happen (render.Read reads what Markdown writes): the
		// record then holds what Read would give.
		if cs, err := render.CanonSlots(w.doc, p.Layout); err == nil && len(cs.Segments) == len(segs) {
			slots = cs
		} else {
			slots = render.Slots{Title: w.doc.Title, Segments: w.doc.Segments, TLDR: w.doc.TLDR, Points: w.doc.Points}
		}
	}
	// A text of its own, which the memory's pins would not give it, makes
	// an output personal: it is never served whole from the cache.
	personal := w.summaryPin != ""
	person := func(source string) bool {
		t, ok := w.pinned[source]
		if ok && source != "" {
			if e, pinned := p.Memory.Pinned(p.Lang, source); !pinned || e.Text != t {
				personal = true
			}
		}
		return ok && source != ""
	}
	r.Title = memory.Pair{Source: w.article.Title, Text: slots.Title, Person: person(w.article.Title)}
	r.Segments = make([]memory.Pair, len(segs))
	for i, s := range segs {
		r.Segments[i] = memory.Pair{Source: s.Text, Text: slots.Segments[i], Person: person(s.Text)}
	}
	r.TLDR, r.Points, r.SummaryPin, r.Personal = slots.TLDR, slots.Points, w.summaryPin, personal
	r.Meta = map[string]string{}
	for k, v := range slots.Meta.Fields {
		r.Meta[k] = valueHash(v)
	}
	return r
}

// writeOutput writes res, rendered from input data, to pr's path: the old
// file first to path.orig when --force overwrites a file that could not be
// read back, then the record (unless it already describes these bytes),
// then the file (see prior's doc for why in that order).
func (p *Pipeline) writeOutput(pr *prior, data []byte, res Result) error {
	if pr.orig {
		if err := atomicfile.Write(pr.path+".orig", pr.data); err != nil {
			return fmt.Errorf("save the old output: %w", err)
		}
	}
	if t := res.tmpl; p.Memory != nil && t != nil && !(pr.hasRec && pr.sum == t.Sum && pr.edits == nil) {
		r := *t
		r.Path, r.Input, r.Written, r.Kept = pr.abs, data, time.Now().UTC().Truncate(time.Second), pr.keep
		r.Personal = r.Personal || len(pr.keep) > 0
		if pr.hasRec {
			prev := pr.record()
			prev.Prev = nil
			r.Prev = &prev
		}
		if err := p.Memory.SetRecord(r); err != nil {
			return fmt.Errorf("translation memory: %w", err)
		}
	}
	return atomicfile.Write(pr.path, res.Markdown)
}

// valueHash identifies a front matter value.
func valueHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprint(v))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func checksum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// reportEdits says what became of the person's edits in pr's output,
// written as res from input data: kept, or no longer matching an
// original that changed (read back now, or in an earlier run).
func (p *Pipeline) reportEdits(pr *prior, res Result, data []byte, notef func(string, ...any)) {
	if pr.orig {
		notef("%s: overwritten (--force); it %s, the old file is %s", pr.path, strings.TrimPrefix(pr.why, "it "), pr.path+".orig")
	}
	w := res.written
	if w == nil { // served whole: the input is as recorded
		if len(pr.edits) > 0 {
			notef("kept %s in %s", editCount(pr.edits), pr.path)
		}
		return
	}
	segs := w.article.Segments(p.Layout == render.English)
	texts := make([]string, len(segs))
	for i, s := range segs {
		texts[i] = s.Text
	}
	kept, stale := pr.split(w.article, texts)
	if len(kept) > 0 {
		notef("kept %s in %s", editCount(kept), pr.path)
	}
	if pr.hasRec && !bytes.Equal(pr.record().Input, data) {
		// Edits of earlier runs whose original changed since.
		have := map[string]bool{w.article.Title: true}
		for _, t := range texts {
			have[t] = true
		}
		for _, e := range stale {
			have[e.source] = true
		}
		for i, s := range append([]memory.Pair{pr.rec.Title}, pr.rec.Segments...) {
			if s.Person && !have[s.Source] {
				where := "title"
				if i > 0 {
					where = segmentName(i - 1)
				}
				have[s.Source] = true
				stale = append(stale, edit{where: where, source: s.Source})
			}
		}
	}
	if w.summaryPin != "" && w.summaryPin != summarySource(w.article) {
		notef("%s: the article changed since its summary was edited; the edited summary is kept: check that it still fits", pr.path)
	}
	for _, e := range stale {
		notef("%s: the edit of %s no longer matches: its original changed; the edit stays pinned for the old text, and the new text is translated", pr.path, e.where)
	}
}

// editCount says how many edits were kept, for the run's message.
func editCount(edits []edit) string {
	n, sum := 0, false
	for _, e := range edits {
		if strings.HasPrefix(e.source, SummaryPrefix) {
			sum = true
			continue
		}
		n++
	}
	var parts []string
	switch {
	case n == 1:
		parts = append(parts, "1 edited translation")
	case n > 1:
		parts = append(parts, strconv.Itoa(n)+" edited translations")
	}
	if sum {
		parts = append(parts, "the edited summary")
	}
	return strings.Join(parts, " and ")
}
