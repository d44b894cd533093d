package llm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestRPMSpacing(t *testing.T) {
	// One minute's worth goes at once, then one request a second: count the
	// attempts that had to wait, and how long each did on the fake clock.
	s := fakeopenai.New(t, fakeopenai.Options{})
	c, w := newClient(t, s, Config{RPM: 60, Concurrency: 1})
	for range 70 {
		if _, err := c.Complete(context.Background(), translateReq()); err != nil {
			t.Fatal(err)
		}
	}
	got := w.list()
	if len(got) != 10 {
		t.Fatalf("%d waits (%v), want 10: the 60 of the burst go at once", len(got), got)
	}
	for i, d := range got {
		if d != time.Second {
			t.Errorf("wait %d = %v, want 1s", i, d)
		}
	}
	if st := c.Stats(); st.Waited != 10*time.Second || st.Requests != 70 || st.RateLimited != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestEstimate(t *testing.T) {
	// A counter of its own (one token per byte), to see that estimate uses
	// Config.Tokens; without one, a token per rune.
	bytes := func(s string) int { return len(s) }
	sys, usr := `Answer with <seg id="N">translation</seg>.`, user
	msgs := translateReq().Messages
	s := fakeopenai.New(t, fakeopenai.Options{})
	off, _ := newClient(t, s, Config{})
	for _, counter := range []struct {
		name  string
		cfg   func(string) int
		count func(string) int
	}{
		{"Config.Tokens", bytes, bytes},
		{"default", nil, utf8.RuneCountInString},
	} {
		counted := replyTokens + 2*messageTokens + counter.count(sys) + counter.count(usr)
		tests := []struct {
			name string
			req  Request
			want int
		}{
			{"caller sized both", Request{Messages: msgs, PromptTokens: 300, ExpectedOutputTokens: 200, MaxTokens: 999}, 500},
			{"max tokens as the answer", Request{Messages: msgs, PromptTokens: 300, MaxTokens: 999}, 1299},
			{"answer as long as the user message", Request{Messages: msgs, PromptTokens: 300}, 300 + counter.count(usr)},
			{"prompt counted", Request{Messages: msgs, ExpectedOutputTokens: 7}, counted + 7},
			{"all counted", Request{Messages: msgs}, counted + counter.count(usr)},
		}
		c, _ := newClient(t, s, Config{TPM: 1000, Tokens: counter.cfg})
		for _, tt := range tests {
			if got := c.estimate(tt.req); got != tt.want {
				t.Errorf("%s: %s: estimate = %d, want %d", counter.name, tt.name, got, tt.want)
			}
			if got := off.estimate(tt.req); got != 0 {
				t.Errorf("%s: estimate without TPM = %d, want 0", tt.name, got)
			}
		}
	}
	if n, r := len(usr), utf8.RuneCountInString(usr); n == r {
		t.Fatalf("the user message is ASCII (%d bytes): the two counters agree", n)
	}
}

func TestTPMCorrectedByUsage(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{})
	req := translateReq()
	resp, err := func() (Response, error) {
		c, _ := newClient(t, s, Config{})
		return c.Complete(context.Background(), req)
	}()
	if err != nil {
		t.Fatal(err)
	}
	real := resp.Usage.PromptTokens + resp.Usage.CompletionTokens

	const tpm = 6000
	tests := []struct {
		name      string
		est       int
		wantLevel float64 // bucket after the answer
		wantCred  int
	}{
		{"under-estimate: the rest is a debt", real / 2, tpm - float64(real), 0},
		{"over-estimate: the excess is credit", real * 2, tpm - 2*float64(real), real},
		{"exact", real, tpm - float64(real), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w := newClient(t, s, Config{TPM: tpm})
			r := req
			r.PromptTokens, r.ExpectedOutputTokens = tt.est-1, 1
			if _, err := c.Complete(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			p := &c.pace
			if got := p.tok.own.TokensAt(w.now()); got != tt.wantLevel || p.credit != tt.wantCred {
				t.Errorf("bucket %v, credit %d; want %v, %d", got, p.credit, tt.wantLevel, tt.wantCred)
			}
			// The learnt ratio sizes the next request: a second one takes
			// what the first really cost (from the credit first).
			if got, want := p.ratio(), float64(real)/float64(tt.est); got != want {
				t.Errorf("ratio %v, want %v", got, want)
			}
			tk, err := c.admit(context.Background(), tt.est)
			if err != nil {
				t.Fatal(err)
			}
			if d := tk.tokens - real; d < 0 || d > 1 || p.credit != 0 || p.inTok != tk.tokens || p.inReq != 1 {
				t.Errorf("next ticket takes %d (credit left %d, in flight %d/%d), want %d", tk.tokens, p.credit, p.inReq, p.inTok, real)
			}
			c.abandon(tk)
			if p.inReq != 0 || p.inTok != 0 || p.credit != tt.wantCred {
				t.Errorf("abandon: in flight %d/%d, credit %d", p.inReq, p.inTok, p.credit)
			}
		})
	}
}

