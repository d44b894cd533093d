package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
)

// maxResultLine is the longest result line read (an answer is far smaller).
const maxResultLine = 64 << 20

// CollectOptions configure Collect.
type CollectOptions struct {
	Store cache.Store
	// API fetches the batches' results; nil when From gives them.
	API *openai.Client
	// From are result files made elsewhere (vLLM's run_batch output, or
	// OpenAI output and error files downloaded by hand), in the batch
	// output format. They are copied into results/ and read with the rest.
	From []string
	// Output is where the outputs go (default: the job's out/).
	Output string
	// Wait polls unfinished batches every Poll until they end.
	Wait bool
	Poll time.Duration
	// Files is how many outputs are rendered at once.
	Files int
	// Errorf reports one problem per line: a failed request, a file that
	// cannot be written.
	Errorf func(format string, args ...any)
	// Logf reports progress (waiting for batches).
	Logf func(format string, args ...any)
}

// CollectReport says what Collect found and did.
type CollectReport struct {
	// Lines, Good, Partial and Failed count this round's requests, each
	// once, by its best result.
	Lines       int // requests of this round with a result
	Good        int // answers wholly accepted
	Partial     int // answers with some segments rejected
	Failed      int // requests that failed (error status, bad answer, expired)
	Repeated    int // result lines of a request already read (not counted again)
	Earlier     int // requests of earlier rounds answered (cached, not counted above)
	Unknown     int // custom_ids no round of the job knows
	Malformed   int // lines that are not batch results
	Unsubmitted int // batch files not submitted
	Running     int // batches not finished
	Missing     int // requests of finished batches with no result line
	Written     int // outputs complete and written
	Incomplete  int // files still needing requests: the next round
	Broken      int // files that failed for another reason
	NeedSummary int // of Incomplete, those only missing their summary
}

