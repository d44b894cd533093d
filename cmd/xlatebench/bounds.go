package main

import (
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// provider is the simulated provider's pacing, as the fake runs it (real
// time, after scaling).
type provider struct {
	TTFT time.Duration // time to first token
	TPS  float64       // streamed output tokens per second, per request
}

// isChat reports whether r is a chat completion request.
func isChat(r *fakeopenai.Recorded) bool {
	switch r.Kind {
	case fakeopenai.KindTranslate, fakeopenai.KindSummary, fakeopenai.KindOther:
		return true
	}
	return false
}

// served reports whether r is a chat request the fake answered (not a 429
// of its rate limits).
func served(r *fakeopenai.Recorded) bool { return isChat(r) && !r.RateLimited }

// answerText is the answer the fake gave to r when no fault was injected
// (the benchmark injects none): the fake model is deterministic, so the
// answer is recomputed from the request with its exported functions. A
// request of KindOther is answered with a short reply the package does not
// export; it is taken as empty (xlate sends none).
func answerText(r *fakeopenai.Recorded) string {
	switch r.Kind {
	case fakeopenai.KindTranslate:
		return fakeopenai.TranslateSegments(r.User()) + fakeopenai.Brief(r.System(), r.User())
	case fakeopenai.KindSummary:
		return fakeopenai.Summarize(r.User())
	}
	return ""
}

// completionTokens is the fake's count of the answer to r (the
// completion_tokens of its usage).
func completionTokens(r *fakeopenai.Recorded) int { return fakeopenai.Tokens(answerText(r)) }

// serviceTime is the time the fake needs to answer r: TTFT, then the
// answer's tokens at TPS. (The fake sends the last delta at
// TTFT + (tokens-2)/TPS; the difference is negligible.)
func (p provider) serviceTime(completion int) time.Duration {
	d := p.TTFT
	if p.TPS > 0 {
		d += time.Duration(float64(completion) / p.TPS * float64(time.Second))
	}
	return d
}

var titleLineRE = regexp.MustCompile(`(?m)^Title: (.*\S)`)

// articleOf names the article a request belongs to, by its "Title: "
// line: a summary request carries the English title (xlate's translation of
// the title, which is the fake's Translate of it), a translation request the
// Chinese one, so the latter is passed through Translate to match. White
// space is collapsed. "" when the request has no title line (xlate sends
// none for an article without a title).
func articleOf(r *fakeopenai.Recorded) string {
	m := titleLineRE.FindStringSubmatch(r.User())
	if m == nil {
		return ""
	}
	t := m[1]
	if r.Kind == fakeopenai.KindTranslate {
		t = fakeopenai.Translate(t)
	}
	return strings.Join(strings.Fields(t), " ")
}

// idealBound is the least wall time a perfect scheduler could achieve for a
// set of requests.
type idealBound struct {
	Requests     int           // chat requests served
	Completion   int           // completion tokens of those (fake count)
	TotalService time.Duration // sum of service times
	Concurrency  int
	// PerSlot is TotalService / Concurrency: the bound when every slot is
	// busy all the time.
	PerSlot time.Duration
	// LongestChain is the longest chain of requests that must run one
	// after another: an article's slowest translation request, then its
	// summary requests (see computeIdeal).
	LongestChain time.Duration
	ChainArticle string
	Bound        time.Duration // max(PerSlot, LongestChain)
}

// computeIdeal computes the ideal bound of the served chat requests of recs
// at concurrency conc.
//
// Requests are grouped into articles by their title (see articleOf). An article's
// chain is its slowest translation request (its translation requests can
// all run at once) plus its slowest "<article>" or "<notes>" summary
// request plus its slowest "<summaries>" (combine) request, since a summary
// needs the translations or notes first and a combine the partial
// summaries. A request without a title line is a chain of its own. Two
// articles with the same title are taken as one (replicas have distinct
// titles); the chain may then be over-estimated.
func computeIdeal(recs []fakeopenai.Recorded, p provider, conc int) idealBound {
	type chain struct{ tr, sum, combine time.Duration }
	chains := map[string]*chain{}
	b := idealBound{Concurrency: max(conc, 1)}
	for i := range recs {
		r := &recs[i]
		if !served(r) {
			continue
		}
		c := completionTokens(r)
		d := p.serviceTime(c)
		b.Requests++
		b.Completion += c
		b.TotalService += d
		key := articleOf(r)
		if key == "" {
			if d > b.LongestChain {
				b.LongestChain, b.ChainArticle = d, "(untitled request)"
			}
			continue
		}
		ch := chains[key]
		if ch == nil {
			ch = &chain{}
			chains[key] = ch
		}
		switch {
		case r.Kind != fakeopenai.KindSummary:
			ch.tr = max(ch.tr, d)
		case strings.Contains(r.User(), "<summaries"):
			ch.combine = max(ch.combine, d)
		default:
			ch.sum = max(ch.sum, d)
		}
	}
	for key, ch := range chains {
		if d := ch.tr + ch.sum + ch.combine; d > b.LongestChain || (d == b.LongestChain && key < b.ChainArticle) {
			b.LongestChain, b.ChainArticle = d, key
		}
	}
	b.PerSlot = b.TotalService / time.Duration(b.Concurrency)
	b.Bound = max(b.PerSlot, b.LongestChain)
	return b
}

// serverCost is what the fake's token bucket charges for r: the Tokens of
// every message plus max_tokens, or plus the answer's Tokens when the
// request set no max_tokens.
func serverCost(r *fakeopenai.Recorded) int {
	n := 0
	for _, m := range r.Messages {
		n += fakeopenai.Tokens(m.Content)
	}
	if r.MaxTokens > 0 {
		return n + r.MaxTokens
	}
	return n + completionTokens(r)
}

// rateBound is the least time in which buckets of rpm requests and tpm
// tokens per minute, starting full and refilling continuously, admit
// requests requests costing tokens tokens: max((requests-rpm)/rpm,
// (tokens-tpm)/tpm) minutes, and 0 when everything fits in the first
// bucketful. A limit ≤ 0 is no limit. The answers of the last admitted
// requests still take their service time after it; that tail is not
// included.
func rateBound(requests, tokens, rpm, tpm int) time.Duration {
	var minutes float64
	if rpm > 0 {
		minutes = math.Max(minutes, float64(requests-rpm)/float64(rpm))
	}
	if tpm > 0 {
		minutes = math.Max(minutes, float64(tokens-tpm)/float64(tpm))
	}
	return time.Duration(minutes * float64(time.Minute))
}

// limitsFor picks per-minute limits for a rate-limited run of requests
// requests costing tokens tokens, such that the token limit alone needs
// about target to admit everything and the request limit about half of
// that: tpm = tokens/(1+T), rpm = requests/(1+T/2), T = target in minutes.
func limitsFor(requests, tokens int, target time.Duration) (rpm, tpm int) {
	t := target.Minutes()
	if t <= 0 || requests <= 0 || tokens <= 0 {
		return 0, 0
	}
	tpm = int(math.Ceil(float64(tokens) / (1 + t)))
	rpm = int(math.Ceil(float64(requests) / (1 + t/2)))
	return max(rpm, 1), max(tpm, 1)
}
