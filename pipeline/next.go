package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/summarize"
	"github.com/xlate/xlate/translate"
)

// Pending is what an article still needs before its output can be made
// from the cache alone.
type Pending struct {
	// Translations are the first requests of the translations still
	// missing (translate.Translator.Plan). When some are missing and this
	// is empty, another article's requests carry them all.
	Translations []translate.Request
	// Summary is true when the translations are all cached and the summary
	// is not: its next requests went to the summarizer given to Next.
	Summary bool
	// SummaryErr is why the summary could not be made: the request the
	// summarizer's client refused, or another failure.
	SummaryErr error
	// Done is true when nothing is missing.
	Done bool
}

// Parsed is an input read and parsed for Next. Parsing needs no order, so
// a caller may parse many inputs at once and plan them one by one.
type Parsed struct {
	done  bool // its output is recorded: nothing to plan
	a     *article.Article
	texts []string
}

// Parse parses an input for Next. It is safe for concurrent use.
func (p *Pipeline) Parse(data []byte) (*Parsed, error) {
	if p.Outputs != nil {
		if _, ok := p.cachedOutput(p.outputKey(data)); ok {
			return &Parsed{done: true}, nil
		}
	}
	a, texts, err := p.load(data)
	if err != nil {
		return nil, err
	}
	return &Parsed{a: a, texts: texts}, nil
}

// Next works out the requests an article (see Parse) still needs, without
// making any, for running them elsewhere (a batch). The translations come
// first: while any is missing, Next lists their requests, leaving out the
// segments another article claimed in planned and claiming its own. Once
// every translation is cached, the summary is made, as Article makes it,
// through summarizer, whose client is expected to record the requests it
// gets and fail them: the summary of a long article is made from the notes
// its translation requests wrote, so it is a second phase. A summary that
// needs no request is remembered and the article is Done. Calls that share
// planned must come one at a time, in a fixed order for a repeatable plan.
func (p *Pipeline) Next(ctx context.Context, in0 *Parsed, planned *Claims, summarizer *summarize.Summarizer) (Pending, error) {
	if in0.done {
		return Pending{Done: true}, nil
	}
	a, texts := in0.a, in0.texts
	wantSum := p.Summarizer != nil && len(texts) > 0
	haveSum := wantSum && p.Summarizer.Has(a.Title, texts)
	if wantSum && !haveSum {
		_, _, haveSum = p.pinnedSummary(nil, a)
	}
	// A person's translations (the memory's pins) are never asked for.
	in := translate.Input{Title: a.Title, Texts: texts, Brief: wantSum && !haveSum, Pinned: p.pins(nil, a.Title, texts)}
	plan := p.Translator.Plan(in, translate.PlanOptions{Claim: planned.Claim, SkipParts: true})
	if plan.Missing() > 0 {
		return Pending{Translations: plan.Requests}, nil
	}
	if !wantSum || haveSum {
		return Pending{Done: true}, nil
	}
	in.Brief = false
	tr, err := p.Translator.Translate(ctx, in)
	if err != nil {
		return Pending{}, fmt.Errorf("translations: %w", err)
	}
	rec := &Pipeline{Translator: p.Translator, Summarizer: summarizer, Layout: p.Layout, Model: p.Model}
	sum, err := rec.summary(ctx, in, tr)
	switch {
	case err == nil:
		p.Summarizer.Remember(a.Title, texts, sum)
		return Pending{Done: true}, nil
	case errors.Is(err, context.Canceled):
		return Pending{}, err
	}
	return Pending{Summary: true, SummaryErr: err}, nil
}

// AcceptSummary takes brief, the summary that the one translation request
// of an article carried (translate.Verdict.Brief of a "summary" request),
// as that article's summary, as Article takes it from such an answer.
func (p *Pipeline) AcceptSummary(data []byte, brief string) error {
	if p.Summarizer == nil {
		return nil
	}
	a, texts, err := p.load(data)
	if err != nil {
		return err
	}
	sum, err := p.Summarizer.Parse(brief)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	p.Summarizer.Remember(a.Title, texts, sum)
	return nil
}
