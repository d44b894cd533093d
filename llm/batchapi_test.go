package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// batchInput is a batch input file of one translation request per
// custom_id, its bodies made by ChatBody.
func batchInput(t *testing.T, model string, ids ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, id := range ids {
		body, err := ChatBody(model, translateReq())
		if err != nil {
			t.Fatal(err)
		}
		line, err := json.Marshal(map[string]any{"custom_id": id, "method": "POST", "url": "/v1/chat/completions", "body": body})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// resultLine is a line of a batch output or error file.
type resultLine struct {
	CustomID string `json:"custom_id"`
	Response struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
}

// TestBatchAPI: a batch input file goes up, its batch is created, watched
// and its output and error files come down, all through the client's
// endpoint and key.
func TestBatchAPI(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: "sk-k", Fault: fakeopenai.ByCustomID(map[string]fakeopenai.Fault{
		"req-2": {Status: 500, ErrorMessage: "the model fell over"},
	})})
	c, _ := newClient(t, srv, Config{APIKey: "sk-k"})
	a := c.Batches()
	ctx := context.Background()

	input := batchInput(t, fakeopenai.DefaultModel, "req-1", "req-2", "req-3")
	fileID, err := a.Upload(ctx, "requests-001.jsonl", input)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.FileContent(fileID); !ok || !bytes.Equal(got, input) {
		t.Fatalf("uploaded file %q: %q", fileID, got)
	}

	b, err := a.Create(ctx, fileID, map[string]string{"xlate_job": "job", "xlate_part": "requests-001.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Status != "validating" || b.InputFileID != fileID || b.OutputFileID != "" || b.ErrorFileID != "" || len(b.Errors) > 0 {
		t.Errorf("created %+v", b)
	}
	// The metadata reach the provider (the list shows them, without
	// moving the batch on).
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/batches", nil)
	req.Header.Set("Authorization", "Bearer sk-k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		Data []struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if err != nil || len(listed.Data) != 1 || listed.Data[0].Metadata["xlate_part"] != "requests-001.jsonl" || listed.Data[0].Metadata["xlate_job"] != "job" {
		t.Errorf("metadata on the server: %+v, %v", listed, err)
	}

	got, err := a.Get(ctx, b.ID) // the fake finishes a batch at its first retrieval
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != b.ID || got.Status != "completed" || got.InputFileID != fileID || got.Total != 3 || got.Completed != 2 || got.Failed != 1 ||
		got.OutputFileID == "" || got.ErrorFileID == "" || len(got.Errors) > 0 {
		t.Fatalf("retrieved %+v", got)
	}

	out, err := a.Content(ctx, got.OutputFileID)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := srv.FileContent(got.OutputFileID); !bytes.Equal(out, want) {
		t.Errorf("output file: %q, want %q", out, want)
	}
	var ids []string
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r resultLine
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.CustomID)
		answer, err := ParseChatCompletion(r.Response.Body)
		if err != nil || answer.Content != fakeopenai.TranslateSegments(user) || answer.FinishReason != "stop" || answer.Usage.PromptTokens != promptTokens(translateReq()) {
			t.Errorf("%s: %+v, %v", r.CustomID, answer, err)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"req-1", "req-3"}) {
		t.Errorf("output file answers %v", ids)
	}
	errs, err := a.Content(ctx, got.ErrorFileID)
	if err != nil {
		t.Fatal(err)
	}
	var r resultLine
	if err := json.Unmarshal(errs, &r); err != nil || r.CustomID != "req-2" || r.Response.StatusCode != 500 || !strings.Contains(string(r.Response.Body), "the model fell over") {
		t.Errorf("error file: %s", errs)
	}
}

// TestBatchAPIList: batches come newest first, a page at a time.
func TestBatchAPIList(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1})
	c, _ := newClient(t, srv, Config{APIKey: "k"})
	a := c.Batches()
	ctx := context.Background()
	if l, more, err := a.List(ctx, "", 0); err != nil || len(l) != 0 || more {
		t.Errorf("no batches: %v, %v, %v", l, more, err)
	}
	var created []string
	for i := range 3 {
		id, err := a.Upload(ctx, fmt.Sprintf("requests-%03d.jsonl", i+1), batchInput(t, fakeopenai.DefaultModel, "a"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := a.Create(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, b.ID)
	}
	ids := func(l []Batch) []string {
		var out []string
		for _, b := range l {
			out = append(out, b.ID)
		}
		return out
	}
	tests := []struct {
		after string
		limit int
		want  []string
		more  bool
	}{
		{"", 0, []string{created[2], created[1], created[0]}, false},
		{"", 2, []string{created[2], created[1]}, true},
		{created[1], 2, []string{created[0]}, false},
		{created[0], 0, nil, false},
	}
	for _, tc := range tests {
		l, more, err := a.List(ctx, tc.after, tc.limit)
		if err != nil || !slices.Equal(ids(l), tc.want) || more != tc.more {
			t.Errorf("List(%q, %d) = %v, %v, %v; want %v, %v", tc.after, tc.limit, ids(l), more, err, tc.want, tc.more)
		}
		for _, b := range l {
			if b.Status != "validating" || b.InputFileID == "" {
				t.Errorf("listed %+v", b)
			}
		}
	}
	if _, _, err := a.List(ctx, "", 1000); err == nil || IsTransient(err) || !strings.Contains(err.Error(), "Invalid 'limit'") {
		t.Errorf("a limit over the provider's: %v", err)
	}
}

// TestBatchAPIErrors: what the provider refuses comes back as an error
// not worth retrying, its message kept.
func TestBatchAPIErrors(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{FileMaxBytes: 100})
	c, _ := newClient(t, srv, Config{APIKey: "k"})
	a := c.Batches()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"upload too large", func() error {
			_, err := a.Upload(ctx, "big.jsonl", bytes.Repeat([]byte("x"), 101))
			return err
		}, "File is too large"},
		{"create of no file", func() error {
			_, err := a.Create(ctx, "file-none", nil)
			return err
		}, "No such File object: file-none"},
		{"get of no batch", func() error {
			_, err := a.Get(ctx, "batch_none")
			return err
		}, "No batch found with id 'batch_none'"},
		{"content of no file", func() error {
			_, err := a.Content(ctx, "file-none")
			return err
		}, "file-none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if IsTransient(err) {
				t.Errorf("%v taken for transient", err)
			}
		})
	}
}

