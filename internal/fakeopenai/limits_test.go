package fakeopenai

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// clock is a fake clock for the rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// call makes one chat request, JSON or streamed, returning the error that
// go-openai surfaced (nil for an answer).
func call(c *openai.Client, req openai.ChatCompletionRequest, stream bool) error {
	ctx := context.Background()
	if !stream {
		_, err := c.CreateChatCompletion(ctx, req)
		return err
	}
	res, err := readStream(ctx, c, req)
	if err != nil {
		return err
	}
	return res.err
}

func TestRequestLimit(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(strconv.FormatBool(stream), func(t *testing.T) {
			clk := newClock()
			s := New(t, Options{RPM: 3, Now: clk.now})
			c, hr := newClient(s, "")
			req := chatReq("hi")
			req.Stream = stream
			// The bucket starts full: 3 go at once, each header one lower.
			for i, want := range []struct{ remaining, reset string }{{"2", "20s"}, {"1", "40s"}, {"0", "1m0s"}} {
				if err := call(c, req, stream); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				for k, v := range map[string]string{
					"x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": want.remaining,
					"x-ratelimit-reset-requests": want.reset, "x-ratelimit-limit-tokens": "",
				} {
					if got := hr.get(k); got != v {
						t.Errorf("request %d: %s = %q, want %q", i+1, k, got, v)
					}
				}
			}
			// The fourth is refused for 20s (one request at 3 per minute).
			err := call(c, req, stream)
			var ae *openai.APIError
			if !errors.As(err, &ae) || ae.HTTPStatusCode != http.StatusTooManyRequests || ae.Code != "rate_limit_exceeded" || ae.Type != "requests" {
				t.Fatalf("err = %#v, want a 429 rate_limit_exceeded", err)
			}
			wantMsg := "Rate limit reached for fake-model in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more."
			if ae.Message != wantMsg {
				t.Errorf("message = %q", ae.Message)
			}
			for k, v := range map[string]string{"Retry-After": "20", "retry-after-ms": "20000", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m0s"} {
				if got := hr.get(k); got != v {
					t.Errorf("429: %s = %q, want %q", k, got, v)
				}
			}
			// Half the wait is not enough; the whole wait is.
			clk.advance(10 * time.Second)
			if err := call(c, req, stream); !errors.As(err, &ae) || hr.get("retry-after-ms") != "10000" {
				t.Fatalf("after 10s: err = %v, retry-after-ms %q", err, hr.get("retry-after-ms"))
			}
			clk.advance(10 * time.Second)
			if err := call(c, req, stream); err != nil {
				t.Fatalf("after 20s: %v", err)
			}
			if s.RateLimited() != 2 {
				t.Errorf("RateLimited = %d, want 2", s.RateLimited())
			}
			var limited []int
			for _, r := range s.Requests() {
				if r.RateLimited {
					limited = append(limited, r.N)
				}
			}
			if len(limited) != 2 || limited[0] != 4 || limited[1] != 5 {
				t.Errorf("rate-limited requests %v, want [4 5]", limited)
			}
		})
	}
}

func TestTokenLimit(t *testing.T) {
	clk := newClock()
	s := New(t, Options{TPM: 600, Now: clk.now})
	c, hr := newClient(s, "")

	// Admission takes prompt + max_tokens; the answer settles the bucket
	// to the real usage, giving back the unused max_tokens.
	req := chatReq("你好，世界。")
	req.MaxTokens = 100
	resp, err := c.CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	used := resp.Usage.TotalTokens
	rl := resp.GetRateLimitHeaders() // go-openai reads the headers
	if rl.LimitTokens != 600 || rl.RemainingTokens != 600-used || rl.LimitRequests != 0 || used >= 100 {
		t.Errorf("headers %+v, want %d tokens left of 600", rl, 600-used)
	}
	// Without max_tokens, the same.
	req.MaxTokens = 0
	resp, err = c.CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	left := 600 - used - resp.Usage.TotalTokens
	if got := resp.GetRateLimitHeaders().RemainingTokens; got != left {
		t.Errorf("remaining %d, want %d", got, left)
	}

	// A request costing more than is left is refused until the bucket
	// refilled enough (10 tokens a second).
	big := chatReq("hi")
	big.MaxTokens = left + 50
	_, err = c.CreateChatCompletion(context.Background(), big)
	var ae *openai.APIError
	if !errors.As(err, &ae) || ae.HTTPStatusCode != 429 || ae.Type != "tokens" {
		t.Fatalf("err = %v, want a tokens 429", err)
	}
	need := big.MaxTokens + promptTokens(big) - left
	if got, want := hr.get("retry-after-ms"), strconv.Itoa(need*100); got != want {
		t.Errorf("retry-after-ms = %s, want %s", got, want)
	}

	// A request larger than the whole limit goes on a full bucket; its
	// real usage above the limit is a debt.
	huge := chatReq(strings.Repeat("长", 1400)) // 700 tokens
	clk.advance(time.Minute)
	resp, err = c.CreateChatCompletion(context.Background(), huge)
	if err != nil {
		t.Fatalf("huge request on a full bucket: %v", err)
	}
	debt := resp.Usage.TotalTokens - 600
	wantReset := time.Duration(600+debt) * 100 * time.Millisecond // 10 tokens a second
	if rl := resp.GetRateLimitHeaders(); rl.RemainingTokens != 0 || string(rl.ResetTokens) != formatReset(wantReset) {
		t.Errorf("after a huge request: %+v, want reset %v", rl, wantReset)
	}
	if s.RateLimited() != 1 {
		t.Errorf("RateLimited = %d, want 1", s.RateLimited())
	}
}

func TestLimitsAndFaults(t *testing.T) {
	// A fault's own RateLimit headers win over the limits'; a fault's 429
	// counts in RateLimited; no limits, no headers.
	f := Fault{RateLimit: &RateLimit{LimitRequests: 9, RemainingRequests: 8}}
	s := New(t, Options{RPM: 100, Fault: Sequence(f, RateLimited("1"))})
	c, hr := newClient(s, "")
	if _, err := c.CreateChatCompletion(context.Background(), chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	if hr.get("x-ratelimit-limit-requests") != "9" {
		t.Errorf("limit header %q, want the fault's 9", hr.get("x-ratelimit-limit-requests"))
	}
	if _, err := c.CreateChatCompletion(context.Background(), chatReq("hi")); err == nil {
		t.Fatal("want the fault's 429")
	}
	if s.RateLimited() != 1 || s.Requests()[1].RateLimited {
		t.Errorf("RateLimited = %d, recorded %+v", s.RateLimited(), s.Requests()[1])
	}

	s = New(t, Options{})
	c, hr = newClient(s, "")
	if _, err := c.CreateChatCompletion(context.Background(), chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	if hr.get("x-ratelimit-limit-requests") != "" || hr.get("x-ratelimit-remaining-tokens") != "" {
		t.Error("rate-limit headers without limits")
	}
}

func TestFormatReset(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Second: "0s", time.Nanosecond: "1ms", 20 * time.Millisecond: "20ms",
		1500 * time.Millisecond: "1.5s", 6 * time.Minute: "6m0s",
	} {
		if got := formatReset(d); got != want {
			t.Errorf("formatReset(%v) = %q, want %q", d, got, want)
		}
		if p, err := time.ParseDuration(formatReset(d)); err != nil || p < 0 {
			t.Errorf("%q does not parse back: %v", formatReset(d), err)
		}
	}
}
