package fakeopenai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// batchUsers are the user messages of the test batches: translations,
// a summary and a plain question.
var batchUsers = []string{
	"<seg id=\"1\">你好，世界。</seg>\n<seg id=\"2\">第二段。</seg>",
	"<seg id=\"1\">今天天气很好。</seg>",
	"<article>\n第一段。\n第二段。\n</article>",
	"hello there",
	"<seg id=\"a\">最后一段。</seg>\n<seg id=\"b\">真的最后。</seg>",
}

func customID(i int) string { return fmt.Sprintf("req-%d", i) }

// batchInput is a batch input file with one chat request per user message.
func batchInput(model string, users ...string) []byte {
	var up openai.UploadBatchFileRequest
	for i, u := range users {
		up.AddChatCompletion(customID(i), chatReqModel(model, u))
	}
	return up.MarshalJSONL()
}

func chatReqModel(model, user string) openai.ChatCompletionRequest {
	r := chatReq(user)
	r.Model = model
	return r
}

// want is the fake model's answer to chatReq(user).
func want(user string) string {
	c := &Recorded{Messages: []Message{{Role: "system", Content: chatReq(user).Messages[0].Content}, {Role: "user", Content: user}}}
	c.Kind = classify(user)
	text, _ := (&Server{}).content(c, Fault{})
	return text
}

// startBatch uploads input and creates a batch with the client.
func startBatch(t *testing.T, c *openai.Client, input []byte) openai.BatchResponse {
	t.Helper()
	ctx := context.Background()
	f, err := c.CreateFileBytes(ctx, openai.FileBytesRequest{Name: "in.jsonl", Bytes: input, Purpose: openai.PurposeBatch})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	b, err := c.CreateBatch(ctx, openai.CreateBatchRequest{InputFileID: f.ID, Endpoint: openai.BatchEndpointChatCompletions, Metadata: map[string]any{"job": "test"}})
	if err != nil {
		t.Fatalf("create batch: %v", err)
	}
	return b
}

func terminal(status string) bool {
	return slices.Contains([]string{BatchCompleted, BatchFailed, BatchExpired, BatchCancelled}, status)
}

// pollBatch retrieves the batch until it ends, returning the statuses seen
// and the last batch.
func pollBatch(t *testing.T, c *openai.Client, id string) ([]string, openai.Batch) {
	t.Helper()
	var seen []string
	for range 100 {
		b, err := c.RetrieveBatch(context.Background(), id)
		if err != nil {
			t.Fatalf("retrieve: %v", err)
		}
		seen = append(seen, b.Status)
		if terminal(b.Status) {
			return seen, b.Batch
		}
	}
	t.Fatalf("batch %s never ended: %v", id, seen)
	return nil, openai.Batch{}
}

