package llm

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestMain(m *testing.M) {
	testOnlyBaseBackoff = time.Millisecond
	os.Exit(m.Run())
}

const user = "标题\n<seg id=\"1\">你好，世界。</seg>\n<seg id=\"2\">第二段**粗体**</seg>\n"

func translateReq() Request {
	return Request{
		Purpose:     "translate",
		MaxTokens:   2000,
		Temperature: 0.3,
		Messages: []Message{
			{Role: RoleSystem, Content: `Answer with <seg id="N">translation</seg>.`},
			{Role: RoleUser, Content: user},
		},
	}
}

func promptTokens(req Request) int {
	n := 0
	for _, m := range req.Messages {
		n += fakeopenai.Tokens(m.Content)
	}
	return n
}

// waits records the waits between attempts instead of sleeping, and is the
// client's clock: a wait moves it forward.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
	t  time.Time
}

func newWaits() *waits { return &waits{t: time.Now()} }

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.t = w.t.Add(max(d, 0))
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

// advance moves the clock forward without a wait.
func (w *waits) advance(d time.Duration) {
	w.mu.Lock()
	w.t = w.t.Add(d)
	w.mu.Unlock()
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func newClient(t *testing.T, s *fakeopenai.Server, cfg Config) (*OpenAI, *waits) {
	t.Helper()
	cfg.BaseURL = s.URL()
	if cfg.Model == "" {
		cfg.Model = fakeopenai.DefaultModel
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := newWaits()
	c.sleep, c.now = w.sleep, w.now
	return c, w
}

func modes() map[string]bool { return map[string]bool{"json": false, "stream": true} }

func TestComplete(t *testing.T) {
	for name, stream := range modes() {
		t.Run(name, func(t *testing.T) {
			s := fakeopenai.New(t, fakeopenai.Options{APIKey: "sk-k"})
			c, _ := newClient(t, s, Config{APIKey: "sk-k", Stream: stream})
			req := translateReq()
			resp, err := c.Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := fakeopenai.TranslateSegments(user)
			if resp.Content != want || resp.FinishReason != "stop" {
				t.Errorf("got %+v, want content %q", resp, want)
			}
			wantUsage := Usage{PromptTokens: promptTokens(req), CompletionTokens: fakeopenai.Tokens(want)}
			if resp.Usage != wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, wantUsage)
			}
			// A second call adds up in Stats.
			if _, err := c.Complete(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			wantStats := Stats{Requests: 2, PromptTokens: 2 * int64(wantUsage.PromptTokens), CompletionTokens: 2 * int64(wantUsage.CompletionTokens)}
			st := c.Stats()
			if stream && st.Streamed == 0 {
				t.Errorf("streamed chunks not counted")
			}
			st.Streamed = 0 // a count of chunks, checked above
			if st != wantStats {
				t.Errorf("stats = %+v, want %+v", st, wantStats)
			}
			r := s.Requests()[0]
			if r.Stream != stream || r.IncludeUsage != stream || r.MaxTokens != 2000 || r.Temperature < 0.29 || r.Temperature > 0.31 ||
				r.Kind != fakeopenai.KindTranslate || len(r.Messages) != 2 || r.Messages[0].Role != RoleSystem {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

func TestAnswerShapes(t *testing.T) {
	full := fakeopenai.TranslateSegments(user)
	tests := []struct {
		name        string
		f           fakeopenai.Fault
		want        string
		finish      string
		checkPrefix bool
	}{
		{"think stripped", fakeopenai.Fault{Think: "let me think\n<seg id=\"1\">no</seg>"}, full, "stop", false},
		{"length returned", fakeopenai.Fault{Truncate: true}, strings.TrimSpace(string([]rune(full)[:len([]rune(full))/2])), "length", false},
		{"cut think", fakeopenai.Fault{Think: "long reasoning", Truncate: true, Reply: "xx"}, "", "length", false},
		{"preamble kept", fakeopenai.Fault{Preamble: "Here is the translation:"}, "Here is the translation:\n\n" + full, "stop", false},
	}
	for _, tt := range tests {
		for name, stream := range modes() {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(tt.f)})
				c, _ := newClient(t, s, Config{Stream: stream})
				resp, err := c.Complete(context.Background(), translateReq())
				if err != nil {
					t.Fatal(err)
				}
				if resp.Content != tt.want || resp.FinishReason != tt.finish {
					t.Errorf("got %q/%q, want %q/%q", resp.Content, resp.FinishReason, tt.want, tt.finish)
				}
				if s.Count() != 1 {
					t.Errorf("%d requests, want 1", s.Count())
				}
			})
		}
	}
}

func TestRetries(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		faults []fakeopenai.Fault
		waits  []time.Duration // exact server-requested waits; nil = backoff only
	}{
		{"429 retry-after seconds", []fakeopenai.Fault{fakeopenai.RateLimited("2")}, []time.Duration{2 * time.Second}},
		{"429 retry-after-ms wins", []fakeopenai.Fault{func() fakeopenai.Fault {
			f := fakeopenai.RateLimitedMs(1500)
			f.RetryAfter = "9"
			return f
		}()}, []time.Duration{1500 * time.Millisecond}},
		{"503 retry-after then 429", []fakeopenai.Fault{{Status: 503, RetryAfter: "1"}, fakeopenai.RateLimited("3")}, []time.Duration{time.Second, 3 * time.Second}},
		{"429 without header", []fakeopenai.Fault{{Status: http.StatusTooManyRequests}}, nil},
		{"429 with x-ratelimit-reset only", []fakeopenai.Fault{fakeopenai.RateLimited("")}, []time.Duration{time.Second}},
		{"500 twice", []fakeopenai.Fault{fakeopenai.ServerError(500), fakeopenai.ServerError(500)}, nil},
		{"502 504", []fakeopenai.Fault{fakeopenai.ServerError(502), fakeopenai.ServerError(504)}, nil},
		{"html 502", []fakeopenai.Fault{{Status: 502, ErrorBody: "<html>bad gateway</html>"}}, nil},
		{"reset", []fakeopenai.Fault{{Reset: true}}, nil},
		{"bad json", []fakeopenai.Fault{{BadJSON: true}}, nil},
		{"empty reply", []fakeopenai.Fault{{Status: 200, ErrorBody: `{"choices":[]}`}}, nil},
		{"retry-after too far", []fakeopenai.Fault{fakeopenai.RateLimited(date)}, []time.Duration{-1}}, // not retried
	}
	for _, tt := range tests {
		for name, stream := range modes() {
			if tt.name == "empty reply" && stream {
				continue
			}
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Sequence(tt.faults...)})
				c, w := newClient(t, s, Config{Stream: stream})
				resp, err := c.Complete(context.Background(), translateReq())
				if len(tt.waits) == 1 && tt.waits[0] < 0 {
					var ae *APIError
					if !errors.As(err, &ae) || ae.Status != 429 || s.Count() != 1 {
						t.Fatalf("err = %v, %d requests; want a 429 after one request", err, s.Count())
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if resp.Content != fakeopenai.TranslateSegments(user) {
					t.Errorf("content = %q", resp.Content)
				}
				n := len(tt.faults)
				if s.Count() != n+1 {
					t.Errorf("%d requests, want %d", s.Count(), n+1)
				}
				if st := c.Stats(); st.Requests != int64(n+1) || st.Retries != int64(n) || st.Errors != 0 {
					t.Errorf("stats = %+v", st)
				}
				if len(w.d) != n {
					t.Fatalf("waited %v, want %d waits", w.d, n)
				}
				for i, d := range w.d {
					if tt.waits != nil && d != tt.waits[i] {
						t.Errorf("wait %d = %v, want %v", i, d, tt.waits[i])
					}
					if tt.waits == nil && (d < 0 || d > testOnlyBaseBackoff<<i) {
						t.Errorf("backoff %d = %v, want within [0, %v]", i, d, testOnlyBaseBackoff<<i)
					}
				}
			})
		}
	}
}

