package llm

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// runeTokens is the token count when Config.Tokens is nil: one token per
// rune. For the prose xlate sends it over-counts (o200k_base averages 1.4 to
// 3 runes per token on the corpus: Chinese near the low end, English and
// markup higher), which errs on the safe side of a limit until the answers'
// reported usage teaches the client the real ratio.
func runeTokens(text string) int { return utf8.RuneCountInString(text) }

// Pacing constants; see "Rate limits" in the package documentation.
const (
	// aimdFloor is the lowest share of the buckets' rates that 429s bring
	// them down to.
	aimdFloor = 1.0 / 8
	// aimdStep is the share of the rates one successful answer gives back
	// after a decrease.
	aimdStep = 1.0 / 32
	// lowShare: remaining budget under limit/lowShare counts as low.
	lowShare = 10
	// messageTokens is what OpenAI's chat format adds to each message,
	// replyTokens what it adds once to prime the answer.
	messageTokens = 4
	replyTokens   = 3
	// ratioMin and ratioMax bound the learnt ratio of reported to
	// estimated tokens.
	ratioMin, ratioMax = 0.25, 4.0
)

// pacer holds the pacing state shared by all requests of one client.
type pacer struct {
	mu        sync.Mutex
	req, tok  limits    // requests and tokens
	factor    float64   // AIMD share of every rate in use, in [aimdFloor, 1]
	epoch     int       // counts decreases; see throttle
	notBefore time.Time // no dispatch before this (429s, low remaining)
	credit    int       // tokens reserved beyond what answers reported, owed back
	estSum    int64     // estimates of the answered requests that reported usage...
	realSum   int64     // ...and the usage they reported
	inReq     int       // requests dispatched and not settled
	inTok     int       // their reserved tokens
	// sized is set once requests need a token estimate (a token bucket
	// exists); read without mu.
	sized atomic.Bool
}

// limits is one kind of limit (requests or tokens): the client's own
// bucket from Config.RPM or Config.TPM, and one learnt from the server's
// x-ratelimit-* headers. Either may be nil.
type limits struct {
	perMinute  int           // Config.RPM or Config.TPM
	own        *rate.Limiter // perMinute, refilled continuously
	learnt     *rate.Limiter // the server's bucket as its headers describe it
	learntRate float64       // its refill per second, before the AIMD factor
}