// outLine is one line of an output or error file.
type outLine struct {
	ID       string `json:"id"`
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		RequestID  string          `json:"request_id"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// download reads a file with the client and parses its lines ("" or nil id:
// no lines).
func download(t *testing.T, c *openai.Client, id *string) []outLine {
	t.Helper()
	if id == nil {
		return nil
	}
	raw, err := c.GetFileContent(context.Background(), *id)
	if err != nil {
		t.Fatalf("content of %s: %v", *id, err)
	}
	defer raw.Close()
	data, err := io.ReadAll(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []outLine
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var o outLine
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, o)
	}
	return out
}

func completionOf(t *testing.T, o outLine) openai.ChatCompletionResponse {
	t.Helper()
	var r openai.ChatCompletionResponse
	if o.Response == nil || json.Unmarshal(o.Response.Body, &r) != nil || len(r.Choices) != 1 {
		t.Fatalf("%s: not a chat completion: %+v", o.CustomID, o.Response)
	}
	return r
}

func TestBatchRoundTrip(t *testing.T) {
	tests := []struct {
		steps int
		seen  []string
	}{
		{0, []string{"completed"}},
		{1, []string{"validating", "in_progress", "finalizing", "completed"}},
		{3, []string{"validating", "validating", "validating", "in_progress", "in_progress", "in_progress", "finalizing", "finalizing", "finalizing", "completed"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("steps=", tt.steps), func(t *testing.T) {
			s := New(t, Options{APIKey: "sk-test", BatchSteps: tt.steps})
			c, _ := newClient(s, "sk-test")
			b := startBatch(t, c, batchInput(DefaultModel, batchUsers...))
			if b.Status != BatchValidating || b.Object != "batch" || !strings.HasPrefix(b.ID, "batch_") || b.CompletionWindow != "24h" ||
				b.Endpoint != openai.BatchEndpointChatCompletions || b.ExpiresAt == nil || *b.ExpiresAt != b.CreatedAt+86400 || b.Metadata["job"] != "test" {
				t.Fatalf("created batch = %+v", b.Batch)
			}
			seen, got := pollBatch(t, c, b.ID)
			if !slices.Equal(seen, tt.seen) {
				t.Errorf("statuses %v, want %v", seen, tt.seen)
			}
			n := len(batchUsers)
			if got.RequestCounts != (openai.BatchRequestCounts{Total: n, Completed: n}) || got.ErrorFileID != nil || got.OutputFileID == nil ||
				got.InProgressAt == nil || got.FinalizingAt == nil || got.CompletedAt == nil || got.FailedAt != nil {
				t.Fatalf("final batch = %+v", got)
			}
			out := download(t, c, got.OutputFileID)
			var ids []string
			for _, o := range out {
				ids = append(ids, o.CustomID)
				var i int
				if _, err := fmt.Sscanf(o.CustomID, "req-%d", &i); err != nil {
					t.Fatalf("custom_id %q", o.CustomID)
				}
				r := completionOf(t, o)
				if o.Response.StatusCode != 200 || o.Error != nil || !strings.HasPrefix(o.ID, "batch_req_") || o.Response.RequestID == "" {
					t.Errorf("%s: line %+v", o.CustomID, o)
				}
				if r.Choices[0].Message.Content != want(batchUsers[i]) || r.Choices[0].FinishReason != openai.FinishReasonStop || r.Model != DefaultModel {
					t.Errorf("%s: answer %+v", o.CustomID, r)
				}
			}
			sorted := slices.Sorted(slices.Values(ids))
			if len(ids) != n || slices.Equal(ids, sorted) || !slices.Equal(sorted, []string{"req-0", "req-1", "req-2", "req-3", "req-4"}) {
				t.Errorf("output custom_ids %v: want all %d, shuffled", ids, n)
			}
			// The lines are batch lines, not chat requests.
			if s.CountKind(KindTranslate)+s.CountKind(KindSummary)+s.CountKind(KindOther) != 0 || len(s.BatchLines()) != n {
				t.Errorf("chat requests %d, batch lines %d", s.CountKind(KindTranslate), len(s.BatchLines()))
			}
			for _, l := range s.BatchLines() {
				if l.Batch != b.ID || l.CustomID == "" || !l.Completed {
					t.Errorf("batch line %+v", l)
				}
			}
			if s.CountKind(KindFile) != 2 || s.CountKind(KindBatch) != 1+len(seen) {
				t.Errorf("file calls %d, batch calls %d", s.CountKind(KindFile), s.CountKind(KindBatch))
			}
		})
	}
}

// TestBatchProgress checks request_counts grow while a batch is in
// progress.
func TestBatchProgress(t *testing.T) {
	s := New(t, Options{BatchSteps: 2})
	c, _ := newClient(s, "")
	b := startBatch(t, c, batchInput(DefaultModel, batchUsers...))
	var completed []int
	for {
		r, err := c.RetrieveBatch(context.Background(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		completed = append(completed, r.RequestCounts.Completed)
		if terminal(r.Status) {
			break
		}
	}
	// validating ×2, in_progress ×2 (2 lines each), finalizing ×2, completed.
	if want := []int{0, 0, 2, 4, 5, 5, 5}; !slices.Equal(completed, want) {
		t.Errorf("completed counts %v, want %v", completed, want)
	}
}

func TestBatchLineFaults(t *testing.T) {
	users := []string{
		"<seg id=\"1\">一。</seg>\n<seg id=\"2\">二。</seg>",
		"<seg id=\"1\">三。</seg>\n<seg id=\"2\">四。</seg>",
		"<seg id=\"1\">五。</seg>",
		"<seg id=\"1\">六。</seg>",
		"<seg id=\"1\">七。</seg>",
		"<seg id=\"1\">八。</seg>",
		"<seg id=\"1\">九。</seg>",
	}
	faults := map[string]Fault{
		"req-0": {DropSegment: "2"},
		"req-1": {LeaveChinese: FirstSegment},
		"req-2": {Truncate: true},
		"req-3": {Status: 500},
		"req-4": {Status: 400, ErrorMessage: "bad line", ErrorCode: "invalid_value"},
		"req-5": {Status: 429, ErrorBody: `{"error":{"message":"raw","type":"tokens","param":null,"code":null}}`},
	}
	s := New(t, Options{Fault: ByCustomID(faults)})
	c, _ := newClient(s, "")
	input := batchInput(DefaultModel, users...)
	// One more line whose body the model refuses at processing time.
	input = append(input, []byte("\n"+`{"custom_id":"req-7","method":"POST","url":"/v1/chat/completions","body":{"model":"fake-model","messages":[]}}`)...)
	b := startBatch(t, c, input)
	_, got := pollBatch(t, c, b.ID)
	if got.Status != BatchCompleted || got.RequestCounts != (openai.BatchRequestCounts{Total: 8, Completed: 4, Failed: 4}) {
		t.Fatalf("batch = %+v", got)
	}
	ok := map[string]openai.ChatCompletionResponse{}
	for _, o := range download(t, c, got.OutputFileID) {
		ok[o.CustomID] = completionOf(t, o)
	}
	content := func(id string) string { return ok[id].Choices[0].Message.Content }
	if len(ok) != 4 || content("req-0") != `<seg id="1">`+Translate("一。")+`</seg>` ||
		content("req-1") != `<seg id="1">三。</seg>`+"\n"+`<seg id="2">`+Translate("四。")+`</seg>` ||
		ok["req-2"].Choices[0].FinishReason != openai.FinishReasonLength || content("req-6") != want(users[6]) {
		t.Errorf("output answers: %+v", ok)
	}
	bad := map[string]outLine{}
	for _, o := range download(t, c, got.ErrorFileID) {
		bad[o.CustomID] = o
	}
	wantErr := map[string]struct {
		status    int
		substring string
	}{
		"req-3": {500, `"type":"server_error"`},
		"req-4": {400, `"message":"bad line"`},
		"req-5": {429, `"message":"raw"`},
		"req-7": {400, `too short - 'messages'`},
	}
	if len(bad) != len(wantErr) {
		t.Errorf("error file has %d lines, want %d", len(bad), len(wantErr))
	}
	for id, w := range wantErr {
		o := bad[id]
		if o.Response == nil || o.Response.StatusCode != w.status || o.Error != nil || !strings.Contains(string(o.Response.Body), w.substring) {
			t.Errorf("%s: error line %+v, body %s", id, o, o.Response.Body)
		}
	}
	// Faults saw the batch lines with their custom ids.
	lines := s.BatchLines()
	if len(lines) != 8 || lines[0].N != 1 || lines[0].CustomID != "req-0" || lines[0].Kind != KindTranslate || lines[0].Segments != 2 {
		t.Errorf("batch lines %+v", lines)
	}
}

func TestBatchInvalidInput(t *testing.T) {
	line := func(id, method, url, model string) string {
		return fmt.Sprintf(`{"custom_id":%q,"method":%q,"url":%q,"body":{"model":%q,"messages":[{"role":"user","content":"hi"}]}}`, id, method, url, model)
	}
	good := line("a", "POST", "/v1/chat/completions", DefaultModel)
	tests := []struct {
		name  string
		input string
		opts  Options
		code  string
		line  int // 0: none
	}{
		{"not json", good + "\n{oops", Options{}, "invalid_json_line", 2},
		{"blank line", good + "\n\n" + line("b", "POST", "/v1/chat/completions", DefaultModel), Options{}, "invalid_json_line", 2},
		{"no custom_id", `{"method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}`, Options{}, "missing_required_parameter", 1},
		{"no body", `{"custom_id":"a","method":"POST","url":"/v1/chat/completions"}`, Options{}, "missing_required_parameter", 1},
		{"duplicate custom_id", good + "\n" + good, Options{}, "duplicate_custom_id", 2},
		{"method", line("a", "GET", "/v1/chat/completions", DefaultModel), Options{}, "invalid_request", 1},
		{"url", line("a", "POST", "/v1/embeddings", DefaultModel), Options{}, "invalid_url", 1},
		{"no model", line("a", "POST", "/v1/chat/completions", ""), Options{}, "missing_required_parameter", 1},
		{"two models", good + "\n" + line("b", "POST", "/v1/chat/completions", "other"), Options{}, "mismatched_model", 2},
		{"unknown model", line("a", "POST", "/v1/chat/completions", "gpt-x"), Options{Models: []string{"m1"}}, "model_not_found", 1},
		{"empty", "\n", Options{}, "empty_file", 0},
		{"too many", good + "\n" + line("b", "POST", "/v1/chat/completions", DefaultModel) + "\n" + line("c", "POST", "/v1/chat/completions", DefaultModel), Options{BatchMaxRequests: 2}, "too_many_requests", 0},
		{"batch fault", good, Options{BatchFault: func(int, string) BatchFault {
			return BatchFault{FailCode: "token_limit_exceeded", FailMessage: "Enqueued token limit reached."}
		}}, "token_limit_exceeded", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, tt.opts)
			c, _ := newClient(s, "")
			b := startBatch(t, c, []byte(tt.input))
			_, got := pollBatch(t, c, b.ID)
			if got.Status != BatchFailed || got.FailedAt == nil || got.OutputFileID != nil || got.ErrorFileID != nil || got.Errors == nil || len(got.Errors.Data) == 0 {
				t.Fatalf("batch = %+v", got)
			}
			e := got.Errors.Data[0]
			if e.Code != tt.code || e.Message == "" || (tt.line == 0) != (e.Line == nil) || (e.Line != nil && *e.Line != tt.line) {
				t.Errorf("errors.data[0] = %+v (line %v), want code %s line %d", e, e.Line, tt.code, tt.line)
			}
			if len(s.BatchLines()) != 0 {
				t.Errorf("%d lines answered", len(s.BatchLines()))
			}
		})
	}
}