func TestGiveUp(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.ServerError(503))})
	c, _ := newClient(t, s, Config{Retries: 2})
	_, err := c.Complete(context.Background(), translateReq())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("err = %v, want *APIError 503", err)
	}
	want := "llm: 3 attempts failed: server error (503): The engine is currently overloaded, please try again later."
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if s.Count() != 3 || c.Stats().Errors != 1 || c.Stats().Retries != 2 {
		t.Errorf("%d requests, stats %+v", s.Count(), c.Stats())
	}

	c, _ = newClient(t, s, Config{Retries: -1})
	s.Reset()
	if _, err := c.Complete(context.Background(), translateReq()); err == nil || s.Count() != 1 {
		t.Errorf("Retries -1: err %v after %d requests", err, s.Count())
	}
}

func TestNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		opts   fakeopenai.Options
		model  string
		status int
		msg    string
	}{
		{"401", fakeopenai.Options{APIKey: "sk-other"}, "", 401, "llm: authentication failed (401): check the API key"},
		{"404 model", fakeopenai.Options{Models: []string{"m"}}, "gpt-x", 404, "llm: model not found (404): The model `gpt-x` does not exist or you do not have access to it."},
		{"400", fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 400, ErrorMessage: "bad  thing\nhappened"})}, "", 400, "llm: request failed (400): bad thing happened"},
		{"400 context", fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "too long"})}, "", 400, "llm: prompt too long (400): too long"},
		{"403", fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 403})}, "", 403, "llm: permission denied (403): Country, region, or territory not supported"},
		{"quota", fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.QuotaExceeded())}, "", 429, "llm: quota exceeded (429): check your plan and billing details"},
	}
	for _, tt := range tests {
		for name, stream := range modes() {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				s := fakeopenai.New(t, tt.opts)
				c, w := newClient(t, s, Config{APIKey: "sk-secret-123456789", Stream: stream, Model: tt.model})
				_, err := c.Complete(context.Background(), translateReq())
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != tt.status {
					t.Fatalf("err = %v, want *APIError %d", err, tt.status)
				}
				if err.Error() != tt.msg {
					t.Errorf("err = %q, want %q", err, tt.msg)
				}
				if s.Count() != 1 || len(w.d) != 0 {
					t.Errorf("%d requests, waits %v: retried", s.Count(), w.d)
				}
				if c.Stats().Errors != 1 {
					t.Errorf("stats = %+v", c.Stats())
				}
			})
		}
	}
}

