package fakeopenai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

const translateUser = "Title: 测试\n<seg id=\"1\">你好，世界。</seg>\n<seg id=\"2\">**粗体**和[链接](http://a.b/c)</seg>\n<seg id=\"17\">第三段\n两行</seg>\n"

// headerRecorder keeps the headers of the last response, as a client
// wanting Retry-After would.
type headerRecorder struct {
	mu     sync.Mutex
	header http.Header
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if resp != nil {
		h.mu.Lock()
		h.header = resp.Header.Clone()
		h.mu.Unlock()
	}
	return resp, err
}

func (h *headerRecorder) get(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.header.Get(k)
}

func newClient(s *Server, key string) (*openai.Client, *headerRecorder) {
	hr := &headerRecorder{}
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = s.URL()
	cfg.HTTPClient = &http.Client{Transport: hr}
	return openai.NewClientWithConfig(cfg), hr
}

func chatReq(user string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: DefaultModel,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: `Answer as <seg id="N">translation</seg>.`},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
		MaxTokens: 1000,
	}
}

func promptTokens(req openai.ChatCompletionRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += Tokens(m.Content)
	}
	return n
}

// streamResult is everything a stream delivered.
type streamResult struct {
	content  string
	deltas   int
	firstRol string
	finish   openai.FinishReason
	usage    *openai.Usage
	err      error // the error that ended the stream (nil after [DONE])
}

func readStream(ctx context.Context, c *openai.Client, req openai.ChatCompletionRequest) (streamResult, error) {
	st, err := c.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return streamResult{}, err
	}
	defer st.Close()
	var res streamResult
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			res.err = err
			return res, nil
		}
		if chunk.Usage != nil {
			res.usage = chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.Delta.Role != "" && res.firstRol == "" && res.deltas == 0 {
				res.firstRol = ch.Delta.Role
			}
			if ch.Delta.Content != "" {
				res.deltas++
				res.content += ch.Delta.Content
			}
			if ch.FinishReason != "" {
				res.finish = ch.FinishReason
			}
		}
	}
}

func TestChatJSON(t *testing.T) {
	tests := []struct {
		name, user, want string
		kind             string
	}{
		{"translate", translateUser, TranslateSegments(translateUser), KindTranslate},
		{"summary", "<article>\n第一段。\n第二段。\n</article>", Summarize("<article>\n第一段。\n第二段。\n</article>"), KindSummary},
		{"other", "hello there", otherReply("hello there"), KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, Options{APIKey: "sk-test"})
			c, _ := newClient(s, "sk-test")
			req := chatReq(tt.user)
			resp, err := c.CreateChatCompletion(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != 1 {
				t.Fatalf("got %d choices", len(resp.Choices))
			}
			if got := resp.Choices[0].Message.Content; got != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
			if resp.Choices[0].FinishReason != openai.FinishReasonStop {
				t.Errorf("finish_reason = %q", resp.Choices[0].FinishReason)
			}
			if resp.Usage.PromptTokens != promptTokens(req) || resp.Usage.CompletionTokens != Tokens(tt.want) ||
				resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
				t.Errorf("usage = %+v", resp.Usage)
			}
			if resp.Model != DefaultModel {
				t.Errorf("model = %q", resp.Model)
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("recorded %d requests", len(reqs))
			}
			r := reqs[0]
			if r.Kind != tt.kind || r.Model != DefaultModel || r.Stream || r.MaxTokens != 1000 || len(r.Messages) != 2 ||
				r.Messages[1].Content != tt.user || r.N != 1 {
				t.Errorf("recorded %+v", r)
			}
			if r.Header.Get("Authorization") != "" {
				t.Error("Authorization header recorded")
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
			}
		})
	}
}

