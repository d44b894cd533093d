package fakeopenai

import (
	"net/http"
	"strconv"
	"time"
)

// FirstSegment, used as a segment id in a [Fault], stands for the first
// segment of the request (for MergeSegments: the first two).
const FirstSegment = "*"

// DamageableSegment, used as the segment id of a quiet-damage fault
// (FirstSentence, OneWord, NestedTag, MergeLines, LeaveChinese), stands for
// the first segment of the request that the damage changes beyond a doubt;
// each fault says which that is. With no such segment the fault does
// nothing.
const DamageableSegment = "?"

// MinDamageHan is the least number of Han characters a segment has for
// FirstSentence and OneWord with DamageableSegment to cut it, and a request
// for Obey to apply: below it, one word or one sentence can be a whole,
// right translation.
const MinDamageHan = 12

// Fault changes how the server answers one request. The zero Fault is a
// normal answer. Fields combine where that makes sense: headers and delays
// apply to any answer, Status replaces the answer, Reset and Stall cut it,
// the segment faults rewrite a translation answer before Think, Preamble and
// Truncate are applied.
type Fault struct {
	// Status, when non-zero, answers with this HTTP status and an
	// OpenAI-style error body ({"error":{"message","type","param","code"}})
	// chosen for the status; ErrorMessage, ErrorType and ErrorCode override
	// its fields, ErrorBody replaces the whole body (e.g. an HTML page from a
	// proxy; with Status 200, any raw answer such as {"choices":[]}).
	Status       int
	ErrorMessage string
	ErrorType    string
	ErrorCode    string
	ErrorBody    string

	// RetryAfter is sent as the Retry-After header: seconds ("2") or an HTTP
	// date. RetryAfterMs is sent as the retry-after-ms header.
	RetryAfter   string
	RetryAfterMs string
	// RateLimit, when set, is sent as x-ratelimit-* headers.
	RateLimit *RateLimit

	// Delay waits before answering (after Options.Latency).
	Delay time.Duration
	// TTFT and TokensPerSecond override Options.TTFT and
	// Options.TokensPerSecond for this streaming answer.
	TTFT            time.Duration
	TokensPerSecond float64

	// Segment faults, for translation requests. Each names a segment id
	// (or FirstSegment); an id the request does not hold has no effect.
	DropSegment      string // omit this segment
	DuplicateSegment string // answer this segment twice
	EmptySegment     string // answer <seg id="ID"></seg>
	LeaveChinese     string // answer the source text untranslated
	MergeSegments    string // this segment absorbs the next one, whose id disappears
	ExtraSegment     string // add a segment with this (unknown) id at the end

	// Quiet damage: the answer keeps every tag right and one segment's text
	// is wrong, as real models fail. LeaveChinese (above) is the echo; with
	// DamageableSegment it picks the segment with the smallest share of
	// Han among its letters and digits (a mixed-script echo such as
	// "打开网站www.example.com"), counting Han outside code spans only.
	//
	// FirstSentence answers the segment's first sentence only (up to the
	// first . ! or ? followed by a space). DamageableSegment: the first
	// segment of MinDamageHan or more Han characters whose first sentence
	// is at most half of its translation.
	FirstSentence string
	// OneWord answers the first word of the segment's translation.
	// DamageableSegment: the first segment of MinDamageHan or more Han
	// characters translated in three or more words.
	OneWord string
	// NestedTag opens the segment's tag twice:
	// <seg id="N">T\n<seg id="N">T</seg>. DamageableSegment: the first one.
	NestedTag string
	// MergeLines joins the lines of the segment's translation with spaces:
	// a hard break (a backslash at the end of a line) becomes a literal
	// backslash in mid-line. DamageableSegment: the first segment of two or
	// more lines.
	MergeLines string
	// Obey answers every segment with this text ("HELLO"), as a model
	// that obeyed an instruction hidden in the article. It applies to
	// requests with a segment of MinDamageHan or more Han characters (where
	// such an instruction could hide); others are answered normally.
	Obey string

	// Reply, when non-empty, replaces the fake model's answer.
	Reply string
	// Think prefixes the answer with "<think>Think</think>\n\n".
	Think string
	// Preamble prefixes the answer with "Preamble\n\n", e.g.
	// "Here is the translation:".
	Preamble string
	// Truncate keeps the first half of the answer and finishes with
	// finish_reason "length".
	Truncate bool

	// Stall stops answering: a streaming answer sends its first half, then
	// hangs; a JSON answer hangs before the headers. Either waits until the
	// client goes away (or the server closes).
	Stall bool
	// Reset closes the connection abruptly (TCP RST): a JSON answer before
	// any byte of the response, a streaming answer after its first half.
	Reset bool
	// BadJSON sends a malformed body: a cut JSON object, or in a stream a
	// malformed data line after the first half.
	BadJSON bool
}

