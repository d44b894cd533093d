package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
	"github.com/xlate/xlate/translate"
)

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

// PrepareOptions configure Prepare.
type PrepareOptions struct {
	// Inputs are the files and directories to translate. Empty: the
	// existing job's inputs and settings, for its next round.
	Inputs   []string
	Settings Settings // for a new job (a next round keeps the job's)
	Store    cache.Store
	// MaxRequests and MaxBytes bound one batch input file (defaults
	// DefaultMaxRequests, DefaultMaxBytes).
	MaxRequests int
	MaxBytes    int64
	// Errorf reports a file that cannot be planned (one line).
	Errorf func(format string, args ...any)
}

// PrepareReport says what Prepare planned.
type PrepareReport struct {
	Round int
	// Model is the model every request line names: a vLLM run_batch must
	// serve the model under this name (--served-model-name).
	Model        string
	Files        int // inputs of the job
	Ready        int // complete from the cache: collect writes them
	Failed       int // could not be read or parsed
	Translations int // translation requests
	Summaries    int // summary requests
	Waiting      int // files waiting only on other files' requests
	Parts        int // batch input files
	// InputTokens are the prompt tokens of the requests (o200k);
	// OutputTokens the answer tokens expected.
	InputTokens, OutputTokens int64
}

// Requests is the number of requests planned.
func (r PrepareReport) Requests() int { return r.Translations + r.Summaries }

// Prepare plans, in dir, the requests that the files need and the cache
// cannot answer, written as OpenAI batch input files, with the manifest
// that maps each request back to its segments and files.
//
// A new dir (or one prepared but not submitted) gets a new job. A job
// whose batches were all collected gets its next round (its earlier files
// move to rounds/N/); with no Inputs it keeps its inputs and settings. A
// job submitted and not collected is refused: its answers would be lost.
func Prepare(ctx context.Context, dir string, opts PrepareOptions) (*Job, PrepareReport, error) {
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = DefaultMaxRequests
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	errorf := opts.Errorf
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	job := &Job{Version: formatV, Round: 1, Created: time.Now().UTC(), Settings: opts.Settings, dir: dir}
	var previous *Job // a finished round, archived once the new one is planned
	old, err := openOrRecover(dir)
	switch {
	case err != nil:
		return nil, PrepareReport{}, err
	case old != nil:
		job.Round = old.Round
		unread := old.submitted() && !old.Collected
		for _, p := range old.Parts {
			unread = unread || p.BatchID != "" && !p.Downloaded
		}
		if unread {
			return nil, PrepareReport{}, fmt.Errorf("the job in %s was submitted and is not collected yet: run xlate batch collect %s first, or prepare into another directory", dir, dir)
		}
		if old.submitted() || old.Collected {
			previous = old
			job.Round++
		}
		if len(opts.Inputs) == 0 {
			job.Settings, job.Inputs = old.Settings, old.Inputs
		}
	case len(opts.Inputs) == 0:
		return nil, PrepareReport{}, errors.New("no inputs: give the files or directories to translate")
	}
	if len(opts.Inputs) > 0 {
		job.Inputs = nil
		for _, in := range opts.Inputs {
			if in == pipeline.Stdio {
				return nil, PrepareReport{}, errors.New("a batch job reads files, not standard input")
			}
			abs, err := filepath.Abs(in)
			if err != nil {
				return nil, PrepareReport{}, err
			}
			job.Inputs = append(job.Inputs, abs)
		}
	}
	ps, err := job.Settings.Pipeline()
	if err != nil {
		return nil, PrepareReport{}, err
	}

	// Plan the outputs into dir/out, collect's default output directory;
	// the job keeps them relative, so collect can write them anywhere.
	outDir := filepath.Join(dir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, PrepareReport{}, err
	}
	jobs, skipped, err := pipeline.PlanWith(job.Inputs, outDir, pipeline.PlanOptions{Suffix: job.Settings.Suffix})
	if err != nil {
		return nil, PrepareReport{}, err
	}
	rep := PrepareReport{Round: job.Round, Model: ps.Model, Failed: len(skipped)}
	for _, e := range skipped {
		errorf("%v", e)
	}

	p := pipeline.New(offline{}, opts.Store, ps)
	rec := &recorder{}
	summarizer := pipeline.New(rec, opts.Store, ps).Summarizer
	w, err := newJobWriter(dir, ps.Model, opts.MaxRequests, opts.MaxBytes)
	if err != nil {
		return nil, rep, err
	}
	committed := false
	defer func() {
		if !committed {
			w.abort()
		}
	}()
	planned := &pipeline.Claims{}
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
		job.Files = append(job.Files, File{In: j.In, Out: rel, Sum: pa.sum})
		switch {
		case pend.Done:
			rep.Ready++
		case len(pend.Translations) > 0:
			for _, r := range pend.Translations {
				if err := w.add(translateID(ps.Model, r), idx, &entry{Translate: &r}); err != nil {
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
				if err := w.add(customID(ps.Model, system, user), idx, &entry{Summary: &summaryRequest{System: system, User: user}}); err != nil {
					return nil, rep, fmt.Errorf("%s: %w", j.In, err)
				}
			}
		default:
			rep.Waiting++
		}
	}
	rep.Files = len(job.Files)
	rep.Translations, rep.Summaries = w.translations, w.summaries
	rep.InputTokens, rep.OutputTokens = w.inTokens, w.outTokens
	job.Translations, job.Summaries, job.Ready = rep.Translations, rep.Summaries, rep.Ready
	if previous != nil && !previous.archived {
		// The new round's files replace the finished one's: move it away
		// now that the new one is planned. Interrupted after this,
		// prepare finds it in rounds/N/.
		if err := previous.archive(); err != nil {
			return nil, rep, err
		}
	}
	if job.Parts, err = w.commit(); err != nil {
		return nil, rep, err
	}
	committed = true
	rep.Parts = len(job.Parts)
	return job, rep, job.save()
}