func TestChatStream(t *testing.T) {
	s := New(t, Options{})
	c, _ := newClient(s, "")
	req := chatReq(translateUser)
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	res, err := readStream(context.Background(), c, req)
	if err != nil || res.err != nil {
		t.Fatal(err, res.err)
	}
	want := TranslateSegments(translateUser)
	if res.content != want {
		t.Errorf("content = %q, want %q", res.content, want)
	}
	if res.firstRol != openai.ChatMessageRoleAssistant {
		t.Errorf("first delta role = %q", res.firstRol)
	}
	if res.deltas < 2 {
		t.Errorf("content came in %d deltas", res.deltas)
	}
	if res.finish != openai.FinishReasonStop {
		t.Errorf("finish = %q", res.finish)
	}
	if res.usage == nil || res.usage.PromptTokens != promptTokens(req) || res.usage.CompletionTokens != Tokens(want) {
		t.Errorf("usage = %+v", res.usage)
	}
	r := s.Requests()[0]
	if !r.Stream || !r.IncludeUsage || r.Segments != 3 || strings.Join(r.SegmentIDs, ",") != "1,2,17" {
		t.Errorf("recorded %+v", r)
	}

	// Without include_usage there is no usage chunk.
	req.StreamOptions = nil
	res, err = readStream(context.Background(), c, req)
	if err != nil || res.err != nil || res.usage != nil || res.content != want {
		t.Errorf("no-usage stream: err %v/%v usage %+v", err, res.err, res.usage)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		key, model string
		status     int
		code       string
		msg        string
	}{
		{"wrong key", Options{APIKey: "sk-right-key-123456"}, "sk-wrong-key-999999", "", 401, "invalid_api_key", "Incorrect API key provided: sk-****"},
		{"missing key", Options{APIKey: "sk-right"}, "", "", 401, "invalid_api_key", "You didn't provide an API key."},
		{"unknown model", Options{Models: []string{"m1"}}, "", "gpt-x", 404, "model_not_found", "The model `gpt-x` does not exist"},
		{"no model", Options{}, "", "-", 400, "", "you must provide a model parameter"},
		{"429", Options{Fault: Always(RateLimited("3"))}, "", "", 429, "rate_limit_exceeded", "Rate limit reached"},
		{"quota", Options{Fault: Always(QuotaExceeded())}, "", "", 429, "insufficient_quota", "You exceeded your current quota"},
		{"500", Options{Fault: Always(ServerError(500))}, "", "", 500, "", "The server had an error"},
		{"503", Options{Fault: Always(ServerError(503))}, "", "", 503, "", "overloaded"},
		{"custom", Options{Fault: Always(Fault{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "too long"})}, "", "", 400, "context_length_exceeded", "too long"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				s := New(t, tt.opts)
				c, _ := newClient(s, tt.key)
				req := chatReq("hi")
				switch tt.model {
				case "-":
					req.Model = ""
				case "":
				default:
					req.Model = tt.model
				}
				var err error
				if stream {
					_, err = readStream(context.Background(), c, req)
				} else {
					_, err = c.CreateChatCompletion(context.Background(), req)
				}
				var apiErr *openai.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %v (%T), want *openai.APIError", err, err)
				}
				if apiErr.HTTPStatusCode != tt.status {
					t.Errorf("status = %d, want %d", apiErr.HTTPStatusCode, tt.status)
				}
				code, _ := apiErr.Code.(string)
				if code != tt.code {
					t.Errorf("code = %v, want %q", apiErr.Code, tt.code)
				}
				if !strings.Contains(apiErr.Message, tt.msg) {
					t.Errorf("message = %q, want it to contain %q", apiErr.Message, tt.msg)
				}
				if tt.key != "" && strings.Contains(apiErr.Message, tt.key) {
					t.Errorf("message %q shows the whole key", apiErr.Message)
				}
				if apiErr.Param != nil && tt.status != 400 {
					t.Errorf("param = %q, want null", *apiErr.Param)
				}
			})
		}
	}
}

func TestErrorBodyNotJSON(t *testing.T) {
	s := New(t, Options{Fault: Always(Fault{Status: 502, ErrorBody: "<html>Bad Gateway</html>"})})
	c, _ := newClient(s, "")
	_, err := c.CreateChatCompletion(context.Background(), chatReq("hi"))
	var reqErr *openai.RequestError
	if !errors.As(err, &reqErr) || reqErr.HTTPStatusCode != 502 {
		t.Fatalf("err = %v, want *openai.RequestError 502", err)
	}
}