func TestFileLimit(t *testing.T) {
	s := New(t, Options{FileMaxBytes: 100})
	c, _ := newClient(s, "")
	for _, tt := range []struct {
		size int
		ok   bool
	}{{100, true}, {101, false}, {5000, false}} {
		_, err := c.CreateFileBytes(context.Background(), openai.FileBytesRequest{Name: "x.jsonl", Bytes: bytes.Repeat([]byte("x"), tt.size), Purpose: openai.PurposeBatch})
		var ae *openai.APIError
		if tt.ok != (err == nil) || (err != nil && (!errors.As(err, &ae) || ae.HTTPStatusCode != 400 || ae.Param == nil || *ae.Param != "file")) {
			t.Errorf("%d bytes: err = %v", tt.size, err)
		}
	}
}

func TestBatchExpiry(t *testing.T) {
	users := batchUsers[:4]
	tests := []struct {
		name     string
		opts     Options
		answered []string // custom ids answered
	}{
		{"batch fault", Options{BatchFault: func(n int, _ string) BatchFault { return BatchFault{Expire: true, Answered: 2} }}, []string{"req-0", "req-1"}},
		{"stalled line", Options{Fault: ByCustomID(map[string]Fault{"req-1": {Stall: true}})}, []string{"req-0", "req-2", "req-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, tt.opts)
			c, _ := newClient(s, "")
			b := startBatch(t, c, batchInput(DefaultModel, users...))
			_, got := pollBatch(t, c, b.ID)
			n := len(tt.answered)
			if got.Status != BatchExpired || got.ExpiredAt == nil || got.CompletedAt != nil ||
				got.RequestCounts != (openai.BatchRequestCounts{Total: 4, Completed: n, Failed: 4 - n}) {
				t.Fatalf("batch = %+v", got)
			}
			var ok []string
			for _, o := range download(t, c, got.OutputFileID) {
				ok = append(ok, o.CustomID)
			}
			slices.Sort(ok)
			if !slices.Equal(ok, tt.answered) {
				t.Errorf("answered %v, want %v", ok, tt.answered)
			}
			for _, o := range download(t, c, got.ErrorFileID) {
				if o.Response != nil || o.Error == nil || o.Error.Code != "batch_expired" || slices.Contains(tt.answered, o.CustomID) {
					t.Errorf("error line %+v", o)
				}
			}
		})
	}
}

