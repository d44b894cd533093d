package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/translate"
)

// MaxInputBytes is the largest input xlate reads. A larger file is
// rejected from its size alone, before any of it is read.
const MaxInputBytes = 16 << 20

// Report is the outcome of a run.
type Report struct {
	Done   int // outputs written (dry run: files planned)
	Cached int // of Done, those that needed no request
	Failed int
	Own    int // inputs that are xlate's own outputs, skipped (ErrOwnOutput)
	// Systemic is the first failure that was the setup's, not a file's (see
	// llm.IsSystemic): the run stopped there, reported it once, and left
	// NotAttempted files (those not started, and those it cut short).
	Systemic     error
	NotAttempted int
	// Reasks counts the requests made again for suspect or bad answers in
	// the files done; Suspects lists their segments that had a suspect
	// answer.
	Reasks       int
	Suspects     []FileSuspect
	Interrupted  bool
	SourceTokens int64    // tokens of the Chinese text of the files done
	Plan         Estimate // dry run: the totals
}

// FileSuspect is a segment of a file that had a suspect answer.
type FileSuspect struct {
	Path string
	translate.Suspect
}

// RunOptions are the I/O ends of a run.
type RunOptions struct {
	Stdin  io.Reader
	Stdout io.Writer
	// Errorf reports a failed file as it happens (one line, no newline).
	Errorf func(format string, args ...any)
	// Warnf reports a file written with a suspect answer that was accepted
	// (one line per segment, no newline).
	Warnf func(format string, args ...any)
	// Notef reports what became of a person's edits in an output (one
	// line, no newline): kept, no longer matching, or the file saved as
	// .orig before --force overwrote it.
	Notef func(format string, args ...any)
	// Failed, when set, is given each failure (a *FileError) instead of
	// Errorf, for callers that sort failures by cause.
	Failed func(err error)
	// Files is how many files are worked on at once.
	Files int
	// DryRun parses and estimates each file instead of translating it.
	DryRun bool
	// Progress, when set, is told about each file that is finished.
	Progress func(Report)
	// Logger, when set, gets a debug line per finished file (path, source
	// tokens, whether it came from the cache, time taken); never its text.
	Logger *slog.Logger
}

// Run processes jobs, files in parallel, and writes each output when it is
// complete. A failing file is reported through opts.Errorf and does not stop
// the others. When ctx is cancelled, dispatching stops, finished outputs stay
// and no partial output is written. A systemic failure (a wrong key, model
// or URL: llm.IsSystemic) stops the run the same way: it is not reported
// per file but once, in Report.Systemic.
func (p *Pipeline) Run(ctx context.Context, jobs []Job, opts RunOptions) Report {
	if opts.Files <= 0 {
		opts.Files = 4
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu      sync.Mutex // guards rep and serialises error lines
		rep     Report
		started int
	)
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if llm.IsSystemic(err) || rep.Systemic != nil {
			// The setup's failure: stop, and say it once.
			if rep.Systemic == nil {
				rep.Systemic = err
				stop()
			}
			rep.NotAttempted++
			return
		}
		rep.Failed++
		if opts.Failed != nil {
			opts.Failed(err)
			return
		}
		if opts.Errorf != nil {
			opts.Errorf("%s", oneLine(err.Error()))
		}
	}

	early := p.pinEditsFirst(jobs, opts)
	g := new(errgroup.Group)
	g.SetLimit(opts.Files)
	for _, job := range jobs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			mu.Lock()
			started++
			mu.Unlock()
			start := time.Now()
			res, err := p.runJob(ctx, job, opts, early[job.Out])
			if err == nil && opts.Logger != nil {
				opts.Logger.Debug("file done", "in", job.In, "out", job.Out, "source_tokens", res.SourceTokens,
					"from_cache", res.Cached, "elapsed", time.Since(start).Round(time.Millisecond))
			}
			switch {
			case err == nil:
				mu.Lock()
				rep.Done++
				if res.Cached {
					rep.Cached++
				}
				rep.SourceTokens += int64(res.SourceTokens)
				rep.Plan.add(res.Plan)
				rep.Reasks += res.Reasks
				for _, s := range res.Suspects {
					rep.Suspects = append(rep.Suspects, FileSuspect{Path: displayName(job.In), Suspect: s})
					if s.Accepted && opts.Warnf != nil {
						opts.Warnf("%s: %s: accepted a suspect answer (%s)", displayName(job.In), segmentName(s.Index), s.Reason)
					}
				}
				if opts.Progress != nil {
					opts.Progress(rep)
				}
				mu.Unlock()
				if res.SummaryErr != nil {
					// Written, but not whole: said, and the run fails.
					report(&FileError{Path: displayName(job.In), Err: fmt.Errorf("written without its summary (%w); run again to add it", res.SummaryErr)})
				}
			case errIsCancel(err) && ctx.Err() != nil:
				// Interrupted, or cut short after a systemic failure: not a
				// failure of this file.
				mu.Lock()
				if rep.Systemic != nil {
					rep.NotAttempted++
				}
				mu.Unlock()
			case errors.Is(err, ErrOwnOutput):
				mu.Lock()
				rep.Own++
				mu.Unlock()
				if opts.Logger != nil {
					opts.Logger.Debug("skipped", "in", job.In, "reason", "an xlate output")
				}
			default:
				report(err)
			}
			return nil
		})
	}
	_ = g.Wait()
	if rep.Systemic != nil {
		rep.NotAttempted += len(jobs) - started
	} else {
		rep.Interrupted = ctx.Err() != nil
	}
	return rep
}