func TestTPMRequestAboveBurst(t *testing.T) {
	// A request larger than the whole TPM goes on a full bucket, without
	// waiting, and leaves a debt the next request waits for.
	s := fakeopenai.New(t, fakeopenai.Options{})
	c, w := newClient(t, s, Config{TPM: 60})
	r := translateReq()
	r.Messages[1].Content = "<seg id=\"1\">" + strings.Repeat("很长的段落。", 100) + "</seg>" // over 300 tokens as the fake counts
	r.PromptTokens, r.ExpectedOutputTokens = 2500, 2500                                 // estimated far above what it costs
	if _, err := c.Complete(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := w.list(); len(got) != 0 {
		t.Fatalf("waited %v before a request above the burst", got)
	}
	if c.pace.credit != 0 {
		t.Errorf("credit %d for tokens that were never taken", c.pace.credit)
	}
	if _, err := c.Complete(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// The first took the whole bucket (60), and its real usage, far above,
	// left a debt of another 60 at most; the second takes 60 again: it
	// waits 120 tokens at 1 a second.
	if got := w.list(); len(got) != 1 || got[0] != 2*time.Minute {
		t.Errorf("waits %v, want [2m0s]", got)
	}
}

func TestAIMD(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{})
	c, w := newClient(t, s, Config{RPM: 600, TPM: 60000})
	p := &c.pace
	rates := func() (rate.Limit, rate.Limit) { return p.req.own.Limit(), p.tok.own.Limit() }
	admit := func() *ticket {
		t.Helper()
		tk, err := c.admit(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	a, b := admit(), admit()
	c.settle(a, nil, false, Usage{})
	c.throttle(a, time.Second)
	c.settle(b, nil, false, Usage{})
	c.throttle(b, time.Second) // sent before the decrease: no second halving
	if r, tk := rates(); r != 5 || tk != 500 || p.factor != 0.5 {
		t.Fatalf("after one round of 429s: rates %v/%v, factor %v; want 5/500, 0.5", r, tk, p.factor)
	}
	// All dispatches wait for the pause.
	before := len(w.list())
	d := admit()
	if got := w.list()[before:]; len(got) == 0 || got[0] != time.Second {
		t.Errorf("waits after the 429 %v, want 1s first", got)
	}
	c.settle(d, nil, false, Usage{})
	c.throttle(d, time.Second)
	for range 5 {
		e := admit()
		c.settle(e, nil, false, Usage{})
		c.throttle(e, 0)
	}
	if p.factor != aimdFloor {
		t.Errorf("factor %v, want the floor %v", p.factor, aimdFloor)
	}
	// Additive recovery: 1/32 per answer, up to 1.
	for i := 1; i <= 40; i++ {
		e := admit()
		c.settle(e, nil, true, Usage{})
		if want := min(1, aimdFloor+float64(i)*aimdStep); p.factor != want {
			t.Fatalf("after %d answers factor %v, want %v", i, p.factor, want)
		}
	}
	if r, tk := rates(); r != 10 || tk != 1000 {
		t.Errorf("recovered rates %v/%v, want 10/1000", r, tk)
	}
}

func TestLowRemaining(t *testing.T) {
	// The first answer's headers slow the second request (100+100 tokens)
	// down: through the bucket learnt from them, or, without a limit to
	// learn from, a pause.
	tests := []struct {
		name string
		rl   fakeopenai.RateLimit
		want time.Duration // the second request's wait, 0 = none
	}{
		{"plenty left", fakeopenai.RateLimit{LimitRequests: 100, RemainingRequests: 50, ResetRequests: "30s", LimitTokens: 100000, RemainingTokens: 90000, ResetTokens: "6s"}, 0},
		{"some requests left", fakeopenai.RateLimit{LimitRequests: 120, RemainingRequests: 1, ResetRequests: "59.5s", LimitTokens: 60000, RemainingTokens: 60000}, 0},
		{"no request left", fakeopenai.RateLimit{LimitRequests: 120, RemainingRequests: 0, ResetRequests: "1m0s", LimitTokens: 60000, RemainingTokens: 59000, ResetTokens: "1s"}, 500 * time.Millisecond},
		{"tokens short", fakeopenai.RateLimit{LimitRequests: 120, RemainingRequests: 60, ResetRequests: "30s", LimitTokens: 60000, RemainingTokens: 100, ResetTokens: "59.9s"}, 100 * time.Millisecond},
		{"both short: the longer", fakeopenai.RateLimit{LimitRequests: 120, RemainingRequests: 0, ResetRequests: "1m0s", LimitTokens: 60000, RemainingTokens: 0, ResetTokens: "1m0s"}, 500 * time.Millisecond},
		{"no limit said, none left: pause until reset", fakeopenai.RateLimit{RemainingRequests: 0, ResetRequests: "3s", RemainingTokens: 5}, 3 * time.Second},
		{"no limit said, some left", fakeopenai.RateLimit{RemainingRequests: 3, ResetRequests: "3s", RemainingTokens: 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.FailFirst(1, fakeopenai.Fault{RateLimit: &tt.rl})})
			c, w := newClient(t, s, Config{})
			r := translateReq()
			r.PromptTokens, r.ExpectedOutputTokens = 100, 100
			for range 2 {
				if _, err := c.Complete(context.Background(), r); err != nil {
					t.Fatal(err)
				}
			}
			got := w.list()
			if tt.want == 0 && len(got) != 0 || tt.want != 0 && (len(got) != 1 || (got[0]-tt.want).Abs() > time.Millisecond) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRemainingClampsBucket(t *testing.T) {
	rl := &fakeopenai.RateLimit{LimitRequests: 100, RemainingRequests: 20, LimitTokens: 9000, RemainingTokens: 8000}
	s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{RateLimit: rl})})
	c, w := newClient(t, s, Config{RPM: 60, TPM: 1000})
	r := translateReq()
	r.PromptTokens, r.ExpectedOutputTokens = 10, 10
	if _, err := c.Complete(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// The server says 20 requests remain: the client's 59 drop to 20. Its
	// own token bucket holds less than the server's remainder: unchanged.
	if got := c.pace.req.own.TokensAt(w.now()); got != 20 {
		t.Errorf("request bucket %v, want 20", got)
	}
	real := int(1000 - c.pace.tok.own.TokensAt(w.now()))
	if st := c.Stats(); real != int(st.PromptTokens+st.CompletionTokens) {
		t.Errorf("token bucket took %d, want the reported %d", real, st.PromptTokens+st.CompletionTokens)
	}
}

func TestServerLimitsPaceClient(t *testing.T) {
	// The fake's buckets and the client share a fake clock. The client
	// knows no limits of its own, or the fake's; either way, sequential
	// requests past the burst see no 429, and the fake's limit is met.
	for _, cfg := range []Config{{}, {RPM: 30}} {
		w := newWaits()
		s := fakeopenai.New(t, fakeopenai.Options{RPM: 30, Now: w.now})
		c, err := New(Config{BaseURL: s.URL(), Model: fakeopenai.DefaultModel, RPM: cfg.RPM, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		c.sleep, c.now = w.sleep, w.now
		start := w.now()
		for range 90 {
			if _, err := c.Complete(context.Background(), translateReq()); err != nil {
				t.Fatal(err)
			}
		}
		if s.RateLimited() != 0 || c.Stats().RateLimited != 0 {
			t.Errorf("RPM %d: %d 429s", cfg.RPM, s.RateLimited())
		}
		// 90 requests at 30 a minute, the first 30 at once: 2 minutes.
		if got := w.now().Sub(start); got < 2*time.Minute || got > 2*time.Minute+10*time.Second {
			t.Errorf("RPM %d: 90 requests took %v on the fake clock, want about 2m", cfg.RPM, got)
		}
	}
}

func TestServer429Surfaces(t *testing.T) {
	// A client that does not wait (its clock does not move the fake's) is
	// refused: the 429 comes back as an *APIError and is counted.
	s := fakeopenai.New(t, fakeopenai.Options{RPM: 2})
	c, _ := newClient(t, s, Config{Retries: -1})
	var err error
	for range 3 {
		if _, err = c.Complete(context.Background(), translateReq()); err != nil {
			break
		}
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != "rate_limit_exceeded" {
		t.Fatalf("err = %v, want a 429 APIError", err)
	}
	if st := c.Stats(); st.RateLimited != 1 || s.RateLimited() != 1 || st.Errors != 1 {
		t.Errorf("stats %+v, fake sent %d 429s", st, s.RateLimited())
	}
}

func Test429PausesAllWorkers(t *testing.T) {
	// Four requests are in flight; the first to arrive gets a 429 asking
	// for retryAfter once all four are there, the others are answered a
	// little later. No request sent after the 429 (the four that wait for
	// a slot, and the retry) may reach the server before the 429's wait
	// is over. Real clock, tiny durations: the check is an order, not a
	// duration.
	const retryAfter = 150 * time.Millisecond
	const workers, calls = 4, 8
	var arrived atomic.Int32
	all := make(chan struct{})
	var mu sync.Mutex
	var sent429 time.Time
	var c *OpenAI
	paused := func() bool {
		c.pace.mu.Lock()
		defer c.pace.mu.Unlock()
		return !c.pace.notBefore.IsZero()
	}
	s := fakeopenai.New(t, fakeopenai.Options{Fault: func(n int, _ *fakeopenai.Recorded) fakeopenai.Fault {
		if arrived.Add(1) == workers {
			close(all)
		}
		if n > workers {
			return fakeopenai.Fault{}
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		if n == 1 {
			mu.Lock()
			sent429 = time.Now()
			mu.Unlock()
			return fakeopenai.RateLimitedMs(int(retryAfter / time.Millisecond))
		}
		// The others free their slots once the client took the 429 in.
		for deadline := time.Now().Add(10 * time.Second); !paused() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return fakeopenai.Fault{}
	}})
	c, err := New(Config{BaseURL: s.URL(), Model: fakeopenai.DefaultModel, Concurrency: workers})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if _, err := c.Complete(context.Background(), translateReq()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	reqs := s.Requests()
	if len(reqs) != calls+1 {
		t.Fatalf("%d requests, want %d", len(reqs), calls+1)
	}
	for _, r := range reqs[workers:] {
		if r.Time.Before(sent429.Add(retryAfter)) {
			t.Errorf("request %d arrived %v after the 429, inside its %v wait", r.N, r.Time.Sub(sent429), retryAfter)
		}
	}
	if st := c.Stats(); st.RateLimited != 1 || st.Retries != 1 || st.Waited < retryAfter {
		t.Errorf("stats %+v", st)
	}
}

func TestLearntBucket(t *testing.T) {
	// Without RPM or TPM, the headers define the server's bucket: 60 of 120
	// requests left, full again in 30s: 2 a second, 60 now.
	rl := &fakeopenai.RateLimit{LimitRequests: 120, RemainingRequests: 60, ResetRequests: "30s", LimitTokens: 90000, RemainingTokens: 30000, ResetTokens: "1m0s"}
	s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.FailFirst(1, fakeopenai.Fault{RateLimit: rl})})
	c, w := newClient(t, s, Config{})
	if _, err := c.Complete(context.Background(), translateReq()); err != nil {
		t.Fatal(err)
	}
	p := &c.pace
	if p.req.learnt == nil || p.tok.learnt == nil {
		t.Fatal("no bucket learnt from the headers")
	}
	now := w.now()
	if r, b, lv := p.req.learnt.Limit(), p.req.learnt.Burst(), p.req.learnt.TokensAt(now); r != 2 || b != 120 || lv != 60 {
		t.Errorf("requests bucket: rate %v, burst %d, level %v; want 2, 120, 60", r, b, lv)
	}
	if r, lv := p.tok.learnt.Limit(), p.tok.learnt.TokensAt(now); r != 1000 || lv != 30000 {
		t.Errorf("tokens bucket: rate %v, level %v; want 1000, 30000", r, lv)
	}
	// Later requests are sized and take from the learnt buckets.
	r := translateReq()
	r.PromptTokens, r.ExpectedOutputTokens = 100, 100
	if _, err := c.Complete(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if lv := p.tok.learnt.TokensAt(w.now()); lv >= 30000 || lv < 30000-1000 {
		t.Errorf("tokens bucket after a sized request: %v", lv)
	}
	if got := w.list(); len(got) != 0 {
		t.Errorf("waits %v, want none", got)
	}
}
