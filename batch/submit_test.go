package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// retrievals counts the server's GET /v1/batches/ID requests.
func retrievals(srv *fakeopenai.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/batches/") {
			n++
		}
	}
	return n
}

// TestStatus: Status refreshes every submitted part not downloaded yet
// from its batch and saves the job.
func TestStatus(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	job := newJob(t, 3, 1)
	a := api(t, srv, nil)
	if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range job.Parts {
		if p.Status != "validating" {
			t.Errorf("%s after submit: %q", p.Name, p.Status)
		}
	}
	problems, err := Status(context.Background(), job, a)
	if err != nil || len(problems) > 0 {
		t.Fatalf("status: %q, %v", problems, err)
	}
	srv.AdvanceBatches()
	job.Parts[2].Downloaded = true // read already: not asked again
	before := retrievals(srv)
	if _, err := Status(context.Background(), job, a); err != nil {
		t.Fatal(err)
	}
	if n := retrievals(srv) - before; n != 2 {
		t.Errorf("%d batches retrieved, want 2", n)
	}
	srv.FinishBatches()
	if _, err := Status(context.Background(), job, a); err != nil {
		t.Fatal(err)
	}
	saved, err := Open(job.dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range saved.Parts {
		wantStatus, done := "completed", true
		if i == 2 {
			wantStatus, done = "validating", false
		}
		if p.Status != wantStatus || (p.OutputFileID != "") != done || p.Completed != map[bool]int{true: 1}[done] || p.Failed != 0 || p.ErrorFileID != "" {
			t.Errorf("%s saved as %+v, want status %s", p.Name, p, wantStatus)
		}
	}
}

// TestStatusReportsBatchErrors: a batch that failed says why, one line per
// error (with the input line it is about, if any); its first error's
// code is kept, and collect reports the errors.
func TestStatusReportsBatchErrors(t *testing.T) {
	tests := []struct {
		name string
		opts fakeopenai.Options
		code string
		want []string
	}{
		{"validation", fakeopenai.Options{Models: []string{"other-model"}}, "model_not_found", []string{
			"requests-001.jsonl (batch_fake0001) line 1: The model `fake-model` does not exist or you do not have access to it.",
			"requests-001.jsonl (batch_fake0001) line 2: The model `fake-model` does not exist or you do not have access to it.",
		}},
		{"token limit", fakeopenai.Options{BatchFault: func(int, string) fakeopenai.BatchFault {
			return fakeopenai.BatchFault{FailCode: tokenLimitExceeded, FailMessage: "queue full"}
		}}, tokenLimitExceeded, []string{"requests-001.jsonl (batch_fake0001): queue full"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeopenai.New(t, tc.opts)
			job := newJob(t, 2, 0)
			a := api(t, srv, nil)
			if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
				t.Fatal(err)
			}
			problems, err := Status(context.Background(), job, a)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(problems, tc.want) {
				t.Errorf("problems %q, want %q", problems, tc.want)
			}
			if p := job.Parts[0]; p.Status != "failed" || p.ErrorCode != tc.code {
				t.Errorf("part: status %q, error code %q", p.Status, p.ErrorCode)
			}
			var reported []string
			rep, err := Collect(context.Background(), job, CollectOptions{API: a, Errorf: func(f string, args ...any) {
				reported = append(reported, fmt.Sprintf(f, args...))
			}}, (&judge{}).judge)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(reported, tc.want) || rep != (CollectReport{Missing: 2}) || !job.Parts[0].Downloaded {
				t.Errorf("collect: %+v, reported %q", rep, reported)
			}
		})
	}
}

