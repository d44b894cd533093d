package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/llm"
)

// maxResultLine is the longest result line read (an answer is far smaller).
const maxResultLine = 64 << 20

// CollectOptions configure Collect.
type CollectOptions struct {
	// API fetches the batches' results; nil when From gives them.
	API *llm.BatchAPI
	// From are result files made elsewhere (vLLM's run_batch output, or
	// OpenAI output and error files downloaded by hand), in the batch
	// output format. They are copied into results/ and read with the rest.
	From []string
	// Wait polls unfinished batches every Poll until they end.
	Wait bool
	Poll time.Duration
	// Errorf reports one problem per line: a failed batch, a line that is
	// not a result.
	Errorf func(format string, args ...any)
	// Logf reports progress (waiting for batches).
	Logf func(format string, args ...any)
}

// CollectReport says what Collect found.
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
}

// Judge judges the result r of the request e of job (this round's, or an
// earlier round's for a result that came late), caches what is good and
// returns the outcome.
type Judge func(job *Job, e *Entry, r Result) Outcome

// Collect fetches the results of the job's finished batches (or reads
// From) and gives every result a round of the job knows to judge, each
// request counted once by its best outcome. Once every result there is has
// been read, the round is marked collected: a next round may move it away.
func Collect(ctx context.Context, job *Job, opts CollectOptions, judge Judge) (CollectReport, error) {
	var rep CollectReport
	errorf := opts.Errorf
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
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
		if err := scanResults(f, bytes.NewReader(data), func(Result) { good++ }, func(_ int, req bool) {
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
	files, err := filepath.Glob(filepath.Join(results, "*.jsonl"))
	if err != nil {
		return rep, err
	}
	slices.Sort(files)
	// Each request counts once, by its best answer: a result file given
	// twice, or a request answered in two files, is not counted twice.
	seen := map[string]Outcome{} // this round's requests
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
		if err := readResults(f, func(r Result) {
			e, err := manifest.get(r.CustomID)
			if err != nil {
				bad = err
				return
			}
			if e != nil {
				prev, ok := seen[r.CustomID]
				if prev == Good {
					rep.Repeated++
					return
				}
				now := max(prev, judge(job, e, r))
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
					judge(old.job, e, r)
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
					return opts.API.Content(ctx, id)
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

// Result is one line of a batch output or error file: OpenAI's format,
// which vLLM's run_batch also writes (with a string error).
type Result struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error json.RawMessage `json:"error"`
	Body  json.RawMessage `json:"body"` // a request line's, not a result's
}

// Failure returns why the request of r failed, or "" if it was answered
// (its answer is then r.Response.Body).
func (r Result) Failure() string {
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
	switch {
	case code == "":
		return msg
	case msg == "":
		return code
	}
	return code + ": " + msg
}

// readResults calls fn for each line of a results file, and badLine with
// the number of each line that is not a result (request: it is a batch
// request line, with a body and no response or error).
func readResults(path string, fn func(Result), badLine func(n int, request bool)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return scanResults(path, f, fn, badLine)
}

func scanResults(path string, f io.Reader, fn func(Result), badLine func(n int, request bool)) error {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxResultLine)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r Result
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

// Outcome is what became of a request's result, worst first.
type Outcome int

const (
	NoOutcome Outcome = iota // not judged (a summary with summaries off)
	Failed                   // a failed request, or an answer wholly rejected
	Partial                  // an answer with some segments rejected
	Good                     // an answer wholly accepted
)

// count adds a request's outcome to the report; uncount takes it back.
func (rep *CollectReport) count(o Outcome) { rep.add(o, 1) }

func (rep *CollectReport) uncount(o Outcome) { rep.add(o, -1) }

func (rep *CollectReport) add(o Outcome, n int) {
	switch o {
	case Failed:
		rep.Failed += n
	case Partial:
		rep.Partial += n
	case Good:
		rep.Good += n
	}
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