func TestStallAndTimeout(t *testing.T) {
	tests := []struct {
		name   string
		stream bool
		cfg    Config
		fault  fakeopenai.Fault
	}{
		{"stream stall", true, Config{StallTimeout: 200 * time.Millisecond}, fakeopenai.Fault{Stall: true}},
		{"json timeout", false, Config{Timeout: 200 * time.Millisecond}, fakeopenai.Fault{Stall: true}},
		// Streaming, --timeout bounds the wait for the answer to begin.
		{"stream timeout", true, Config{Timeout: 200 * time.Millisecond}, fakeopenai.Fault{TTFT: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.FailFirst(1, tt.fault)})
			tt.cfg.Stream = tt.stream
			c, w := newClient(t, s, tt.cfg)
			resp, err := c.Complete(context.Background(), translateReq())
			if err != nil {
				t.Fatal(err)
			}
			// Exact counts would depend on timing: a loaded machine may
			// also time out a healthy attempt.
			if resp.Content != fakeopenai.TranslateSegments(user) || s.Count() < 2 || len(w.d) < 1 {
				t.Errorf("content %q, %d requests, waits %v", resp.Content, s.Count(), w.d)
			}
		})
	}
	// A slow but steady stream outlives --timeout: only a stall cuts it.
	s0 := fakeopenai.New(t, fakeopenai.Options{TokensPerSecond: 100})
	c0, _ := newClient(t, s0, Config{Stream: true, Timeout: 50 * time.Millisecond, StallTimeout: 5 * time.Second, Retries: -1})
	start := time.Now()
	if resp, err := c0.Complete(context.Background(), translateReq()); err != nil || resp.Content != fakeopenai.TranslateSegments(user) {
		t.Errorf("steady stream longer than --timeout: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("the stream took %v, not longer than --timeout: the case proves nothing", d)
	}
	// A cut stream with content, for a caller that takes part of an answer:
	// no retry, the content comes back.
	sp := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Stall: true})})
	cp, _ := newClient(t, sp, Config{Stream: true, StallTimeout: 50 * time.Millisecond})
	req := translateReq()
	req.Partial = true
	var pe *PartialError
	if _, err := cp.Complete(context.Background(), req); !errors.As(err, &pe) || pe.Content == "" || cp.Stats().Requests != 1 {
		t.Errorf("partial: err = %v after %d requests, want a PartialError with content after 1", err, cp.Stats().Requests)
	}
	// When every attempt stalls, the error says so.
	s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Stall: true})})
	c, _ := newClient(t, s, Config{Stream: true, StallTimeout: 10 * time.Millisecond, Retries: 1})
	_, err := c.Complete(context.Background(), translateReq())
	if !errors.Is(err, ErrStalled) || c.Stats().Requests != 2 {
		t.Errorf("err = %v after %d attempts, want ErrStalled after 2", err, c.Stats().Requests)
	}
}