// TestBatchExpiresByClock lets the 24h window pass on the server's clock.
func TestBatchExpiresByClock(t *testing.T) {
	clk := newClock()
	s := New(t, Options{Now: clk.now, BatchSteps: -1})
	c, _ := newClient(s, "")
	b := startBatch(t, c, batchInput(DefaultModel, batchUsers[:2]...))
	s.AdvanceBatches()
	if r, _ := c.RetrieveBatch(context.Background(), b.ID); r.Status != BatchInProgress {
		t.Fatalf("after one advance: %s", r.Status)
	}
	clk.advance(24 * time.Hour)
	s.AdvanceBatches()
	r, err := c.RetrieveBatch(context.Background(), b.ID)
	if err != nil || r.Status != BatchExpired || r.ExpiredAt == nil || *r.ExpiredAt != int(clk.now().Unix()) || r.OutputFileID != nil || len(download(t, c, r.ErrorFileID)) != 2 {
		t.Fatalf("batch = %+v, %v", r.Batch, err)
	}
}

func TestManualAdvance(t *testing.T) {
	s := New(t, Options{BatchSteps: -1})
	c, _ := newClient(s, "")
	ids := []string{
		startBatch(t, c, batchInput(DefaultModel, batchUsers...)).ID,
		startBatch(t, c, batchInput(DefaultModel, batchUsers[:1]...)).ID,
	}
	check := func(want string) {
		t.Helper()
		for _, id := range ids {
			for range 3 { // retrievals do not advance
				r, err := c.RetrieveBatch(context.Background(), id)
				if err != nil || r.Status != want {
					t.Fatalf("%s: %s, %v; want %s", id, r.Status, err, want)
				}
			}
		}
	}
	check(BatchValidating)
	for _, want := range []string{BatchInProgress, BatchFinalizing, BatchCompleted, BatchCompleted} {
		s.AdvanceBatches()
		check(want)
	}
	ids = append(ids[:0], startBatch(t, c, batchInput(DefaultModel, batchUsers...)).ID)
	s.FinishBatches()
	check(BatchCompleted)
	if len(s.BatchLines()) != 2*len(batchUsers)+1 {
		t.Errorf("%d batch lines", len(s.BatchLines()))
	}
}