// openOrRecover returns the job in dir, nil if there is none. A job whose
// job.json is missing because a prepare was interrupted after moving the
// last round away is recovered from rounds/N/.
func openOrRecover(dir string) (*Job, error) {
	if _, err := os.Stat(filepath.Join(dir, jobFile)); err == nil {
		return Open(dir)
	}
	rounds, _ := filepath.Glob(filepath.Join(dir, "rounds", "*", jobFile))
	best := -1
	for _, r := range rounds {
		if n, err := strconv.Atoi(filepath.Base(filepath.Dir(r))); err == nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return nil, nil
	}
	j, err := Open(filepath.Join(dir, "rounds", strconv.Itoa(best)))
	if err != nil {
		return nil, err
	}
	j.dir, j.archived = dir, true
	return j, nil
}

// customID names a request by its content, so that the same request gets
// the same id in every round and identical requests are one.
func customID(model string, parts ...string) string {
	return "xlate-" + cache.Key(append([]string{model}, parts...)...)[:32]
}

// translateID is the custom_id of a translation request: its messages and
// the segments its pieces come from, which the messages alone do not tell
// apart (two paragraphs that differ only in a link's URL read the same
// once URLs are masked).
func translateID(model string, r translate.Request) string {
	parts := []string{r.System, r.User}
	for _, p := range r.Pieces {
		parts = append(parts, p.Source)
	}
	return customID(model, parts...)
}

// archive moves a collected round's files into rounds/N/.
func (j *Job) archive() error {
	dst := filepath.Join(j.dir, "rounds", strconv.Itoa(j.Round))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	// job.json goes last: interrupted before it, the round is still here
	// and the next prepare archives the rest.
	names := []string{manifestFile, resultsDir}
	for _, p := range j.Parts {
		names = append(names, p.Name)
	}
	names = append(names, jobFile)
	for _, name := range names {
		err := os.Rename(filepath.Join(j.dir, name), filepath.Join(dst, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("keep round %d: %w", j.Round, err)
		}
	}
	return nil
}

// line is one request of a batch input file.
type line struct {
	CustomID string `json:"custom_id"`
	Method   string `json:"method"`
	URL      string `json:"url"`
	Body     any    `json:"body"`
}

// marshalLine encodes v as one JSON line, HTML characters unescaped.
func marshalLine(v any) ([]byte, error) {
	var b jsonBuffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b, nil
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

// contentSum identifies an input's content, to notice an edit between
// prepare and collect.
func contentSum(data []byte) string {
	return cache.Key(string(data))[:32]
}

// parsedFile is an input read and parsed ahead of planning.
type parsedFile struct {
	parsed *pipeline.Parsed
	sum    string // contentSum of its bytes
	err    error
}

// parseAhead reads and parses the inputs on every core and delivers them
// in order, a bounded window ahead of the planning, which takes them one
// by one: planning is sequential so that the plan is the same every time.
func parseAhead(ctx context.Context, p *pipeline.Pipeline, jobs []pipeline.Job) <-chan parsedFile {
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
				data, err := pipeline.ReadFile(j.In)
				if err != nil {
					slot <- parsedFile{err: err}
					return
				}
				pa, err := p.Parse(data)
				slot <- parsedFile{parsed: pa, sum: contentSum(data), err: err}
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