// Collect fetches the results of the job's finished batches (or reads
// From), judges every answer as the online path judges it, caches what is
// good and writes every output that the cache now completes. A file still
// missing a translation or its summary is counted in Incomplete: the next
// Prepare plans exactly what it lacks.
func Collect(ctx context.Context, job *Job, opts CollectOptions) (CollectReport, error) {
	var rep CollectReport
	errorf := opts.Errorf
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if opts.Output == "" {
		opts.Output = filepath.Join(job.dir, "out")
	}
	results := filepath.Join(job.dir, resultsDir)
	if err := os.MkdirAll(results, 0o755); err != nil {
		return rep, err
	}
	// Only files of batch results join results/, where every later
	// collect reads them: all are checked before any is kept.
	from := make([][]byte, len(opts.From))
	for i, f := range opts.From {
		data, err := os.ReadFile(f)
		if err != nil {
			return rep, err
		}
		good, requests := 0, 0
		if err := scanResults(f, bytes.NewReader(data), func(result) { good++ }, func(_ int, req bool) {
			if req {
				requests++
			}
		}); err != nil {
			return rep, err
		}
		if good == 0 {
			hint := ""
			if requests > 0 {
				hint = " (it looks like a batch input file, requests-NNN.jsonl: give the output file run_batch or the Batch API wrote for it)"
			}
			return rep, fmt.Errorf("%s: not batch results: no line carries a custom_id with a response or an error%s; nothing collected, the file is not kept", f, hint)
		}
		from[i] = data
	}
	for _, data := range from {
		if err := atomicfile.Write(filepath.Join(results, "from-"+cache.Key(string(data))[:12]+".jsonl"), data); err != nil {
			return rep, err
		}
	}
	if len(opts.From) == 0 && len(job.Parts) > 0 && job.Unsubmitted() == len(job.Parts) {
		return rep, fmt.Errorf("the job in %s is not submitted: run xlate batch submit %s, or give results with --from", job.dir, job.dir)
	}
	if len(opts.From) == 0 {
		rep.Unsubmitted = job.Unsubmitted()
	}
	if opts.API != nil && len(opts.From) == 0 {
		running, err := fetch(ctx, job, opts, results, logf, errorf)
		if err != nil {
			return rep, err
		}
		rep.Running = running
	}

	manifest, err := job.openManifest()
	if err != nil {
		return rep, err
	}
	defer manifest.Close()
	ps, err := job.Settings.Pipeline()
	if err != nil {
		return rep, err
	}
	p := pipeline.New(offline{}, opts.Store, ps)
	files, err := filepath.Glob(filepath.Join(results, "*.jsonl"))
	if err != nil {
		return rep, err
	}
	slices.Sort(files)
	// Each request counts once, by its best answer: a result file given
	// twice, or a request answered in two files, is not counted twice.
	seen := map[string]outcome{} // this round's requests
	late := map[string]bool{}    // earlier rounds' requests
	unknown := map[string]bool{}
	var earlier []*round // opened on the first result this round does not know
	defer func() {
		for _, r := range earlier {
			r.m.Close()
		}
	}()
	for _, f := range files {
		var bad error
		if err := readResults(f, func(r result) {
			e, err := manifest.get(r.CustomID)
			if err != nil {
				bad = err
				return
			}
			if e != nil {
				prev, ok := seen[r.CustomID]
				if prev == good {
					rep.Repeated++
					return
				}
				now := max(prev, accept(job, p, e, r, errorf))
				if ok {
					rep.Repeated++
					rep.uncount(prev)
				} else {
					rep.Lines++
				}
				seen[r.CustomID] = now
				rep.count(now)
				return
			}
			// A result of an earlier round's request (run late, or
			// given with --from after the next prepare) is as good,
			// and not counted with this round's.
			if earlier == nil {
				earlier = job.earlierRounds()
			}
			for _, old := range earlier {
				if e, err := old.m.get(r.CustomID); err == nil && e != nil {
					accept(old.job, p, e, r, errorf)
					if !late[r.CustomID] {
						late[r.CustomID] = true
						rep.Earlier++
					}
					return
				}
			}
			if !unknown[r.CustomID] {
				unknown[r.CustomID] = true
				rep.Unknown++
			}
		}, func(n int, _ bool) {
			rep.Malformed++
			errorf("%s:%d: not a batch result line; skipped", f, n)
		}); err != nil {
			return rep, err
		}
		if bad != nil {
			return rep, bad
		}
	}
	if (len(opts.From) > 0 || rep.Running == 0) && !job.Collected {
		// Every result there is has been read: a next round may move
		// this one away.
		job.Collected = true
		if err := job.save(); err != nil {
			return rep, err
		}
	}
	if rep.Running == 0 {
		for id := range manifest.at {
			if _, ok := seen[id]; !ok {
				rep.Missing++
			}
		}
	}

	jobs := make([]pipeline.Job, len(job.Files))
	for i, f := range job.Files {
		jobs[i] = pipeline.Job{In: f.In, Out: filepath.Join(opts.Output, f.Out)}
	}
	run := p.Run(ctx, jobs, pipeline.RunOptions{Files: opts.Files, Failed: func(err error) {
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

// fetch refreshes the job's batches, downloads the results of those that
// ended and returns how many are still running.
func fetch(ctx context.Context, job *Job, opts CollectOptions, results string, logf, errorf func(string, ...any)) (int, error) {
	poll := opts.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		problems, err := Status(ctx, job, opts.API)
		if err != nil {
			return 0, err
		}
		for _, pr := range problems {
			errorf("%s", pr)
		}
		running := 0
		for _, p := range job.Parts {
			if p.BatchID == "" || p.Downloaded {
				continue
			}
			if !terminal(p.Status) {
				running++
				continue
			}
			for _, id := range []string{p.OutputFileID, p.ErrorFileID} {
				if id == "" {
					continue
				}
				data, err := call(ctx, "download "+id, func(ctx context.Context) ([]byte, error) {
					raw, err := opts.API.GetFileContent(ctx, id)
					if err != nil {
						return nil, err
					}
					defer raw.Close()
					return io.ReadAll(raw)
				})
				if err != nil {
					return 0, err
				}
				if err := atomicfile.Write(filepath.Join(results, p.BatchID+"-"+id+".jsonl"), data); err != nil {
					return 0, err
				}
			}
			p.Downloaded = true
			if err := job.save(); err != nil {
				return 0, err
			}
		}
		if running == 0 || !opts.Wait {
			return running, nil
		}
		logf("%d of %d batches still running; next look in %s", running, len(job.Parts), poll)
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return running, ctx.Err()
		}
	}
}

// result is one line of a batch output or error file: OpenAI's format,
// which vLLM's run_batch also writes (with a string error).
type result struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error json.RawMessage `json:"error"`
	Body  json.RawMessage `json:"body"` // a request line's, not a result's
}

// failure returns why the request of r failed, or "" if it was answered.
func (r result) failure() string {
	if r.Response != nil && r.Response.StatusCode == 200 && len(r.Response.Body) > 0 && string(r.Response.Body) != "null" {
		return ""
	}
	if msg := errorMessage(r.Error); msg != "" {
		return msg
	}
	if r.Response != nil {
		var body struct {
			Error json.RawMessage `json:"error"`
		}
		_ = json.Unmarshal(r.Response.Body, &body)
		if msg := errorMessage(body.Error); msg != "" {
			return fmt.Sprintf("status %d: %s", r.Response.StatusCode, msg)
		}
		return fmt.Sprintf("status %d", r.Response.StatusCode)
	}
	return "no response"
}

// errorMessage reads an error given as a string, as {"code","message"}
// (OpenAI) or as {"error": {...}} (vLLM), whatever the type of its code.
func errorMessage(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return string(raw)
	}
	if inner, ok := m["error"]; ok {
		return errorMessage(inner)
	}
	var code, msg string
	if c, ok := m["code"]; ok && string(c) != "null" {
		if json.Unmarshal(c, &code) != nil {
			code = string(c)
		}
	}
	_ = json.Unmarshal(m["message"], &msg)
	if code == "" && msg == "" {
		return string(raw)
	}
	return strings.TrimPrefix(code+": "+msg, ": ")
}

