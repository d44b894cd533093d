package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/xlate/xlate/batch"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/memory"
)

// BatchCollectOptions configure CollectBatch.
type BatchCollectOptions struct {
	// CollectOptions say where the results come from. Their Errorf also
	// gets the answers rejected and the outputs that cannot be written.
	batch.CollectOptions
	Store cache.Store
	// Output is where the outputs go (default: the job's out/).
	Output string
	// Files is how many outputs are rendered at once.
	Files int
	// Memory, Force and Notef: a person's edits in the outputs, as Run
	// reads them back (Pipeline.Memory, Pipeline.Force, RunOptions.Notef).
	Memory *memory.Memory
	Force  bool
	Notef  func(format string, args ...any)
}

// BatchCollectReport says what CollectBatch found and did.
type BatchCollectReport struct {
	batch.CollectReport     // the results read
	Written             int // outputs complete and written
	Incomplete          int // files still needing requests: the next round
	Broken              int // files that failed for another reason
	NeedSummary         int // of Incomplete, those only missing their summary
}

// CollectBatch fetches the results of the job's finished batches (or reads
// From), judges every answer as the online path judges it, caches what is
// good and writes every output that the cache now completes. A file still
// missing a translation or its summary is counted in Incomplete: the next
// PrepareBatch plans exactly what it lacks.
func CollectBatch(ctx context.Context, job *batch.Job, opts BatchCollectOptions) (BatchCollectReport, error) {
	var rep BatchCollectReport
	errorf := opts.Errorf
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	if opts.Output == "" {
		opts.Output = filepath.Join(job.Dir(), "out")
	}
	ps, err := JobSettings(job.Settings)
	if err != nil {
		return rep, err
	}
	p := New(offline{}, opts.Store, ps)
	p.Memory, p.Force = opts.Memory, opts.Force
	rep.CollectReport, err = batch.Collect(ctx, job, opts.CollectOptions, func(job *batch.Job, e *batch.Entry, r batch.Result) batch.Outcome {
		return accept(job, p, e, r, errorf)
	})
	if err != nil {
		return rep, err
	}

	jobs := make([]Job, len(job.Files))
	for i, f := range job.Files {
		jobs[i] = Job{In: f.In, Out: filepath.Join(opts.Output, f.Out)}
	}
	run := p.Run(ctx, jobs, RunOptions{Files: opts.Files, Notef: opts.Notef, Failed: func(err error) {
		var need *NeedsRequest
		if errors.As(err, &need) {
			rep.Incomplete++
			if need.Purpose == "summary" {
				rep.NeedSummary++
			}
			return
		}
		rep.Broken++
		errorf("%v", err)
	}})
	rep.Written = run.Done
	if run.Interrupted {
		return rep, ctx.Err()
	}
	return rep, nil
}

// accept judges one answered request, caches what is good and returns
// the outcome.
func accept(job *batch.Job, p *Pipeline, e *batch.Entry, r batch.Result, errorf func(string, ...any)) batch.Outcome {
	files := func() string {
		var names []string
		for i, f := range e.Files {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(e.Files)-3))
				break
			}
			names = append(names, job.Files[f].In)
		}
		return strings.Join(names, ", ")
	}
	if why := r.Failure(); why != "" {
		errorf("%s (%s): request failed: %s", e.CustomID, files(), why)
		return batch.Failed
	}
	resp, err := llm.ParseChatCompletion(r.Response.Body)
	if err != nil {
		errorf("%s (%s): %v", e.CustomID, files(), err)
		return batch.Failed
	}
	switch {
	case e.Translate != nil:
		v := p.Translator.Accept(*e.Translate, resp.Content, resp.FinishReason)
		o := batch.Good
		switch {
		case v.Good == 0:
			o = batch.Failed
			errorf("%s (%s): answer rejected: %s", e.CustomID, files(), strings.Join(v.Why, "; "))
		case v.Bad > 0:
			o = batch.Partial
		}
		if e.Translate.Brief == "summary" && v.Brief != "" {
			for _, i := range e.Files {
				f := job.Files[i]
				data, err := ReadFile(f.In)
				if err != nil || batch.ContentSum(data) != f.Sum {
					// The summary is of the text as prepared: an edited
					// file gets its own in the next round.
					errorf("%s: changed since prepare: its summary is asked again in the next round", f.In)
					continue
				}
				_ = p.AcceptSummary(data, v.Brief) // without it, the next round asks again
			}
		}
		return o
	case e.Summary != nil && p.Summarizer != nil:
		if err := p.Summarizer.Accept(e.Summary.User, resp.Content, resp.FinishReason); err != nil {
			errorf("%s (%s): summary rejected: %v", e.CustomID, files(), err)
			return batch.Failed
		}
		return batch.Good
	}
	return batch.NoOutcome
}
