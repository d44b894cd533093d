package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xlate/xlate/llm"
)

// retryWaits are the pauses between attempts of a files or batches call
// that failed in a way worth retrying (429, 5xx, a network error).
var retryWaits = []time.Duration{time.Second, 4 * time.Second, 15 * time.Second}

// callTimeout bounds one attempt of a files or batches call: long enough
// to move a 200 MB batch file over a slow link, short enough that a hung
// connection does not hang the step.
var callTimeout = 10 * time.Minute

// call runs fn, retrying transient failures; each attempt gets callTimeout.
func call[T any](ctx context.Context, what string, fn func(context.Context) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, callTimeout)
		v, err := fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || attempt >= len(retryWaits) || !llm.IsTransient(err) {
			if err != nil {
				return v, fmt.Errorf("%s: %w", what, err)
			}
			return v, nil
		}
		select {
		case <-time.After(retryWaits[attempt]):
		case <-ctx.Done():
			return v, fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
}

// SubmitOptions configure Submit.
type SubmitOptions struct {
	// MaxEnqueuedTokens, when positive, bounds the prompt tokens of the
	// job's batches queued at once (validating, in progress or
	// finalizing): OpenAI's enqueued token limit per model, which fails
	// a batch over it (token_limit_exceeded). Parts that do not fit wait.
	MaxEnqueuedTokens int64
	// Wait keeps submitting: as batches end, the parts waiting go in,
	// until every part has its batch. Poll is how often it looks.
	Wait bool
	Poll time.Duration
	// Logf reports progress (waiting for room in the queue).
	Logf func(format string, args ...any)
}

// SubmitReport says what Submit did.
type SubmitReport struct {
	Submitted int   // batches created by this call
	Waiting   int   // parts left unsubmitted: no room under MaxEnqueuedTokens
	Queued    int64 // prompt tokens of the job's batches queued at the end
}

// Submit uploads the job's batch input files and creates a batch for each,
// recording every file and batch id in job.json as soon as it exists, so
// that an interrupted submit resumes where it stopped. Parts already
// submitted are left alone. With MaxEnqueuedTokens, a part is submitted
// only while the job's queued batches leave room for its tokens; with
// Wait, Submit waits for batches to end to submit the rest.
func Submit(ctx context.Context, job *Job, api *llm.BatchAPI, opts SubmitOptions) (SubmitReport, error) {
	var rep SubmitReport
	limit := opts.MaxEnqueuedTokens
	if limit > 0 {
		for _, p := range job.Parts {
			if p.BatchID == "" && p.Tokens > limit {
				return rep, &OverLimitError{Part: p.Name, Tokens: p.Tokens, Limit: limit}
			}
		}
	}
	poll := opts.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		if limit > 0 && job.queued() > 0 {
			// What is queued now: batches that ended free their tokens.
			if _, err := Status(ctx, job, api); err != nil {
				return rep, err
			}
		}
		queued := job.queued()
		rep.Waiting = 0
		for _, p := range job.Parts {
			if p.Status == "failed" && p.ErrorCode == tokenLimitExceeded && !p.Downloaded {
				// OpenAI's queue was full (other batches count too):
				// the part goes in again once there is room.
				p.BatchID, p.Status, p.ErrorCode = "", "", ""
			}
			if p.BatchID != "" {
				continue
			}
			if limit > 0 && queued+p.Tokens > limit {
				rep.Waiting++
				continue
			}
			if err := submitPart(ctx, job, p, api); err != nil {
				return rep, err
			}
			rep.Submitted++
			if !terminal(p.Status) {
				queued += p.Tokens
			}
		}
		rep.Queued = queued
		if rep.Waiting == 0 || !opts.Wait {
			return rep, nil
		}
		if opts.Logf != nil {
			opts.Logf("%d batch files wait for room in the queue (%d of %d tokens queued); next look in %s", rep.Waiting, queued, limit, poll)
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return rep, ctx.Err()
		}
	}
}

// tokenLimitExceeded is the error code of a batch that failed because the
// enqueued token limit was reached.
const tokenLimitExceeded = "token_limit_exceeded"

// OverLimitError is a part too large for the enqueued token limit by
// itself: no wait makes room for it.
type OverLimitError struct {
	Part          string
	Tokens, Limit int64
}