func TestBatchCancel(t *testing.T) {
	s := New(t, Options{BatchSteps: 1})
	c, _ := newClient(s, "")
	ctx := context.Background()
	b := startBatch(t, c, batchInput(DefaultModel, batchUsers...))
	r, err := c.CancelBatch(ctx, b.ID)
	if err != nil || r.Status != BatchCancelling || r.CancellingAt == nil {
		t.Fatalf("cancel: %+v, %v", r.Batch, err)
	}
	seen, got := pollBatch(t, c, b.ID)
	if !slices.Equal(seen, []string{BatchCancelling, BatchCancelled}) || got.CancelledAt == nil || got.OutputFileID != nil ||
		got.RequestCounts.Completed != 0 {
		t.Fatalf("statuses %v, batch %+v", seen, got)
	}
	if r, err := c.CancelBatch(ctx, b.ID); err != nil || r.Status != BatchCancelled {
		t.Errorf("cancel again: %s, %v", r.Status, err)
	}
	// Cancelled in progress: the answered lines stay, the others are
	// cancelled.
	b = startBatch(t, c, batchInput(DefaultModel, batchUsers...))
	for range 2 { // validating, in_progress (3 lines answered)
		if _, err := c.RetrieveBatch(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CancelBatch(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	_, got = pollBatch(t, c, b.ID)
	errs := download(t, c, got.ErrorFileID)
	if got.Status != BatchCancelled || got.RequestCounts != (openai.BatchRequestCounts{Total: 5, Completed: 3, Failed: 2}) ||
		len(download(t, c, got.OutputFileID)) != 3 || len(errs) != 2 || errs[0].Error == nil || errs[0].Error.Code != "batch_cancelled" {
		t.Fatalf("batch %+v, errors %+v", got, errs)
	}
	// A finished batch cannot be cancelled.
	s2 := New(t, Options{})
	c2, _ := newClient(s2, "")
	b = startBatch(t, c2, batchInput(DefaultModel, batchUsers[:1]...))
	pollBatch(t, c2, b.ID)
	_, err = c2.CancelBatch(ctx, b.ID)
	var ae *openai.APIError
	if !errors.As(err, &ae) || ae.HTTPStatusCode != http.StatusConflict {
		t.Errorf("cancel completed: %v", err)
	}
}

func TestFilesAndBatchLists(t *testing.T) {
	s := New(t, Options{})
	c, _ := newClient(s, "")
	ctx := context.Background()
	var ids []string
	for range 3 {
		ids = append(ids, startBatch(t, c, batchInput(DefaultModel, batchUsers[:1]...)).ID)
	}
	limit := 2
	l, err := c.ListBatch(ctx, nil, &limit)
	if err != nil || len(l.Data) != 2 || !l.HasMore || l.Data[0].ID != ids[2] || l.FirstID != ids[2] || l.LastID != ids[1] || l.Object != "list" {
		t.Fatalf("first page: %+v, %v", l, err)
	}
	l, err = c.ListBatch(ctx, &l.LastID, &limit)
	if err != nil || len(l.Data) != 1 || l.HasMore || l.Data[0].ID != ids[0] {
		t.Fatalf("second page: %+v, %v", l, err)
	}
	files, err := c.ListFiles(ctx)
	if err != nil || len(files.Files) != 3 || files.Files[0].Purpose != "batch" || files.Files[0].FileName != "in.jsonl" || files.Files[0].Object != "file" {
		t.Fatalf("files: %+v, %v", files, err)
	}
	id := files.Files[0].ID
	f, err := c.GetFile(ctx, id)
	if err != nil || f.ID != id || f.Bytes != len(batchInput(DefaultModel, batchUsers[:1]...)) || f.Status != "processed" {
		t.Fatalf("file: %+v, %v", f, err)
	}
	if data, ok := s.FileContent(id); !ok || !bytes.Equal(data, batchInput(DefaultModel, batchUsers[:1]...)) {
		t.Errorf("FileContent = %q, %v", data, ok)
	}
	if err := c.DeleteFile(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFile(ctx, id)
	var ae *openai.APIError
	if !errors.As(err, &ae) || ae.HTTPStatusCode != 404 {
		t.Errorf("deleted file: %v", err)
	}
}

func TestBatchAuth(t *testing.T) {
	s := New(t, Options{APIKey: "sk-right"})
	c, _ := newClient(s, "sk-wrong")
	ctx := context.Background()
	calls := map[string]func() error{
		"upload": func() error {
			_, err := c.CreateFileBytes(ctx, openai.FileBytesRequest{Name: "a.jsonl", Bytes: []byte("{}"), Purpose: openai.PurposeBatch})
			return err
		},
		"create": func() error {
			_, err := c.CreateBatch(ctx, openai.CreateBatchRequest{InputFileID: "file-x", Endpoint: openai.BatchEndpointChatCompletions})
			return err
		},
		"retrieve": func() error { _, err := c.RetrieveBatch(ctx, "batch_x"); return err },
		"list":     func() error { _, err := c.ListBatch(ctx, nil, nil); return err },
		"content":  func() error { _, err := c.GetFileContent(ctx, "file-x"); return err },
	}
	for name, call := range calls {
		var ae *openai.APIError
		if err := call(); !errors.As(err, &ae) || ae.HTTPStatusCode != 401 || ae.Code != "invalid_api_key" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestBatchHTTPErrors checks the raw error answers.
func TestBatchHTTPErrors(t *testing.T) {
	s := New(t, Options{})
	c, _ := newClient(s, "")
	in, err := c.CreateFileBytes(context.Background(), openai.FileBytesRequest{Name: "a.txt", Bytes: []byte("x"), Purpose: openai.PurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
		message, param     string
	}{
		{"GET", "/v1/files/file-nope", "", 404, "No such File object: file-nope", "id"},
		{"GET", "/v1/files/file-nope/content", "", 404, "No such File object: file-nope", "id"},
		{"DELETE", "/v1/files/file-nope", "", 404, "No such File object: file-nope", "id"},
		{"GET", "/v1/batches/batch_nope", "", 404, "No batch found with id 'batch_nope'.", ""},
		{"POST", "/v1/batches/batch_nope/cancel", "", 404, "No batch found with id 'batch_nope'.", ""},
		{"PUT", "/v1/batches", "", 404, "Invalid URL (PUT /v1/batches)", ""},
		{"POST", "/v1/batches", `{"input_file_id":"file-nope","endpoint":"/v1/chat/completions","completion_window":"24h"}`, 404, "No such File object: file-nope", "input_file_id"},
		{"POST", "/v1/batches", `{"input_file_id":"` + in.ID + `","endpoint":"/v1/chat/completions","completion_window":"24h"}`, 400, "must be uploaded with purpose 'batch'", "input_file_id"},
		{"POST", "/v1/batches", `{"input_file_id":"x","endpoint":"/v1/chat/completions","completion_window":"1h"}`, 400, "Supported values are: '24h'.", "completion_window"},
		{"POST", "/v1/batches", `{"input_file_id":"x","endpoint":"/v1/embeddings","completion_window":"24h"}`, 400, "Invalid value: '/v1/embeddings'", "endpoint"},
		{"POST", "/v1/batches", `{"endpoint":"/v1/chat/completions","completion_window":"24h"}`, 400, "Missing required parameter: 'input_file_id'.", "input_file_id"},
		{"POST", "/v1/batches", `{"input_file_id":"x","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"k":1}}`, 400, "expected a string", "metadata"},
		{"POST", "/v1/batches", `{`, 400, "could not parse the JSON body", ""},
		{"GET", "/v1/batches?limit=0", "", 400, "Invalid 'limit'", "limit"},
		{"POST", "/v1/files", "not multipart", 400, "multipart/form-data", ""},
	} {
		req, _ := http.NewRequest(tt.method, s.Root()+tt.path, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error *struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.status || body.Error == nil || body.Error.Type != "invalid_request_error" ||
			!strings.Contains(body.Error.Message, tt.message) || (tt.param == "") != (body.Error.Param == nil) ||
			(body.Error.Param != nil && *body.Error.Param != tt.param) {
			t.Errorf("%s %s: %d %+v %v", tt.method, tt.path, resp.StatusCode, body.Error, err)
		}
	}
}

// TestBatchGolden pins the output and error files of a batch down, shuffle
// included.
func TestBatchGolden(t *testing.T) {
	clk := newClock()
	s := New(t, Options{Now: clk.now, Fault: ByCustomID(map[string]Fault{"req-1": {Status: 500}})})
	c, _ := newClient(s, "")
	b := startBatch(t, c, batchInput(DefaultModel, batchUsers...))
	_, got := pollBatch(t, c, b.ID)
	out, _ := s.FileContent(*got.OutputFileID)
	errs, _ := s.FileContent(*got.ErrorFileID)
	golden(t, "batch_output.golden.jsonl", out)
	golden(t, "batch_error.golden.jsonl", errs)
}

func TestVLLMRunBatch(t *testing.T) {
	clk := newClock()
	input := batchInput(DefaultModel, batchUsers...)
	input = append(input, "\n"+`{"custom_id":"emb","method":"POST","url":"/v1/embeddings","body":{"model":"fake-model","input":"x"}}`+
		"\n"+`{"custom_id":"stream","method":"POST","url":"/v1/chat/completions","body":{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hi"}]}}`+"\n"...)
	opts := Options{Now: clk.now, Fault: ByCustomID(map[string]Fault{"req-1": {Status: 500}, "req-0": {DropSegment: "2"}})}
	out, err := VLLMRunBatch(input, opts)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vllm_output.golden.jsonl", out)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(batchUsers)+2 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		var o struct {
			ID       string `json:"id"`
			CustomID string `json:"custom_id"`
			Response struct {
				StatusCode int             `json:"status_code"`
				RequestID  string          `json:"request_id"`
				Body       json.RawMessage `json:"body"`
			} `json:"response"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatal(err)
		}
		ok := strings.HasPrefix(o.ID, "vllm-") && len(o.ID) == 37 && strings.HasPrefix(o.Response.RequestID, "vllm-batch-")
		switch o.CustomID {
		case "req-1":
			ok = ok && o.Response.StatusCode == 500 && string(o.Response.Body) == "null" && strings.Contains(string(o.Error), `"code":500`)
		case "emb", "stream":
			var msg string
			ok = ok && o.Response.StatusCode == 400 && string(o.Response.Body) == "null" && json.Unmarshal(o.Error, &msg) == nil && msg != ""
		default:
			var r openai.ChatCompletionResponse
			ok = ok && i < len(batchUsers) && o.CustomID == customID(i) && o.Response.StatusCode == 200 && string(o.Error) == "null" &&
				json.Unmarshal(o.Response.Body, &r) == nil && len(r.Choices) == 1
			if ok && i == 0 {
				ok = r.Choices[0].Message.Content == `<seg id="1">`+Translate("你好，世界。")+`</seg>`
			} else if ok {
				ok = r.Choices[0].Message.Content == want(batchUsers[i])
			}
		}
		if !ok {
			t.Errorf("line %d: %s", i+1, l)
		}
	}
	again, _ := VLLMRunBatch(input, opts)
	if !bytes.Equal(out, again) {
		t.Error("VLLMRunBatch is not deterministic")
	}
	if _, err := VLLMRunBatch([]byte("{not json\n"), Options{}); err == nil {
		t.Error("bad line: no error")
	}
}

// TestEnqueuedTokenLimit: a batch that would take the queued prompt tokens
// of its model over the limit fails validation with token_limit_exceeded;
// once the batches ahead end, the same file goes through.
func TestEnqueuedTokenLimit(t *testing.T) {
	s := New(t, Options{BatchSteps: -1})
	c, _ := newClient(s, "")
	input := batchInput(DefaultModel, batchUsers...)
	var tokens int64
	for _, l := range strings.Split(strings.TrimSpace(string(input)), "\n") {
		var in struct {
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal([]byte(l), &in); err != nil {
			t.Fatal(err)
		}
		tokens += PromptTokens(in.Body)
	}
	s.LimitEnqueuedTokens(tokens + tokens/2) // room for one batch of input
	first := startBatch(t, c, input).ID
	s.AdvanceBatches() // first: in progress, its tokens queued
	second := startBatch(t, c, input).ID
	other := startBatch(t, c, batchInput("other-model", batchUsers...)).ID // another model's queue
	s.AdvanceBatches()
	b, err := c.RetrieveBatch(context.Background(), second)
	if err != nil || b.Status != BatchFailed || b.Errors == nil || len(b.Errors.Data) != 1 || b.Errors.Data[0].Code != "token_limit_exceeded" ||
		!strings.Contains(b.Errors.Data[0].Message, "Enqueued token limit reached for "+DefaultModel) {
		t.Fatalf("second batch: %+v, %v", b, err)
	}
	if o, _ := c.RetrieveBatch(context.Background(), other); o.Status != BatchInProgress {
		t.Errorf("another model's batch: %s", o.Status)
	}
	s.FinishBatches()
	if _, got := pollBatch(t, c, first); got.Status != BatchCompleted {
		t.Errorf("first batch: %s", got.Status)
	}
	third := startBatch(t, c, input).ID
	s.FinishBatches()
	if _, got := pollBatch(t, c, third); got.Status != BatchCompleted {
		t.Errorf("after the queue emptied: %s", got.Status)
	}
}

// TestVLLMRunBatchServedModel: vLLM answers only the model it serves
// (Options.Models, else Options.Model); a line naming another gets vLLM's
// 404 error line.
func TestVLLMRunBatchServedModel(t *testing.T) {
	input := batchInput("gpt-4o-mini", batchUsers[:2]...)
	for _, opts := range []Options{{Model: "Qwen/Qwen2.5-7B-Instruct"}, {Models: []string{"qwen", "Qwen/Qwen2.5-7B-Instruct"}}, {}} {
		out, err := VLLMRunBatch(input, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var o struct {
				Response struct {
					StatusCode int             `json:"status_code"`
					Body       json.RawMessage `json:"body"`
				} `json:"response"`
				Error struct {
					Error struct {
						Message string `json:"message"`
						Type    string `json:"type"`
						Code    int    `json:"code"`
					} `json:"error"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatal(err)
			}
			if o.Response.StatusCode != 404 || string(o.Response.Body) != "null" || o.Error.Error.Code != 404 ||
				o.Error.Error.Type != "NotFoundError" || o.Error.Error.Message != "The model `gpt-4o-mini` does not exist." {
				t.Errorf("%+v: %s", opts, l)
			}
		}
	}
	out, err := VLLMRunBatch(batchInput("Qwen/Qwen2.5-7B-Instruct", batchUsers[:2]...), Options{Models: []string{"qwen", "Qwen/Qwen2.5-7B-Instruct"}})
	if err != nil || strings.Count(string(out), `"status_code":200`) != 2 {
		t.Errorf("the served model: %v\n%s", err, out)
	}
}