// TestBatchAPIFailedBatch: a batch that failed says why, with the input
// line each error is about when there is one.
func TestBatchAPIFailedBatch(t *testing.T) {
	tests := []struct {
		name string
		opts fakeopenai.Options
		want []BatchError
	}{
		{"validation", fakeopenai.Options{Models: []string{"other-model"}}, []BatchError{
			{Code: "model_not_found", Message: "The model `fake-model` does not exist or you do not have access to it.", Line: ptr(1)},
			{Code: "model_not_found", Message: "The model `fake-model` does not exist or you do not have access to it.", Line: ptr(2)},
		}},
		{"token limit", fakeopenai.Options{BatchFault: func(int, string) fakeopenai.BatchFault {
			return fakeopenai.BatchFault{FailCode: "token_limit_exceeded", FailMessage: "Enqueued token limit reached."}
		}}, []BatchError{{Code: "token_limit_exceeded", Message: "Enqueued token limit reached."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeopenai.New(t, tc.opts)
			c, _ := newClient(t, srv, Config{APIKey: "k"})
			a := c.Batches()
			ctx := context.Background()
			id, err := a.Upload(ctx, "requests-001.jsonl", batchInput(t, fakeopenai.DefaultModel, "a", "b"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := a.Create(ctx, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Get(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != "failed" || got.OutputFileID != "" || got.ErrorFileID != "" {
				t.Errorf("failed batch %+v", got)
			}
			if !slices.EqualFunc(got.Errors, tc.want, func(a, b BatchError) bool {
				return a.Code == b.Code && a.Message == b.Message && (a.Line == nil) == (b.Line == nil) && (a.Line == nil || *a.Line == *b.Line)
			}) {
				t.Errorf("errors %+v, want %+v", got.Errors, tc.want)
			}
		})
	}
}

func ptr(n int) *int { return &n }

// answerWith is a transport that answers every request with status and
// body (as contentType), the body cut short after its bytes when cut, or
// fails with err.
type answerWith struct {
	status            int
	contentType, body string
	cut               bool
	err               error
}

// cutShort reads r, then fails as a connection closed mid-body does.
type cutShort struct{ r io.Reader }

func (c cutShort) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (a answerWith) RoundTrip(r *http.Request) (*http.Response, error) {
	if a.err != nil {
		return nil, a.err
	}
	var body io.Reader = strings.NewReader(a.body)
	if a.cut {
		body = cutShort{body}
	}
	return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Header: http.Header{"Content-Type": {a.contentType}},
		Body: io.NopCloser(body), Request: r}, nil
}

func TestIsTransient(t *testing.T) {
	const apiErr = `{"error":{"message":"it went wrong","type":"server_error","param":null,"code":null}}`
	tests := []struct {
		name      string
		rt        answerWith
		content   bool // the call is Content (else Get)
		transient bool
	}{
		{"429", answerWith{status: 429, contentType: "application/json", body: apiErr}, false, true},
		{"500", answerWith{status: 500, contentType: "application/json", body: apiErr}, false, true},
		{"503", answerWith{status: 503, contentType: "application/json", body: apiErr}, false, true},
		{"502 from a proxy", answerWith{status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>"}, false, true},
		{"429 without a body", answerWith{status: 429, contentType: "text/plain"}, false, true},
		{"400", answerWith{status: 400, contentType: "application/json", body: apiErr}, false, false},
		{"401", answerWith{status: 401, contentType: "application/json", body: apiErr}, false, false},
		{"404 from a proxy", answerWith{status: 404, contentType: "text/html", body: "<html>Not Found</html>"}, false, false},
		{"connection lost", answerWith{err: io.ErrUnexpectedEOF}, false, true},
		{"download cut short", answerWith{status: 200, contentType: "application/octet-stream", body: `{"custom_id":"a","resp`, cut: true}, true, true},
		{"batch cut short", answerWith{status: 200, contentType: "application/json", body: `{"id":"batch_1","status":"comp`, cut: true}, false, true},
		// A web page where the API should be: the base URL is wrong, and
		// asking again cannot help.
		{"HTML page", answerWith{status: 200, contentType: "text/html", body: "<html><body>Welcome</body></html>"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{BaseURL: "http://api.invalid/v1", APIKey: "k", Model: "m", HTTPClient: &http.Client{Transport: tc.rt}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.content {
				_, err = c.Batches().Content(context.Background(), "file-1")
			} else {
				_, err = c.Batches().Get(context.Background(), "batch_1")
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsTransient(err); got != tc.transient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.transient)
			}
			if got := IsTransient(fmt.Errorf("batch batch_1: %w", err)); got != tc.transient {
				t.Errorf("wrapped: IsTransient = %v, want %v", got, tc.transient)
			}
		})
	}

	// No server there: a network error.
	srv := fakeopenai.New(t, fakeopenai.Options{})
	c, _ := newClient(t, srv, Config{APIKey: "k"})
	srv.Close()
	if _, _, err := c.Batches().List(context.Background(), "", 0); err == nil || !IsTransient(err) {
		t.Errorf("connection refused: %v, transient %v", err, IsTransient(err))
	}
	for _, err := range []error{errors.New("something else"), context.Canceled, errNoChoices} {
		if IsTransient(err) {
			t.Errorf("IsTransient(%v) = true", err)
		}
	}
}

func TestParseChatCompletion(t *testing.T) {
	completion := func(content, finish string) string {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
		})
		return string(b)
	}
	tests := []struct {
		name, body string
		want       Response
		err        string
	}{
		{"answer", completion(`<seg id="1">Hello</seg>`, "stop"), Response{Content: `<seg id="1">Hello</seg>`, FinishReason: "stop", Usage: Usage{PromptTokens: 12, CompletionTokens: 7}}, ""},
		{"reasoning stripped", completion("<think>\nwhich word?\n</think>\n\nHello", "stop"), Response{Content: "Hello", FinishReason: "stop", Usage: Usage{PromptTokens: 12, CompletionTokens: 7}}, ""},
		{"cut at the limit", completion("Hel", "length"), Response{Content: "Hel", FinishReason: "length", Usage: Usage{PromptTokens: 12, CompletionTokens: 7}}, ""},
		{"no choices", `{"id":"x","object":"chat.completion","choices":[]}`, Response{}, "answer has no choices"},
		{"not JSON", `<html>`, Response{}, "answer is not a chat completion"},
		{"an error body", `{"error":{"message":"bad"}}`, Response{}, "answer has no choices"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseChatCompletion([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestChatBody(t *testing.T) {
	type body struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		MaxTokens           *int     `json:"max_tokens"`
		MaxCompletionTokens *int     `json:"max_completion_tokens"`
		Temperature         *float64 `json:"temperature"`
		Stream              bool     `json:"stream"`
		StreamOptions       any      `json:"stream_options"`
	}
	tests := []struct {
		model       string
		temperature float32
		maxTokens   string // the field that carries MaxTokens
		wantTemp    *float64
	}{
		{"fake-model", 0.3, "max_tokens", ptrF(0.3)},
		{"gpt-4o-mini", 0, "max_tokens", nil},
		{"gpt-5-mini", 0.3, "max_completion_tokens", nil},
		{"o3", 1, "max_completion_tokens", ptrF(1)},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			req := translateReq()
			req.Temperature = tc.temperature
			raw, err := ChatBody(tc.model, req)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.HasSuffix(raw, []byte("\n")) || !json.Valid(raw) {
				t.Errorf("body %q: not one JSON value without a newline", raw)
			}
			var b body
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			if b.Model != tc.model || len(b.Messages) != 2 || b.Messages[0].Role != RoleSystem || b.Messages[0].Content != req.Messages[0].Content ||
				b.Messages[1].Role != RoleUser || b.Messages[1].Content != user {
				t.Errorf("model %q, messages %+v", b.Model, b.Messages)
			}
			limit := map[string]*int{"max_tokens": b.MaxTokens, "max_completion_tokens": b.MaxCompletionTokens}
			for field, v := range limit {
				if field == tc.maxTokens && (v == nil || *v != req.MaxTokens) || field != tc.maxTokens && v != nil {
					t.Errorf("%s = %v in %s", field, v, raw)
				}
			}
			if (b.Temperature == nil) != (tc.wantTemp == nil) || b.Temperature != nil && float32(*b.Temperature) != float32(*tc.wantTemp) {
				t.Errorf("temperature %v, want %v", b.Temperature, tc.wantTemp)
			}
			if b.Stream || b.StreamOptions != nil {
				t.Errorf("a batch body asks for streaming: %s", raw)
			}
		})
	}
}

func ptrF(f float64) *float64 { return &f }