// displayName is how messages name an input.
func displayName(in string) string {
	if in == Stdio {
		return "<stdin>"
	}
	return in
}

// segmentName is how messages name segment i of Input.Texts (-1: the
// title).
func segmentName(i int) string {
	if i < 0 {
		return "title"
	}
	return "paragraph " + strconv.Itoa(i+1)
}

func (p *Pipeline) runJob(ctx context.Context, job Job, opts RunOptions, early *priorResult) (Result, error) {
	name := displayName(job.In)
	data, err := readInputCtx(ctx, job.In, opts.Stdin)
	if err != nil {
		return Result{}, &FileError{Path: name, Err: err}
	}
	notef := opts.Notef
	if notef == nil {
		notef = func(string, ...any) {}
	}
	var pr *prior
	switch {
	case early != nil: // read back and pinned before the run began
		if early.err != nil {
			return Result{}, &FileError{Path: name, Err: early.err}
		}
		pr = early.pr
	case job.Out != Stdio && p.Memory != nil:
		// What a person changed in the output is read back before
		// anything is paid for, and pinned before anything is written.
		if pr, err = p.readPrior(job.Out, data); err != nil {
			return Result{}, &FileError{Path: name, Err: err}
		}
		if !opts.DryRun {
			if err := p.pin(pr, pr.edits, notef); err != nil {
				return Result{}, &FileError{Path: name, Err: err}
			}
		}
	}
	if opts.DryRun {
		e, err := p.estimate(data, pr)
		if err != nil {
			return Result{}, &FileError{Path: name, Err: err}
		}
		if pr != nil && len(pr.edits) > 0 {
			notef("would keep %s in %s", editCount(pr.edits), job.Out)
		}
		if pr != nil && pr.orig {
			notef("%s: would be overwritten (--force), the old file kept as %s: %s", job.Out, filepath.Base(job.Out)+".orig", pr.why)
		}
		return Result{Plan: e, SourceTokens: e.SourceTokens, Cached: e.Requests == 0}, nil
	}
	res, err := p.article(ctx, data, pr)
	if err != nil {
		return Result{}, &FileError{Path: name, Err: err}
	}
	if job.Out == Stdio {
		_, err = opts.Stdout.Write(res.Markdown)
	} else if pr == nil {
		err = atomicfile.Write(job.Out, res.Markdown)
	} else {
		if pr.unrecorded != nil {
			err = p.pin(pr, pr.edits, notef) // found by comparing with this run's text
		}
		if err == nil {
			err = p.writeOutput(pr, data, res)
		}
		if err == nil {
			p.reportEdits(pr, res, data, notef)
		}
	}
	if err != nil {
		return Result{}, &FileError{Path: name, Err: err}
	}
	return res, nil
}

// ReadFile reads the input file at path as Run does: a file over
// MaxInputBytes is refused from its size alone.
func ReadFile(path string) ([]byte, error) {
	return readInput(path, nil)
}

// readInputCtx is readInput that gives up when ctx is done: standard
// input or a FIFO without a writer blocks in open or read, and an
// interrupted run must still stop at once. The abandoned read ends with the
// process.
func readInputCtx(ctx context.Context, path string, stdin io.Reader) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := readInput(path, stdin)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readInput reads the input at path (or stdin), refusing inputs larger
// than MaxInputBytes: a regular file from its size before reading, anything
// else when the limit is passed.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != Stdio {
		f, err := os.Open(path)
		if err != nil {
			return nil, fileErr(path, err).Err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxInputBytes {
			return nil, fmt.Errorf("file too large (%s; the limit is %s)", mib(fi.Size()), mib(MaxInputBytes))
		}
		r = f
	}
	if r == nil {
		return nil, errors.New("no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", fileErr(path, err).Err)
	}
	if len(data) > MaxInputBytes {
		return nil, fmt.Errorf("input too large (over the %s limit)", mib(MaxInputBytes))
	}
	return data, nil
}

// mib formats a size in MiB, rounded up to a tenth so that a size over a
// limit never prints as the limit.
func mib(n int64) string {
	return strconv.FormatFloat(math.Ceil(float64(n)*10/(1<<20))/10, 'f', -1, 64) + " MiB"
}

// oneLine joins the lines of a message with "; " so that every error
// takes one line of stderr.
func oneLine(msg string) string {
	if !strings.ContainsAny(msg, "\r\n") {
		return msg
	}
	var parts []string
	for _, l := range strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