// TestSubmitOverLimit: a part whose tokens alone are over the limit is
// refused before anything is uploaded.
func TestSubmitOverLimit(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job := newJob(t, 3, 2)
	limit := job.Parts[0].Tokens - 1
	_, err := Submit(context.Background(), job, api(t, srv, nil), SubmitOptions{MaxEnqueuedTokens: limit})
	var over *OverLimitError
	if !errors.As(err, &over) || over.Part != "requests-001.jsonl" || over.Tokens != job.Parts[0].Tokens || over.Limit != limit {
		t.Fatalf("error %v", err)
	}
	if want := fmt.Sprintf("requests-001.jsonl holds %d prompt tokens, over --max-enqueued-tokens %d by itself", over.Tokens, limit); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to say %q", err, want)
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

// TestSubmitUnderEnqueuedLimit: with an enqueued token limit, parts go in
// while the job's queued batches leave room; the others wait for a next
// submit, or, with Wait, for batches to end.
func TestSubmitUnderEnqueuedLimit(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	job := newJob(t, 3, 1)
	limit := slices.MaxFunc(job.Parts, func(a, b *Part) int { return int(a.Tokens - b.Tokens) }).Tokens
	a := api(t, srv, nil)
	rep, err := Submit(context.Background(), job, a, SubmitOptions{MaxEnqueuedTokens: limit})
	if err != nil {
		t.Fatal(err)
	}
	if rep != (SubmitReport{Submitted: 1, Waiting: 2, Queued: job.Parts[0].Tokens}) || job.Unsubmitted() != 2 || job.Parts[0].BatchID == "" {
		t.Errorf("first submit: %+v, %d unsubmitted", rep, job.Unsubmitted())
	}
	// Nothing ended: a second submit waits too, having looked.
	before := retrievals(srv)
	rep, err = Submit(context.Background(), job, a, SubmitOptions{MaxEnqueuedTokens: limit})
	if err != nil || rep.Submitted != 0 || rep.Waiting != 2 || retrievals(srv) != before+1 {
		t.Errorf("second submit: %+v, %v", rep, err)
	}

	var logs []string
	rep, err = Submit(context.Background(), job, a, SubmitOptions{MaxEnqueuedTokens: limit, Wait: true, Poll: 1, Logf: func(f string, args ...any) {
		logs = append(logs, fmt.Sprintf(f, args...))
		srv.FinishBatches() // the queue empties while Submit waits
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Submitted != 2 || rep.Waiting != 0 || job.Unsubmitted() != 0 {
		t.Errorf("submit with wait: %+v, %d unsubmitted", rep, job.Unsubmitted())
	}
	want := []string{
		fmt.Sprintf("2 batch files wait for room in the queue (%d of %d tokens queued); next look in 1ns", job.Parts[0].Tokens, limit),
		fmt.Sprintf("1 batch files wait for room in the queue (%d of %d tokens queued); next look in 1ns", job.Parts[1].Tokens, limit),
	}
	if !slices.Equal(logs, want) {
		t.Errorf("progress %q, want %q", logs, want)
	}
	if l, _, err := a.List(context.Background(), "", 0); err != nil || len(l) != 3 {
		t.Errorf("%d batches on the server, %v", len(l), err)
	}

	// A cancelled wait stops.
	job2 := newJob(t, 2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Submit(ctx, job2, a, SubmitOptions{MaxEnqueuedTokens: limit, Wait: true, Poll: 1 << 40, Logf: func(string, ...any) { cancel() }})
	if !errors.Is(err, context.Canceled) || job2.Unsubmitted() != 1 {
		t.Errorf("cancelled wait: %v, %d unsubmitted", err, job2.Unsubmitted())
	}
}

// TestSubmitAgainAfterFailure: a batch that failed because OpenAI's
// queue was full is made again from the same upload by the next submit;
// one that failed otherwise is not.
func TestSubmitAgainAfterFailure(t *testing.T) {
	tests := []struct {
		code  string
		again bool
	}{
		{tokenLimitExceeded, true},
		{"invalid_request", false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			srv := fakeopenai.New(t, fakeopenai.Options{BatchFault: func(n int, _ string) fakeopenai.BatchFault {
				if n == 1 {
					return fakeopenai.BatchFault{FailCode: tc.code, FailMessage: "no"}
				}
				return fakeopenai.BatchFault{}
			}})
			job := newJob(t, 2, 0)
			a := api(t, srv, nil)
			if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Status(context.Background(), job, a); err != nil {
				t.Fatal(err)
			}
			p := job.Parts[0]
			file, first := p.FileID, p.BatchID
			rep, err := Submit(context.Background(), job, a, SubmitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.again {
				if rep.Submitted != 1 || p.BatchID == first || p.BatchID == "" || p.FileID != file || p.ErrorCode != "" || p.Status != "validating" {
					t.Errorf("submitted again: %+v, part %+v", rep, p)
				}
				if _, err := Status(context.Background(), job, a); err != nil || p.Status != "completed" {
					t.Errorf("the new batch: %q, %v", p.Status, err)
				}
			} else if rep.Submitted != 0 || p.BatchID != first || p.Status != "failed" {
				t.Errorf("submitted again: %+v, part %+v", rep, p)
			}
			if n := srv.CountKind(fakeopenai.KindFile); n != 1 {
				t.Errorf("%d Files API calls, want the one upload", n)
			}
		})
	}
}
