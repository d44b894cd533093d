package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/batch"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/memory"
	"github.com/xlate/xlate/render"
)

// Batch jobs: the requests a set of files needs, planned from the cache
// into a job directory of package batch (PrepareBatch), and their answers
// judged as the online path judges them and turned into outputs
// (CollectBatch).

// NeedsRequest is the error of a step that works from the cache alone
// (collect's rendering, prepare's planning) when it needs an answer the
// cache does not hold.
type NeedsRequest struct {
	Purpose string // "translate" or "summary"
}

func (e *NeedsRequest) Error() string {
	return "no answer yet for a " + e.Purpose + " request"
}

// offline is a Client that answers nothing: everything must come from the
// cache.
type offline struct{}

func (offline) Complete(_ context.Context, req llm.Request) (llm.Response, error) {
	return llm.Response{}, &NeedsRequest{Purpose: req.Purpose}
}

// recorder is a Client that records the requests it gets and fails them,
// so that running the online code through it lists the requests it would
// make.
type recorder struct {
	mu   sync.Mutex
	reqs []llm.Request
}

func (r *recorder) Complete(_ context.Context, req llm.Request) (llm.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return llm.Response{}, &NeedsRequest{Purpose: req.Purpose}
}

// drain returns the requests recorded since the last drain, in a stable
// order.
func (r *recorder) drain() []llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	slices.SortStableFunc(out, func(a, b llm.Request) int {
		return strings.Compare(a.Messages[len(a.Messages)-1].Content, b.Messages[len(b.Messages)-1].Content)
	})
	return out
}

// SettingsOf is the job's form of the pipeline's settings and the output
// names' suffix; JobSettings undoes it.
func SettingsOf(s Settings, suffix string) batch.Settings {
	return batch.Settings{Model: s.Model, Lang: s.Lang, Layout: s.Layout.String(), Summary: s.Summary,
		Budget: s.Budget, Glossary: s.Glossary, Suffix: suffix, Format: syntaxName(s.Syntax)}
}

// JobSettings returns a job's settings as the pipeline's.
func JobSettings(s batch.Settings) (Settings, error) {
	layout, err := render.ParseLayout(s.Layout)
	if err != nil {
		return Settings{}, err
	}
	syntax, err := article.ParseSyntax(s.Format)
	if err != nil {
		return Settings{}, err
	}
	return Settings{Model: s.Model, Lang: s.Lang, Layout: layout, Summary: s.Summary, Budget: s.Budget, Glossary: s.Glossary, Syntax: syntax}, nil
}

// syntaxName is the job's form of a body syntax: "" for auto, so that job
// files from before the setting existed read the same.
func syntaxName(s article.Syntax) string {
	if s == article.SyntaxAuto {
		return ""
	}
	return s.String()
}

// BatchPrepareOptions configure PrepareBatch.
type BatchPrepareOptions struct {
	// Inputs are the files and directories to translate. Empty: the
	// existing job's inputs and settings, for its next round.
	Inputs   []string
	Settings batch.Settings // for a new job (a next round keeps the job's)
	Store    cache.Store
	// MaxRequests and MaxBytes bound one batch input file (defaults
	// batch.DefaultMaxRequests, batch.DefaultMaxBytes).
	MaxRequests int
	MaxBytes    int64
	// Errorf reports a file that cannot be planned (one line).
	Errorf func(format string, args ...any)
	// Memory holds the pinned translations, which are never asked for.
	Memory *memory.Memory
}

// BatchPrepareReport says what PrepareBatch planned.
type BatchPrepareReport struct {
	Round int
	// Model is the model every request line names: a vLLM run_batch must
	// serve the model under this name (--served-model-name).
	Model   string
	Files   int // inputs of the job
	Ready   int // complete from the cache: collect writes them
	Failed  int // could not be read or parsed
	Waiting int // files waiting only on other files' requests
	Parts   int // batch input files
	// Planned counts the translation and summary requests and their
	// tokens: the prompts' (o200k) and the answers' expected.
	batch.Planned
}

// Requests is the number of requests planned.
func (r BatchPrepareReport) Requests() int { return r.Translations + r.Summaries }