func TestConcurrencyBound(t *testing.T) {
	const limit, calls = 2, 8
	for name, stream := range modes() {
		t.Run(name, func(t *testing.T) {
			// The first `limit` requests wait for each other, so the server
			// sees `limit` at once for sure; the semaphore must keep it from
			// seeing more.
			var arrived atomic.Int32
			gate := make(chan struct{})
			s := fakeopenai.New(t, fakeopenai.Options{Fault: func(n int, _ *fakeopenai.Recorded) fakeopenai.Fault {
				if arrived.Add(1) == limit {
					close(gate)
				}
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
				}
				return fakeopenai.Fault{}
			}})
			c, _ := newClient(t, s, Config{Concurrency: limit, Stream: stream})
			var wg sync.WaitGroup
			for range calls {
				wg.Go(func() {
					if _, err := c.Complete(context.Background(), translateReq()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if got := s.MaxInFlight(); got != limit {
				t.Errorf("max in flight = %d, want %d", got, limit)
			}
			if s.Count() != calls {
				t.Errorf("%d requests, want %d", s.Count(), calls)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name   string
		fault  fakeopenai.Fault
		stream bool
		wait   bool // cancel during the backoff wait (real sleep, long backoff)
	}{
		{"json in flight", fakeopenai.Fault{Delay: time.Hour}, false, false},
		{"stream in flight", fakeopenai.Fault{Stall: true}, true, false},
		{"stream slow tokens", fakeopenai.Fault{TokensPerSecond: 0.01}, true, false},
		{"backoff wait", fakeopenai.ServerError(500), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(tt.fault)})
			c, _ := newClient(t, s, Config{Stream: tt.stream})
			if tt.wait {
				c.sleep = sleep
				c.backoff = time.Hour
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				for s.Count() == 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			_, err := c.Complete(ctx, translateReq())
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if c.Stats().Errors != 0 {
				t.Errorf("cancellation counted as error: %+v", c.Stats())
			}
		})
	}

	// Waiting for a free slot also ends on cancel.
	s := fakeopenai.New(t, fakeopenai.Options{})
	c, _ := newClient(t, s, Config{Concurrency: 1})
	c.sem <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Complete(ctx, translateReq()); !errors.Is(err, context.Canceled) || s.Count() != 0 {
		t.Errorf("err = %v, %d requests", err, s.Count())
	}
}

func TestKeyNeverLeaks(t *testing.T) {
	const key = "sk-proj-SECRET0123456789abcdef"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	scenarios := []fakeopenai.Options{
		{APIKey: "sk-another-key"}, // 401 quoting (part of) the key
		{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 400, ErrorMessage: "invalid key " + key + " given"})},
		{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 500, ErrorMessage: "failed for " + key})},
		{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 502, ErrorBody: "proxy says " + key})},
		{Fault: fakeopenai.Always(fakeopenai.Fault{Reset: true})},
	}
	for i, opts := range scenarios {
		for name, stream := range modes() {
			s := fakeopenai.New(t, opts)
			c, _ := newClient(t, s, Config{APIKey: key, Stream: stream, Logger: logger, Retries: 1})
			_, err := c.Complete(context.Background(), translateReq())
			if err == nil {
				t.Fatalf("scenario %d/%s: no error", i, name)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("scenario %d/%s: key in error %q", i, name, err)
			}
		}
	}
	if !strings.Contains(logs.String(), "llm retry") {
		t.Fatalf("no retry logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("key in logs:\n%s", logs.String())
	}
}