// RateLimit is the set of x-ratelimit-* headers OpenAI sends.
type RateLimit struct {
	LimitRequests, LimitTokens         int
	RemainingRequests, RemainingTokens int
	ResetRequests, ResetTokens         string // durations such as "1s", "6m0s"
}

func (rl *RateLimit) set(h http.Header) {
	if rl == nil {
		return
	}
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(rl.LimitRequests))
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(rl.LimitTokens))
	h.Set("x-ratelimit-remaining-requests", strconv.Itoa(rl.RemainingRequests))
	h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(rl.RemainingTokens))
	if rl.ResetRequests != "" {
		h.Set("x-ratelimit-reset-requests", rl.ResetRequests)
	}
	if rl.ResetTokens != "" {
		h.Set("x-ratelimit-reset-tokens", rl.ResetTokens)
	}
}

// FaultFunc decides the fault for the n-th request (1-based). It is called
// from concurrent handlers and must be safe for concurrent use.
type FaultFunc = func(n int, req *Recorded) Fault

// RateLimited is a 429 rate_limit_exceeded answer with a Retry-After header
// (seconds or HTTP date; empty for none).
func RateLimited(retryAfter string) Fault {
	return Fault{
		Status:     http.StatusTooManyRequests,
		RetryAfter: retryAfter,
		RateLimit: &RateLimit{
			LimitRequests: 500, LimitTokens: 30000,
			ResetRequests: "1s", ResetTokens: "1s",
		},
	}
}

// RateLimitedMs is a 429 rate_limit_exceeded answer with a retry-after-ms
// header.
func RateLimitedMs(ms int) Fault {
	f := RateLimited("")
	f.RetryAfterMs = strconv.Itoa(ms)
	return f
}

// QuotaExceeded is OpenAI's 429 insufficient_quota answer (billing, not a
// transient limit).
func QuotaExceeded() Fault {
	return Fault{Status: http.StatusTooManyRequests, ErrorType: "insufficient_quota", ErrorCode: "insufficient_quota",
		ErrorMessage: "You exceeded your current quota, please check your plan and billing details."}
}

// ServerError is an error answer with the given 5xx status.
func ServerError(status int) Fault { return Fault{Status: status} }

// Always returns f for every request.
func Always(f Fault) FaultFunc {
	return func(int, *Recorded) Fault { return f }
}

// FailFirst returns f for the first k requests and a normal answer after.
func FailFirst(k int, f Fault) FaultFunc {
	return func(n int, _ *Recorded) Fault {
		if n <= k {
			return f
		}
		return Fault{}
	}
}

// Sequence returns faults[n-1] for the n-th request and a normal answer
// after the list ends.
func Sequence(faults ...Fault) FaultFunc {
	return func(n int, _ *Recorded) Fault {
		if n >= 1 && n <= len(faults) {
			return faults[n-1]
		}
		return Fault{}
	}
}

// ForKind applies fn only to requests of the given kind (KindTranslate,
// KindSummary, ...); n is still the server-wide request number.
func ForKind(kind string, fn FaultFunc) FaultFunc {
	return func(n int, req *Recorded) Fault {
		if req.Kind != kind {
			return Fault{}
		}
		return fn(n, req)
	}
}

// errorBody returns the OpenAI error fields for a status.
func errorFields(status int) (msg, typ, code string) {
	switch status {
	case http.StatusBadRequest:
		return "Invalid request.", "invalid_request_error", ""
	case http.StatusUnauthorized:
		return "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
			"invalid_request_error", "invalid_api_key"
	case http.StatusForbidden:
		return "Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"
	case http.StatusNotFound:
		return "The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"
	case http.StatusTooManyRequests:
		return "Rate limit reached for requests. Please try again in 1s.", "requests", "rate_limit_exceeded"
	case http.StatusServiceUnavailable:
		return "The engine is currently overloaded, please try again later.", "server_error", ""
	default:
		if status >= 500 {
			return "The server had an error while processing your request. Sorry about that!", "server_error", ""
		}
		return http.StatusText(status), "invalid_request_error", ""
	}
}

// QuietDamages are the quiet-damage faults by name: each answer keeps its
// tags and gets one segment wrong (DamageableSegment), or, for "obey",
// every segment, as a model that obeyed an instruction in the article.
var QuietDamages = map[string]Fault{
	"first-sentence": {FirstSentence: DamageableSegment},
	"one-word":       {OneWord: DamageableSegment},
	"echo":           {LeaveChinese: DamageableSegment},
	"nested-tag":     {NestedTag: DamageableSegment},
	"obey":           {Obey: "HELLO"},
	"merge-lines":    {MergeLines: DamageableSegment},
}
