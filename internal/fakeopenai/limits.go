package fakeopenai

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// bucket is one continuously refilled limit.
type bucket struct {
	limit float64   // capacity and refill per minute
	level float64   // may be negative after an answer's charge
	last  time.Time // when level was last brought up to date
}

func newBucket(limit int) *bucket {
	if limit <= 0 {
		return nil
	}
	return &bucket{limit: float64(limit), level: float64(limit)}
}

// refill brings level up to date at now.
func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		b.level = min(b.limit, b.level+now.Sub(b.last).Minutes()*b.limit)
	}
	if now.After(b.last) {
		b.last = now
	}
}

// until returns how long until the level reaches n (n capped at the limit).
func (b *bucket) until(n float64) time.Duration {
	n = min(n, b.limit)
	if b.level >= n {
		return 0
	}
	return time.Duration(math.Ceil((n - b.level) / b.limit * float64(time.Minute)))
}

func (b *bucket) remaining() int { return max(0, int(math.Floor(b.level))) }

// setHeaders writes the x-ratelimit-* headers of one dimension.
func (b *bucket) setHeaders(h http.Header, dim string) {
	if b == nil {
		return
	}
	h.Set("x-ratelimit-limit-"+dim, strconv.Itoa(int(b.limit)))
	h.Set("x-ratelimit-remaining-"+dim, strconv.Itoa(b.remaining()))
	h.Set("x-ratelimit-reset-"+dim, formatReset(b.until(b.limit)))
}

// formatReset writes a duration the way OpenAI does: "1s", "6m0s", "20ms",
// "1.5s".
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return max(d.Round(time.Millisecond), time.Millisecond).String()
}

// limited reports whether rate limits are enabled.
func (s *Server) limited() bool { return s.reqBucket != nil || s.tokBucket != nil }

// admit applies the rate limits to a chat request. It returns false after
// writing a 429.
func (a *answer) admit() bool {
	s := a.s
	cost := float64(a.rec.MaxTokens)
	for _, m := range a.rec.Messages {
		cost += float64(Tokens(m.Content))
	}
	h := a.w.Header()
	s.mu.Lock()
	now := s.now()
	var wait time.Duration
	var typ, unit string
	var limit, used, requested float64
	if b := s.reqBucket; b != nil {
		b.refill(now)
		if d := b.until(1); d > 0 {
			wait, typ, unit, limit, used, requested = d, "requests", "requests per min (RPM)", b.limit, b.limit-b.level, 1
		}
	}
	if b := s.tokBucket; b != nil {
		b.refill(now)
		if d := b.until(cost); d > wait {
			wait, typ, unit, limit, used, requested = d, "tokens", "tokens per min (TPM)", b.limit, b.limit-b.level, cost
		}
	}
	if wait == 0 {
		if b := s.reqBucket; b != nil {
			b.level--
		}
		if b := s.tokBucket; b != nil {
			a.charged = min(cost, b.limit)
			b.level -= a.charged
		}
	} else if i := a.rec.N - 1; i < len(s.reqs) && s.reqs[i].N == a.rec.N {
		s.reqs[i].RateLimited = true
	}
	s.reqBucket.setHeaders(h, "requests")
	s.tokBucket.setHeaders(h, "tokens")
	s.mu.Unlock()
	if wait == 0 {
		return true
	}
	a.rec.RateLimited = true
	h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
	h.Set("retry-after-ms", strconv.FormatInt(int64(math.Ceil(float64(wait)/float64(time.Millisecond))), 10))
	msg := fmt.Sprintf("Rate limit reached for %s in organization org-fake on %s: Limit %d, Used %d, Requested %d. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.",
		a.rec.Model, unit, int(limit), int(math.Ceil(used)), int(requested), formatReset(wait))
	a.error(http.StatusTooManyRequests, msg, typ, "", "rate_limit_exceeded")
	return false
}

// chargeAnswer settles the token bucket to the real usage once the answer is
// known (the difference from what admission took is taken or given back),
// and refreshes the rate-limit headers unless the fault set its own.
func (a *answer) chargeAnswer(f Fault, text string) {
	s := a.s
	if !s.limited() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if b := s.tokBucket; b != nil {
		b.refill(now)
		real := float64(Tokens(text))
		for _, m := range a.rec.Messages {
			real += float64(Tokens(m.Content))
		}
		b.level -= real - a.charged
		a.charged = real
	}
	if f.RateLimit != nil {
		return
	}
	if b := s.reqBucket; b != nil {
		b.refill(now)
	}
	h := a.w.Header()
	s.reqBucket.setHeaders(h, "requests")
	s.tokBucket.setHeaders(h, "tokens")
}

// RateLimited returns the number of 429 answers sent, by the rate limits or
// by faults.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent429
}