// PrepareBatch plans, in dir, the requests that the files need and the
// cache cannot answer, written as OpenAI batch input files, with the
// manifest that maps each request back to its segments and files.
//
// A new dir (or one prepared but not submitted) gets a new job. A job
// whose batches were all collected gets its next round (its earlier files
// move to rounds/N/); with no Inputs it keeps its inputs and settings. A
// job submitted and not collected is refused: its answers would be lost.
func PrepareBatch(ctx context.Context, dir string, opts BatchPrepareOptions) (*batch.Job, BatchPrepareReport, error) {
	errorf := opts.Errorf
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	job, err := batch.NewRound(dir, opts.Inputs, opts.Settings)
	if err != nil {
		return nil, BatchPrepareReport{}, err
	}
	if slices.Contains(opts.Inputs, Stdio) {
		return nil, BatchPrepareReport{}, errors.New("a batch job reads files, not standard input")
	}
	ps, err := JobSettings(job.Settings)
	if err != nil {
		return nil, BatchPrepareReport{}, err
	}

	// Plan the outputs into dir/out, collect's default output directory;
	// the job keeps them relative, so collect can write them anywhere.
	outDir := filepath.Join(dir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, BatchPrepareReport{}, err
	}
	jobs, skipped, err := PlanWith(job.Inputs, outDir, PlanOptions{Suffix: job.Settings.Suffix})
	if err != nil {
		return nil, BatchPrepareReport{}, err
	}
	rep := BatchPrepareReport{Round: job.Round, Model: ps.Model, Failed: len(skipped)}
	for _, e := range skipped {
		errorf("%v", e)
	}

	p := New(offline{}, opts.Store, ps)
	p.Memory = opts.Memory
	rec := &recorder{}
	summarizer := New(rec, opts.Store, ps).Summarizer
	w, err := job.NewWriter(opts.MaxRequests, opts.MaxBytes, chunk.Default().Count)
	if err != nil {
		return nil, rep, err
	}
	defer w.Abort() // removes the files of a round not committed
	planned := &Claims{}
	pctx, stop := context.WithCancel(ctx)
	defer stop() // ends the parsing ahead on any return
	parsed := parseAhead(pctx, p, jobs)
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, rep, err
		}
		rel, err := filepath.Rel(outDir, j.Out)
		if err != nil {
			return nil, rep, err
		}
		pa, ok := <-parsed
		if !ok {
			return nil, rep, ctx.Err()
		}
		if pa.err != nil {
			rep.Failed++
			errorf("%s: %v", j.In, pa.err)
			continue
		}
		pend, err := p.Next(ctx, pa.parsed, planned, summarizer)
		if err != nil {
			if ctx.Err() != nil {
				return nil, rep, ctx.Err()
			}
			rep.Failed++
			errorf("%s: %v", j.In, err)
			continue
		}
		idx := len(job.Files)
		job.Files = append(job.Files, batch.File{In: j.In, Out: rel, Sum: pa.sum})
		switch {
		case pend.Done:
			rep.Ready++
		case len(pend.Translations) > 0:
			for _, r := range pend.Translations {
				if err := w.AddTranslation(idx, r); err != nil {
					return nil, rep, fmt.Errorf("%s: %w", j.In, err)
				}
			}
		case pend.Summary:
			reqs := rec.drain()
			if len(reqs) == 0 {
				rep.Failed++
				errorf("%s: summary: %v", j.In, pend.SummaryErr)
			}
			for _, r := range reqs {
				system, user := r.Messages[0].Content, r.Messages[len(r.Messages)-1].Content
				if err := w.AddSummary(idx, system, user); err != nil {
					return nil, rep, fmt.Errorf("%s: %w", j.In, err)
				}
			}
		default:
			rep.Waiting++
		}
	}
	rep.Files = len(job.Files)
	rep.Planned = w.Planned()
	if err := w.Commit(rep.Ready); err != nil {
		return nil, rep, err
	}
	rep.Parts = len(job.Parts)
	return job, rep, nil
}

// parsedFile is an input read and parsed ahead of planning.
type parsedFile struct {
	parsed *Parsed
	sum    string // batch.ContentSum of its bytes
	err    error
}

// parseAhead reads and parses the inputs on every core and delivers them
// in order, a bounded window ahead of the planning, which takes them one
// by one: planning is sequential so that the plan is the same every time.
func parseAhead(ctx context.Context, p *Pipeline, jobs []Job) <-chan parsedFile {
	workers := runtime.GOMAXPROCS(0)
	slots := make(chan chan parsedFile, 4*workers) // in job order
	out := make(chan parsedFile)
	sem := make(chan struct{}, workers)
	go func() {
		defer close(slots)
		for _, j := range jobs {
			slot := make(chan parsedFile, 1)
			select {
			case slots <- slot:
			case <-ctx.Done():
				return
			}
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				data, err := ReadFile(j.In)
				if err != nil {
					slot <- parsedFile{err: err}
					return
				}
				pa, err := p.Parse(data)
				slot <- parsedFile{parsed: pa, sum: batch.ContentSum(data), err: err}
			}()
		}
	}()
	go func() {
		defer close(out)
		for slot := range slots {
			select {
			case out <- <-slot:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