func (e *OverLimitError) Error() string {
	return fmt.Sprintf("%s holds %d prompt tokens, over --max-enqueued-tokens %d by itself: prepare the job again with a smaller --max-requests", e.Part, e.Tokens, e.Limit)
}

// queued is the prompt tokens of the job's batches not ended, as last seen.
func (j *Job) queued() int64 {
	var n int64
	for _, p := range j.Parts {
		if p.BatchID != "" && !terminal(p.Status) {
			n += p.Tokens
		}
	}
	return n
}

// submitPart uploads a part's file (unless uploaded) and creates its
// batch, saving each id as soon as it exists.
func submitPart(ctx context.Context, job *Job, p *Part, api *llm.BatchAPI) error {
	if p.FileID == "" {
		data, err := os.ReadFile(filepath.Join(job.dir, p.Name))
		if err != nil {
			return err
		}
		id, err := call(ctx, "upload "+p.Name, func(ctx context.Context) (string, error) {
			return api.Upload(ctx, p.Name, data)
		})
		if err != nil {
			return err
		}
		p.FileID = id
		if err := job.save(); err != nil {
			return err
		}
	}
	b, err := createBatch(ctx, job, p, api)
	if err != nil {
		return err
	}
	p.BatchID = b.ID
	p.update(b)
	return job.save()
}

// createBatch creates the batch of an uploaded part, unless one exists for
// its file already: a create whose answer was lost (a timeout, a crash
// before job.json was saved) may have made one, and a second would run and
// bill the same requests twice. So every attempt, retries included, looks
// for the batch first.
func createBatch(ctx context.Context, job *Job, p *Part, api *llm.BatchAPI) (llm.Batch, error) {
	return call(ctx, "create the batch of "+p.Name, func(ctx context.Context) (llm.Batch, error) {
		if b, ok, err := findBatch(ctx, api, p.FileID); err != nil || ok {
			return b, err
		}
		return api.Create(ctx, p.FileID, map[string]string{"xlate_job": filepath.Base(job.dir), "xlate_part": p.Name})
	})
}

// findBatch looks for a batch of input file fileID among the most recent
// batches (newest first). Its caller retries it.
func findBatch(ctx context.Context, api *llm.BatchAPI, fileID string) (llm.Batch, bool, error) {
	after := ""
	for page := 0; page < 10; page++ {
		l, more, err := api.List(ctx, after, 100)
		if err != nil {
			return llm.Batch{}, false, fmt.Errorf("list batches: %w", err)
		}
		for _, b := range l {
			// A failed batch ran nothing: one over the enqueued token
			// limit is made again.
			if b.InputFileID == fileID && b.Status != "failed" {
				return b, true, nil
			}
		}
		if !more || len(l) == 0 {
			break
		}
		after = l[len(l)-1].ID
	}
	return llm.Batch{}, false, nil
}

// update copies a batch's state into p.
func (p *Part) update(b llm.Batch) {
	p.Status = b.Status
	p.Completed, p.Failed = b.Completed, b.Failed
	if b.OutputFileID != "" {
		p.OutputFileID = b.OutputFileID
	}
	if b.ErrorFileID != "" {
		p.ErrorFileID = b.ErrorFileID
	}
}

// Status refreshes the state of the job's batches from the provider and
// saves it. It returns the batches' errors (a batch that failed its
// validation says why), one line each.
func Status(ctx context.Context, job *Job, api *llm.BatchAPI) ([]string, error) {
	var problems []string
	for _, p := range job.Parts {
		if p.BatchID == "" || p.Downloaded {
			continue
		}
		b, err := call(ctx, "batch "+p.BatchID, func(ctx context.Context) (llm.Batch, error) {
			return api.Get(ctx, p.BatchID)
		})
		if err != nil {
			return problems, err
		}
		p.update(b)
		for i, e := range b.Errors {
			if i == 0 {
				p.ErrorCode = e.Code
			}
			msg := fmt.Sprintf("%s (%s): %s", p.Name, p.BatchID, e.Message)
			if e.Line != nil {
				msg = fmt.Sprintf("%s (%s) line %d: %s", p.Name, p.BatchID, *e.Line, e.Message)
			}
			problems = append(problems, msg)
		}
	}
	return problems, job.save()
}

// Unsubmitted counts the parts not submitted yet.
func (j *Job) Unsubmitted() int {
	n := 0
	for _, p := range j.Parts {
		if p.BatchID == "" {
			n++
		}
	}
	return n
}