func (l *limits) buckets() []*rate.Limiter {
	var bs []*rate.Limiter
	for _, b := range []*rate.Limiter{l.own, l.learnt} {
		if b != nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// burst is the smallest burst of the buckets (0 for none).
func (l *limits) burst() int {
	n := 0
	for i, b := range l.buckets() {
		if i == 0 || b.Burst() < n {
			n = b.Burst()
		}
	}
	return n
}

// reserve takes n from every bucket (at most its burst) and returns the
// reservations and the longest delay.
func (l *limits) reserve(now time.Time, n int) ([]*rate.Reservation, time.Duration) {
	var rs []*rate.Reservation
	var delay time.Duration
	for _, b := range l.buckets() {
		r := b.ReserveN(now, min(n, b.Burst()))
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	return rs, delay
}

// init sets up the buckets for rpm and tpm (0 or less = none).
func (p *pacer) init(rpm, tpm int) {
	p.factor = 1
	for _, x := range []struct {
		l *limits
		n int
	}{{&p.req, rpm}, {&p.tok, tpm}} {
		if x.n > 0 {
			x.l.perMinute = x.n
			x.l.own = rate.NewLimiter(rate.Limit(float64(x.n)/60), x.n)
		}
	}
	p.sized.Store(p.tok.own != nil)
}

// ratio is the learnt ratio of reported to estimated tokens (1 until an
// answer reported usage).
func (p *pacer) ratio() float64 {
	if p.estSum <= 0 || p.realSum <= 0 {
		return 1
	}
	return min(ratioMax, max(ratioMin, float64(p.realSum)/float64(p.estSum)))
}

// setFactor changes the AIMD share and every bucket's rate with it.
func (p *pacer) setFactor(now time.Time, f float64) {
	f = min(1, max(aimdFloor, f))
	if f == p.factor {
		return
	}
	p.factor = f
	p.applyRates(now)
}

func (p *pacer) applyRates(now time.Time) {
	for _, l := range []*limits{&p.req, &p.tok} {
		if l.own != nil {
			l.own.SetLimitAt(now, rate.Limit(float64(l.perMinute)/60*p.factor))
		}
		if l.learnt != nil {
			l.learnt.SetLimitAt(now, rate.Limit(l.learntRate*p.factor))
		}
	}
}

// ticket is one admitted attempt.
type ticket struct {
	epoch  int                 // pacer.epoch at admission
	est    int                 // the request's token estimate, as sized
	tokens int                 // tokens taken for it: reserved plus credit used
	used   int                 // credit used
	rs     []*rate.Reservation // to cancel if the attempt is never sent
}

// estimate sizes req in tokens for the token buckets (0 while there is
// none): prompt plus expected answer. The prompt is Request.PromptTokens or,
// when that is 0, the messages counted with Config.Tokens plus OpenAI's
// per-message overhead. The answer is Request.ExpectedOutputTokens, else
// Request.MaxTokens, else as many tokens as the last user message (a
// translation answers about as long as its source).
func (c *OpenAI) estimate(req Request) int {
	if !c.pace.sized.Load() {
		return 0
	}
	prompt, out := req.PromptTokens, req.ExpectedOutputTokens
	if out <= 0 {
		out = req.MaxTokens
	}
	if prompt <= 0 || out <= 0 {
		n, last := replyTokens, 0
		for _, m := range req.Messages {
			k := c.tokens(m.Content)
			n += k + messageTokens
			if m.Role == RoleUser {
				last = k
			}
		}
		if prompt <= 0 {
			prompt = n
		}
		if out <= 0 {
			out = last
		}
	}
	return prompt + out
}

// admit waits until an attempt of est tokens may be sent: past the shared
// pause, then for a request and est tokens (scaled by the learnt ratio,
// less credit, at most a bucket's burst) from the buckets. Every wait
// ends with ctx. The caller must settle or abandon the ticket.
func (c *OpenAI) admit(ctx context.Context, est int) (*ticket, error) {
	if err := c.waitPause(ctx); err != nil {
		return nil, err
	}
	p := &c.pace
	p.mu.Lock()
	now := c.now()
	t := &ticket{epoch: p.epoch, est: est}
	rs, delay := p.req.reserve(now, 1)
	t.rs = rs
	if est > 0 && (p.tok.own != nil || p.tok.learnt != nil) {
		n := int(math.Ceil(float64(est) * p.ratio()))
		t.used = min(p.credit, n)
		p.credit -= t.used
		n = min(n-t.used, p.tok.burst()) // a request above the burst takes the burst
		if n > 0 {
			rs, d := p.tok.reserve(now, n)
			t.rs = append(t.rs, rs...)
			delay = max(delay, d)
		}
		t.tokens = n + t.used
	}
	p.inReq++
	p.inTok += t.tokens
	p.mu.Unlock()
	if delay > 0 {
		if err := c.wait(ctx, delay); err != nil {
			c.abandon(t)
			return nil, err
		}
	}
	// A 429 may have paused the client meanwhile.
	if err := c.waitPause(ctx); err != nil {
		c.abandon(t)
		return nil, err
	}
	return t, nil
}

// waitPause waits until the shared pause is over. A pause extended during
// the wait is waited for too.
func (c *OpenAI) waitPause(ctx context.Context) error {
	var waited time.Time
	for {
		c.pace.mu.Lock()
		nb := c.pace.notBefore
		c.pace.mu.Unlock()
		now := c.now()
		if !now.Before(nb) || nb.Equal(waited) {
			return ctx.Err()
		}
		waited = nb
		if err := c.wait(ctx, nb.Sub(now)); err != nil {
			return err
		}
	}
}

// wait sleeps d (or until ctx ends), counting the time in Stats.Waited.
func (c *OpenAI) wait(ctx context.Context, d time.Duration) error {
	start := c.now()
	err := c.sleep(ctx, d)
	c.waited.Add(int64(max(0, c.now().Sub(start))))
	return err
}

// abandon gives back what an attempt that was never sent took.
func (c *OpenAI) abandon(t *ticket) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	now := c.now()
	for _, r := range t.rs {
		r.CancelAt(now)
	}
	p.credit += t.used
	p.inReq--
	p.inTok -= t.tokens
}

// settle records the outcome of a sent attempt: the rate-limit headers of
// its response (h, nil for none) and, for an answer (ok), the usage the
// server reported.
func (c *OpenAI) settle(t *ticket, h http.Header, ok bool, u Usage) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	now := c.now()
	p.inReq--
	p.inTok -= t.tokens
	if ok {
		if real := u.PromptTokens + u.CompletionTokens; real > 0 && t.est > 0 {
			p.estSum += int64(t.est)
			p.realSum += int64(real)
			switch diff := real - t.tokens; {
			case diff > 0: // under-estimated: take the rest now, as a debt
				p.tok.reserve(now, diff)
			case diff < 0:
				p.credit -= diff
			}
		}
		p.setFactor(now, p.factor+aimdStep)
	}
	if h != nil {
		c.readLimits(h, now)
	}
}

// throttle handles a 429 answered to t's attempt: every dispatch of the
// client waits at least wait, and the first 429 among the attempts admitted
// since the last decrease halves the rates (at most once per such round, so
// a burst of 429s to requests sent together counts once).
func (c *OpenAI) throttle(t *ticket, wait time.Duration) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	now := c.now()
	if until := now.Add(wait); until.After(p.notBefore) {
		p.notBefore = until
	}
	if t.epoch == p.epoch {
		p.epoch++
		p.setFactor(now, p.factor/2)
	}
}