func TestConnectionRefused(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{})
	url := s.URL()
	s.Close()
	c, err := New(Config{BaseURL: url, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Complete(context.Background(), translateReq())
	if err == nil || !strings.Contains(err.Error(), "is the server at "+url+" running?") {
		t.Errorf("err = %v", err)
	}
	if c.Stats().Requests != 1 {
		t.Errorf("stats = %+v, want one attempt", c.Stats())
	}
}

func TestReasoningModel(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{})
	for name, stream := range modes() {
		t.Run(name, func(t *testing.T) {
			s.Reset()
			c, _ := newClient(t, s, Config{Model: "o3-mini", Stream: stream})
			if _, err := c.Complete(context.Background(), translateReq()); err != nil {
				t.Fatal(err)
			}
			if r := s.Requests()[0]; r.MaxTokens != 2000 || r.Temperature != 0 || r.Model != "o3-mini" {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"remote without key", Config{Model: "m"}, "llm: https://api.openai.com/v1: an API key is required for a non-local endpoint"},
		{"local without key", Config{Model: "m", BaseURL: "http://localhost:11434/v1"}, ""},
		{"no model", Config{APIKey: "k"}, "llm: no model given"},
		{"bad url", Config{Model: "m", BaseURL: "localhost:8080"}, `llm: invalid base URL "localhost:8080": want http(s)://host[:port]/path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("err = %q, want %q", got, tt.err)
			}
		})
	}
	if _, err := New(Config{Model: "m"}); !errors.Is(err, ErrMissingAPIKey) {
		t.Errorf("err = %v, want ErrMissingAPIKey", err)
	}
	if _, err := (&OpenAI{}).Complete(context.Background(), Request{}); err == nil {
		t.Error("empty request accepted")
	}
}

func TestIsLocal(t *testing.T) {
	tests := map[string]bool{
		"http://localhost:11434/v1":       true,
		"http://127.0.0.1:8080/v1":        true,
		"http://[::1]:8080/v1":            true,
		"http://192.168.1.20:1234/v1":     true,
		"http://10.0.0.5/v1":              true,
		"http://172.20.0.3:8000/v1":       true,
		"http://100.101.102.103:11434/v1": true,
		"http://0.0.0.0:8080":             true,
		"http://ollama:11434/v1":          true,
		"http://gpu-box.local:8000/v1":    true,
		"http://llm.internal/v1":          true,
		"http://api.localhost/v1":         true,
		"https://api.openai.com/v1":       false,
		"https://api.deepseek.com":        false,
		"http://8.8.8.8/v1":               false,
		"http://172.32.0.1/v1":            false,
		"not a url at all":                false,
		"":                                false,
	}
	for in, want := range tests {
		if got := IsLocal(in); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		h    map[string]string
		want time.Duration
	}{
		{map[string]string{"Retry-After": "5"}, 5 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"retry-after-ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{map[string]string{"retry-after-ms": "x", "Retry-After": "9"}, 9 * time.Second},
		{map[string]string{}, 0},
		{map[string]string{"x-ratelimit-reset-requests": "1.5s", "x-ratelimit-reset-tokens": "6m0s", "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "5000"}, 1500 * time.Millisecond},
		{map[string]string{"x-ratelimit-reset-requests": "20ms", "x-ratelimit-reset-tokens": "2s"}, 2 * time.Second},
		{map[string]string{"x-ratelimit-reset-tokens": "7", "x-ratelimit-remaining-tokens": "0"}, 7 * time.Second},
		{map[string]string{"x-ratelimit-reset-tokens": "7", "Retry-After": "1"}, time.Second},
		{map[string]string{"x-ratelimit-reset-tokens": "later"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestStripThink(t *testing.T) {
	tests := map[string]string{
		"<think>a\nb</think>\n\nanswer":           "answer",
		"<thinking>x</thinking>answer":            "answer",
		"answer":                                  "answer",
		"<think>cut off":                          "",
		"a <think>x</think> b <think>y</think> c": "a  b  c",
		"  spaced  ":                              "spaced",
	}
	for in, want := range tests {
		if got := stripThink(in); got != want {
			t.Errorf("stripThink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAPIErrorMessages(t *testing.T) {
	tests := []struct {
		e    APIError
		want string
	}{
		{APIError{Status: 401, Message: "Incorrect API key provided: sk-ab***cd"}, "authentication failed (401): check the API key"},
		{APIError{Status: 404, Code: "model_not_found"}, "model not found (404): check the model name"},
		{APIError{Status: 404, Message: "Invalid URL (POST /chat/completions)"}, "not found (404): Invalid URL (POST /chat/completions)"},
		{APIError{Status: 404}, "not found (404): check the base URL (it usually ends in /v1)"},
		{APIError{Status: 429}, "rate limited (429): lower the concurrency"},
		{APIError{Status: 500}, "server error (500): try again later"},
		{APIError{Status: 0, Message: "boom"}, "error in stream: boom"},
		{APIError{Status: 418}, "request failed (418): I'm a teapot"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}