func TestRetryHeaders(t *testing.T) {
	date := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	f := RateLimited(date)
	f.RetryAfterMs = "1500"
	f.RateLimit.RemainingRequests = 0
	f.RateLimit.RemainingTokens = 12
	s := New(t, Options{Fault: FailFirst(1, f)})
	c, hr := newClient(s, "")
	_, err := c.CreateChatCompletion(context.Background(), chatReq("hi"))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 429 {
		t.Fatalf("err = %v", err)
	}
	for k, want := range map[string]string{
		"Retry-After": date, "retry-after-ms": "1500",
		"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "12",
		"x-ratelimit-reset-requests": "1s", "x-request-id": "req_fake_1",
	} {
		if got := hr.get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	// The second request succeeds (FailFirst) and carries no Retry-After.
	resp, err := c.CreateChatCompletion(context.Background(), chatReq("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if hr.get("Retry-After") != "" {
		t.Error("Retry-After on a normal answer")
	}
	if rl := resp.GetRateLimitHeaders(); rl.LimitRequests != 0 {
		t.Errorf("rate limit headers on a normal answer: %+v", rl)
	}
}

func TestModels(t *testing.T) {
	s := New(t, Options{APIKey: "k", Models: []string{"a", "b"}})
	c, _ := newClient(s, "k")
	list, err := c.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 2 || list.Models[0].ID != "a" || list.Models[1].ID != "b" {
		t.Errorf("models = %+v", list.Models)
	}
	bad, _ := newClient(s, "wrong")
	if _, err := bad.ListModels(context.Background()); err == nil {
		t.Error("ListModels with a wrong key succeeded")
	}
	if s.CountKind(KindModels) != 2 {
		t.Errorf("CountKind(models) = %d", s.CountKind(KindModels))
	}
}

// segIDs returns the ids of an answer's segments, in order.
func segIDs(s string) string {
	var ids []string
	for _, sg := range ParseSegments(s) {
		ids = append(ids, sg.ID)
	}
	return strings.Join(ids, ",")
}

func TestContentFaults(t *testing.T) {
	user := "<seg id=\"1\">一</seg>\n<seg id=\"2\">二</seg>\n<seg id=\"3\">三</seg>"
	tr := func(s string) string { return Translate(s) }
	tests := []struct {
		name   string
		f      Fault
		want   string // full content
		finish openai.FinishReason
	}{
		{"none", Fault{}, TranslateSegments(user), "stop"},
		{"drop", Fault{DropSegment: "2"}, `<seg id="1">` + tr("一") + "</seg>\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"drop first", Fault{DropSegment: FirstSegment}, `<seg id="2">` + tr("二") + "</seg>\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"duplicate", Fault{DuplicateSegment: "3"}, TranslateSegments(user) + "\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"empty", Fault{EmptySegment: "1"}, `<seg id="1"></seg>` + "\n<seg id=\"2\">" + tr("二") + "</seg>\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"leave chinese", Fault{LeaveChinese: "2"}, `<seg id="1">` + tr("一") + "</seg>\n<seg id=\"2\">二</seg>\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"merge", Fault{MergeSegments: "1"}, `<seg id="1">` + tr("一") + " " + tr("二") + "</seg>\n<seg id=\"3\">" + tr("三") + "</seg>", "stop"},
		{"extra", Fault{ExtraSegment: "99"}, TranslateSegments(user) + "\n<seg id=\"99\">" + tr("多余的段落") + "</seg>", "stop"},
		{"unknown id no effect", Fault{DropSegment: "42"}, TranslateSegments(user), "stop"},
		{"think", Fault{Think: "hmm"}, "<think>hmm</think>\n\n" + TranslateSegments(user), "stop"},
		{"preamble", Fault{Preamble: "Here is the translation:"}, "Here is the translation:\n\n" + TranslateSegments(user), "stop"},
		{"reply", Fault{Reply: "nope"}, "nope", "stop"},
		{"truncate", Fault{Truncate: true}, string([]rune(TranslateSegments(user))[:len([]rune(TranslateSegments(user)))/2]), "length"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				s := New(t, Options{Fault: Always(tt.f)})
				c, _ := newClient(s, "")
				var content string
				var finish openai.FinishReason
				if stream {
					res, err := readStream(context.Background(), c, chatReq(user))
					if err != nil || res.err != nil {
						t.Fatal(err, res.err)
					}
					content, finish = res.content, res.finish
				} else {
					resp, err := c.CreateChatCompletion(context.Background(), chatReq(user))
					if err != nil {
						t.Fatal(err)
					}
					content, finish = resp.Choices[0].Message.Content, resp.Choices[0].FinishReason
				}
				if content != tt.want {
					t.Errorf("content = %q (ids %s), want %q", content, segIDs(content), tt.want)
				}
				if finish != tt.finish {
					t.Errorf("finish = %q, want %q", finish, tt.finish)
				}
			})
		}
	}
}