// readLimits applies x-ratelimit-limit-, -remaining- and -reset-requests
// and -tokens (see "Rate limits" in the package documentation). p.mu is
// held.
func (c *OpenAI) readLimits(h http.Header, now time.Time) {
	p := &c.pace
	for _, d := range []struct {
		name     string
		l        *limits
		inFlight int
	}{{"requests", &p.req, p.inReq}, {"tokens", &p.tok, p.inTok}} {
		rem, ok := headerInt(h, "x-ratelimit-remaining-"+d.name)
		if !ok || rem < 0 {
			continue
		}
		limit, _ := headerInt(h, "x-ratelimit-limit-"+d.name)
		reset, _ := headerDuration(h, "x-ratelimit-reset-"+d.name)
		if limit > rem && reset > 0 {
			// The server refills limit-rem in reset: learn its bucket.
			l := d.l
			l.learntRate = float64(limit-rem) / reset.Seconds()
			if l.learnt == nil {
				l.learnt = rate.NewLimiter(rate.Limit(l.learntRate*p.factor), limit)
				p.sized.Store(p.sized.Load() || d.name == "tokens")
			} else {
				l.learnt.SetBurstAt(now, limit)
				l.learnt.SetLimitAt(now, rate.Limit(l.learntRate*p.factor))
			}
		}
		// No bucket holds more than the server says remains.
		for _, b := range d.l.buckets() {
			if excess := int(b.TokensAt(now)) - rem; excess > 0 {
				b.ReserveN(now, min(excess, b.Burst()))
			}
		}
		// Running low, with no bucket to pace by (the server did not say
		// its limit): pause until the server has refilled to the mark.
		mark := max(limit/lowShare, d.inFlight, 1)
		if reset <= 0 || rem >= mark || len(d.l.buckets()) > 0 {
			continue
		}
		pause := reset
		if limit > rem {
			pause = min(reset, time.Duration(float64(reset)*float64(mark-rem)/float64(limit-rem)))
		}
		if until := now.Add(pause); until.After(p.notBefore) {
			p.notBefore = until
		}
	}
}

func headerInt(h http.Header, key string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(key)))
	return n, err == nil
}

// headerDuration reads "1s", "6m0s", "20ms" or plain seconds.
func headerDuration(h http.Header, key string) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return 0, false
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d, true
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}