// readResults calls fn for each line of a results file, and badLine with
// the number of each line that is not a result (request: it is a batch
// request line, with a body and no response or error).
func readResults(path string, fn func(result), badLine func(n int, request bool)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return scanResults(path, f, fn, badLine)
}

func scanResults(path string, f io.Reader, fn func(result), badLine func(n int, request bool)) error {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxResultLine)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil || r.CustomID == "" {
			badLine(n, false)
			continue
		}
		if r.Response == nil && errorMessage(r.Error) == "" {
			// Neither answered nor failed: not a result (a request line
			// of a batch input file has custom_id too).
			badLine(n, len(r.Body) > 0)
			continue
		}
		fn(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// outcome is what became of a request's result, worst first.
type outcome int

const (
	noOutcome outcome = iota
	failed
	partial
	good
)

// count adds a request's outcome to the report; uncount takes it back.
func (rep *CollectReport) count(o outcome) { rep.add(o, 1) }

func (rep *CollectReport) uncount(o outcome) { rep.add(o, -1) }

func (rep *CollectReport) add(o outcome, n int) {
	switch o {
	case failed:
		rep.Failed += n
	case partial:
		rep.Partial += n
	case good:
		rep.Good += n
	}
}

// accept judges one answered request, caches what is good and returns
// the outcome.
func accept(job *Job, p *pipeline.Pipeline, e *entry, r result, errorf func(string, ...any)) outcome {
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
	if why := r.failure(); why != "" {
		errorf("%s (%s): request failed: %s", e.CustomID, files(), why)
		return failed
	}
	var body openai.ChatCompletionResponse
	if err := json.Unmarshal(r.Response.Body, &body); err != nil {
		errorf("%s (%s): answer is not a chat completion: %v", e.CustomID, files(), err)
		return failed
	}
	resp, err := llm.ResponseOf(body)
	if err != nil {
		errorf("%s (%s): %v", e.CustomID, files(), err)
		return failed
	}
	switch {
	case e.Translate != nil:
		v := p.Translator.Accept(*e.Translate, resp.Content, resp.FinishReason)
		o := good
		switch {
		case v.Good == 0:
			o = failed
			errorf("%s (%s): answer rejected: %s", e.CustomID, files(), strings.Join(v.Why, "; "))
		case v.Bad > 0:
			o = partial
		}
		if e.Translate.Brief == "summary" && v.Brief != "" {
			for _, i := range e.Files {
				f := job.Files[i]
				data, err := pipeline.ReadFile(f.In)
				if err != nil || contentSum(data) != f.Sum {
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
			return failed
		}
		return good
	}
	return noOutcome
}

// round is an earlier round of a job, for results that arrive late.
type round struct {
	job *Job
	m   *manifestIndex
}

// earlierRounds opens the archived rounds made with the job's settings
// (their answers are cached under the same keys). It returns a non-nil
// slice, empty if there are none.
func (j *Job) earlierRounds() []*round {
	rounds := []*round{}
	want, _ := json.Marshal(j.Settings)
	dirs, _ := filepath.Glob(filepath.Join(j.dir, "rounds", "*"))
	for _, d := range dirs {
		old, err := Open(d)
		if err != nil {
			continue
		}
		if got, _ := json.Marshal(old.Settings); !bytes.Equal(got, want) {
			continue
		}
		m, err := old.openManifest()
		if err != nil {
			continue
		}
		rounds = append(rounds, &round{job: old, m: m})
	}
	return rounds
}