func TestEnforceMaxTokens(t *testing.T) {
	s := New(t, Options{EnforceMaxTokens: true})
	c, _ := newClient(s, "")
	req := chatReq(translateUser)
	req.MaxTokens = 5
	resp, err := c.CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].FinishReason != openai.FinishReasonLength || resp.Usage.CompletionTokens > 5 {
		t.Errorf("finish %q, usage %+v", resp.Choices[0].FinishReason, resp.Usage)
	}
}

// TestBrokenAnswers checks that each connection-level fault surfaces as a
// client error rather than an answer.
func TestBrokenAnswers(t *testing.T) {
	tests := []struct {
		name    string
		f       Fault
		timeout bool // the fault hangs: the client must give up
	}{
		{"reset", Fault{Reset: true}, false},
		{"bad json", Fault{BadJSON: true}, false},
		{"stall", Fault{Stall: true}, true},
		{"delay", Fault{Delay: time.Hour}, true},
		{"ttft", Fault{TTFT: time.Hour}, true},
		{"slow tokens", Fault{TokensPerSecond: 0.001}, true},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			if !stream && (tt.name == "ttft" || tt.name == "slow tokens") {
				continue
			}
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				s := New(t, Options{Fault: Always(tt.f)})
				c, _ := newClient(s, "")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.timeout {
					// Cancel once the server got the request; the hang must end.
					go func() {
						for s.Count() == 0 {
							time.Sleep(time.Millisecond)
						}
						time.Sleep(20 * time.Millisecond)
						cancel()
					}()
				}
				var err error
				var got string
				if stream {
					var res streamResult
					res, err = readStream(ctx, c, chatReq(translateUser))
					if err == nil {
						err, got = res.err, res.content
					}
				} else {
					var resp openai.ChatCompletionResponse
					resp, err = c.CreateChatCompletion(ctx, chatReq(translateUser))
					if err == nil {
						got = resp.Choices[0].Message.Content
					}
				}
				if err == nil {
					t.Fatalf("no error; content %q", got)
				}
				if tt.timeout && !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
				if stream && !tt.timeout && len(got) >= len(TranslateSegments(translateUser)) {
					t.Errorf("stream delivered all content before the fault: %q", got)
				}
			})
		}
	}
}

func TestLogAndInFlight(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(3)
	var calls atomic.Int32
	s := New(t, Options{Fault: func(n int, req *Recorded) Fault {
		if calls.Add(1) <= 3 {
			arrived.Done()
			<-release
		}
		return Fault{}
	}})
	c, _ := newClient(s, "")
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			user := translateUser
			if i == 2 {
				user = "<article>x</article>"
			}
			if _, err := c.CreateChatCompletion(context.Background(), chatReq(user)); err != nil {
				t.Error(err)
			}
		})
	}
	arrived.Wait() // all three are in the server at once
	close(release)
	wg.Wait()
	if got := s.MaxInFlight(); got != 3 {
		t.Errorf("MaxInFlight = %d, want 3", got)
	}
	if s.Count() != 3 || s.CountKind(KindTranslate) != 2 || s.CountKind(KindSummary) != 1 {
		t.Errorf("Count %d, translate %d, summary %d", s.Count(), s.CountKind(KindTranslate), s.CountKind(KindSummary))
	}
	s.Reset()
	if s.Count() != 0 || s.MaxInFlight() != 0 {
		t.Errorf("after Reset: Count %d MaxInFlight %d", s.Count(), s.MaxInFlight())
	}
	if _, err := c.CreateChatCompletion(context.Background(), chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests(); len(r) != 1 || r[0].N != 1 || r[0].Kind != KindOther {
		t.Errorf("after Reset: %+v", r)
	}
}

