package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/translate"
)

var settings = Settings{Model: "fake-model", Lang: "English", Layout: "bilingual", Summary: true}

// api is the batch API of srv, through transport rt (nil: the default).
func api(t *testing.T, srv *fakeopenai.Server, rt http.RoundTripper) *llm.BatchAPI {
	t.Helper()
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: "k", Model: settings.Model, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Batches()
}

// newJob writes a job of n translation requests, one per file, at most
// maxRequests of them in a batch file, as prepare writes them.
func newJob(t *testing.T, n, maxRequests int) *Job {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "job")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	job, err := NewRound(dir, []string{"in"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWriter(maxRequests, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := range n {
		text := fmt.Sprintf("第%d段。", i+1)
		job.Files = append(job.Files, File{In: fmt.Sprintf("/in/%d.md", i+1), Out: fmt.Sprintf("%d.md", i+1)})
		r := translate.Request{System: "Translate into English.", User: `<seg id="1">` + text + `</seg>`, Pieces: []translate.Piece{{Source: text, Text: text}}}
		if err := w.AddTranslation(i, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(0); err != nil {
		t.Fatal(err)
	}
	return job
}

// failSecondCreate is a transport that refuses the second batch
// creation, as an interrupted or rejected submit would leave it: its file
// uploaded, its batch not created.
type failSecondCreate struct{ creates int }

func (f *failSecondCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batches") {
		f.creates++
		if f.creates == 2 {
			return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"error":{"message":"refused for the test","type":"invalid_request_error"}}`))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestSubmitResumes(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job := newJob(t, 10, 3)
	if len(job.Parts) < 3 {
		t.Fatalf("%d parts", len(job.Parts))
	}
	if _, err := Submit(context.Background(), job, api(t, srv, &failSecondCreate{}), SubmitOptions{}); err == nil || !strings.Contains(err.Error(), "refused for the test") {
		t.Fatalf("first submit: %v", err)
	}
	reopened, err := Open(job.dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := reopened.Parts[1]; p.FileID == "" || p.BatchID != "" {
		t.Fatalf("after the failed create: part 2 file %q batch %q", p.FileID, p.BatchID)
	}
	if _, err := Submit(context.Background(), reopened, api(t, srv, nil), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if uploads := srv.CountKind(fakeopenai.KindFile); uploads != len(job.Parts) {
		t.Errorf("%d uploads for %d parts: a resumed submit uploaded a part again", uploads, len(job.Parts))
	}
	seen := map[string]bool{}
	for _, p := range reopened.Parts {
		if p.FileID == "" || p.BatchID == "" || seen[p.BatchID] {
			t.Errorf("%s: file %q batch %q", p.Name, p.FileID, p.BatchID)
		}
		seen[p.BatchID] = true
	}
}

// loseCreateAnswer is a transport that lets the first batch creation
// reach the server and then reports a network error, as a timeout after
// the server acted would.
type loseCreateAnswer struct{ lost bool }

func (l *loseCreateAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && !l.lost && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batches") {
		l.lost = true
		resp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return resp, err
}

// TestSubmitNeverCreatesABatchTwice: a create whose answer is lost is not
// repeated: the batch it made is found and recorded.
func TestSubmitNeverCreatesABatchTwice(t *testing.T) {
	old := retryWaits
	retryWaits = []time.Duration{time.Millisecond, time.Millisecond}
	defer func() { retryWaits = old }()
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job := newJob(t, 4, 0)
	if _, err := Submit(context.Background(), job, api(t, srv, &loseCreateAnswer{}), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	l, _, err := api(t, srv, nil).List(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(job.Parts) || job.Parts[0].BatchID != l[0].ID {
		t.Errorf("%d batches on the server for %d parts; recorded %q", len(l), len(job.Parts), job.Parts[0].BatchID)
	}
}

// TestReadResultsSkipsGarbage: a line that is not a batch result (a
// truncated last line of a crashed run, say) is reported by number and
// skipped; the good lines are still read.
func TestReadResultsSkipsGarbage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "out.jsonl")
	data := "{\"custom_id\":\"a\",\"response\":null,\"error\":\"x\"}\nnot json\n" +
		"{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\"}}\n" +
		"{\"custom_id\":\"d\",\"response\":null,\"error\":null}\n{\"custom_id\":\"b\",\"resp"
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var good []string
	var bad []int
	var requests int
	err := readResults(f, func(r Result) { good = append(good, r.CustomID) }, func(n int, req bool) {
		bad = append(bad, n)
		if req {
			requests++
		}
	})
	if err != nil || len(good) != 1 || good[0] != "a" || !slices.Equal(bad, []int{2, 3, 4, 5}) || requests != 1 {
		t.Errorf("err %v, good %v, bad lines %v, %d request lines", err, good, bad, requests)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`null`, ""},
		{`"boom"`, "boom"},
		{`{"code":"batch_expired","message":"not answered in time"}`, "batch_expired: not answered in time"},
		{`{"code":"only_a_code"}`, "only_a_code"},
		{`{"message":"only a message"}`, "only a message"},
		{`{"error":{"message":"too long","type":"BadRequestError","param":null,"code":400}}`, "400: too long"},
		{`{"message":"only a message"}`, "only a message"},
		{`{"code":null,"message":"null code"}`, "null code"},
		{`{"code":{"n":1},"message":"odd code"}`, `{"n":1}: odd code`},
		{`{"error":"vLLM, as a string"}`, "vLLM, as a string"},
		{`{"type":"server_error"}`, `{"type":"server_error"}`},
		{`[1,2]`, `[1,2]`},
		{``, ""},
	}
	for _, tc := range tests {
		if got := errorMessage(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
