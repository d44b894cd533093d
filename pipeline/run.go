package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// MaxInputBytes is the largest input file xlate reads.
const MaxInputBytes = 64 << 20

// Report is the outcome of a run.
type Report struct {
	Done        int // outputs written
	Cached      int // of Done, those that needed no request
	Failed      int
	Interrupted bool
}

// RunOptions are the I/O ends of a run.
type RunOptions struct {
	Stdin  io.Reader
	Stdout io.Writer
	// Errorf reports a failed file as it happens (one line, no newline).
	Errorf func(format string, args ...any)
	// Files is how many files are worked on at once.
	Files int
}

// Run processes jobs, files in parallel, and writes each output when it is
// complete. A failing file is reported through opts.Errorf and does not stop
// the others. When ctx is cancelled, dispatching stops, finished outputs stay
// and no partial output is written.
func (p *Pipeline) Run(ctx context.Context, jobs []Job, opts RunOptions) Report {
	if opts.Files <= 0 {
		opts.Files = 4
	}
	var done, cached, failed atomic.Int64
	var mu sync.Mutex // serialises error lines
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if opts.Errorf != nil {
			opts.Errorf("%v", err)
		}
	}

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
			fromCache, err := p.runJob(ctx, job, opts)
			switch {
			case err == nil:
				done.Add(1)
				if fromCache {
					cached.Add(1)
				}
			case errIsCancel(err) && ctx.Err() != nil:
				// Interrupted: not a failure of this file.
			default:
				failed.Add(1)
				report(err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return Report{Done: int(done.Load()), Cached: int(cached.Load()), Failed: int(failed.Load()), Interrupted: ctx.Err() != nil}
}

func (p *Pipeline) runJob(ctx context.Context, job Job, opts RunOptions) (cached bool, err error) {
	name := job.In
	if name == Stdio {
		name = "<stdin>"
	}
	data, err := readInput(job.In, opts.Stdin)
	if err != nil {
		return false, &FileError{Path: name, Err: err}
	}
	res, err := p.Article(ctx, data, job.Ext)
	if err != nil {
		return false, &FileError{Path: name, Err: err}
	}
	if job.Out == Stdio {
		_, err = opts.Stdout.Write(res.Markdown)
	} else {
		err = WriteFileAtomic(job.Out, res.Markdown)
	}
	if err != nil {
		return false, &FileError{Path: name, Err: err}
	}
	return res.Cached, nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != Stdio {
		f, err := os.Open(path)
		if err != nil {
			return nil, fileErr(path, err).Err
		}
		defer f.Close()
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
		return nil, fmt.Errorf("file larger than %d MiB; split it first", MaxInputBytes>>20)
	}
	return data, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that path is either complete or absent (or the
// previous version), even if the process is killed mid-write.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