func TestFaultFuncs(t *testing.T) {
	a, b := Fault{Status: 500}, Fault{Status: 503}
	seq := Sequence(a, b)
	first := FailFirst(2, a)
	kind := ForKind(KindSummary, Always(a))
	for n, want := range map[int][3]int{1: {500, 500, 0}, 2: {503, 500, 500}, 3: {0, 0, 0}} {
		rec := &Recorded{Kind: KindTranslate}
		if n == 2 {
			rec.Kind = KindSummary
		}
		got := [3]int{seq(n, rec).Status, first(n, rec).Status, kind(n, rec).Status}
		if got != want {
			t.Errorf("n=%d: got %v, want %v", n, got, want)
		}
	}
}

// TestCloseEndsStalls checks that Close does not wait for hung answers.
func TestCloseEndsStalls(t *testing.T) {
	s, err := Start(Options{Fault: Always(Fault{Stall: true})})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(s, "")
	errc := make(chan error, 1)
	go func() {
		_, err := c.CreateChatCompletion(context.Background(), chatReq("hi"))
		errc <- err
	}()
	for s.Count() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	s.Close() // idempotent
	if err := <-errc; err == nil {
		t.Error("stalled request succeeded after Close")
	}
}

func TestPacedStream(t *testing.T) {
	// Pacing must not change the answer.
	s := New(t, Options{TTFT: time.Millisecond, TokensPerSecond: 20000, Latency: time.Millisecond})
	c, _ := newClient(s, "")
	res, err := readStream(context.Background(), c, chatReq(translateUser))
	if err != nil || res.err != nil {
		t.Fatal(err, res.err)
	}
	if res.content != TranslateSegments(translateUser) {
		t.Errorf("content = %q", res.content)
	}
}

func TestInvalidRequests(t *testing.T) {
	s := New(t, Options{})
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/chat/completions", "{not json", 400},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400},
		{"POST", "/v1/completions", `{}`, 404},
		{"GET", "/v1/chat/completions", ``, 404},
	} {
		req, _ := http.NewRequest(tt.method, strings.TrimSuffix(s.URL(), "/v1")+tt.path, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), `"type":"invalid_request_error"`) {
			t.Errorf("%s %s %q: %d %s", tt.method, tt.path, tt.body, resp.StatusCode, body)
		}
	}
	if s.Count() != 4 {
		t.Errorf("Count = %d, want 4", s.Count())
	}
}

// TestContentEventsAreEncoded: the stream's content events are the bytes
// encoding/json gives for the whole chunk, whatever the delta holds.
func TestContentEventsAreEncoded(t *testing.T) {
	base := chunk{ID: "chatcmpl-fake-7", Object: "chat.completion.chunk", Created: 1700000000, Model: "m\"<&>\u2028", SystemFingerprint: "fp_fake"}
	e := newContentEvents(base)
	if e.head == nil {
		t.Fatal("no template")
	}
	deltas := []string{"", "abcd", "你好，世", "<seg", "id=\"", "\\n", "\n\t\r", "\x00\x1f\x7f", "&<>'", "\u2028\u2029", "a\u2028", "\xff\xfe", "\xe2\x80", "😀😀", "\ufffd"}
	deltas = append(deltas, split(TranslateSegments(translateUser)+Summarize(translateUser), deltaRunes)...)
	for _, d := range deltas {
		want, err := eventBytes(e.chunk(d))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.event(d); !bytes.Equal(got, want) {
			t.Errorf("delta %q: event\n%s\nwant\n%s", d, got, want)
		}
	}
}
