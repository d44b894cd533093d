// Package llm is xlate's one client for chat-completion models: a narrow
// seam over github.com/sashabaranov/go-openai that works with any
// OpenAI-compatible endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio,
// ...) and with Azure OpenAI (Config.Azure). No go-openai type crosses this
// package's API.
//
// # Contract
//
// [OpenAI.Complete] sends one chat request and returns the answer's text,
// finish reason and token usage:
//
//   - Reasoning blocks (<think>…</think>) are stripped from Content.
//   - FinishReason "length" is returned as is, with no error: the caller
//     decides to split the work and ask again.
//   - Transient failures are retried with exponential backoff and full
//     jitter: HTTP 408, 429 (except insufficient_quota), 5xx (except 501),
//     attempt timeouts, connection resets, malformed or cut answers and, in
//     streaming mode, stalls. Retry-After (seconds or HTTP date) and
//     retry-after-ms are honoured.
//   - Other HTTP errors (400, 401, 403, 404, ...) are not retried and come
//     back as *[APIError] with a short, actionable message.
//   - The API key never appears in an error or a log line.
//   - Cancelling ctx stops everything, waits included; the error then
//     satisfies errors.Is(err, context.Canceled) (or DeadlineExceeded).
//
// One *OpenAI bounds the requests in flight (Config.Concurrency) and paces
// them (below), so share one client per process between translation and
// summary work.
//
// # Rate limits
//
// Every attempt passes a gate shared by the client's requests, after it
// got one of the Concurrency slots:
//
//   - Token buckets (golang.org/x/time/rate) for requests and tokens. The
//     client's own, from Config.RPM and Config.TPM, hold one minute's worth
//     and refill continuously, as OpenAI's limits do. Others are learnt
//     from the server's headers (below), so a client without RPM and TPM
//     still paces itself to the provider's limits. An attempt takes 1
//     request and the request's estimated tokens (see [Request]) times the
//     ratio of reported to estimated tokens learnt from earlier answers (so
//     a server that counts differently is still paced right), at most a
//     whole bucket (a request larger than TPM still goes, on a full
//     bucket). The usage reported in the answer corrects the estimate: the
//     excess is taken from the buckets at once (a debt), a shortfall is
//     credited to the next requests. A failed attempt keeps what it took.
//   - Server headers, read from every response: x-ratelimit-limit-*,
//     -remaining-* and -reset-* (requests and tokens; reset is the time
//     until the server's bucket is full again) define a learnt bucket of
//     size limit refilled at (limit-remaining)/reset, which is correct
//     whatever period the provider counts in. No bucket holds more than
//     the server says remains, so a low remainder slows new attempts to the
//     server's refill rate. When there is no bucket for a kind (the server
//     sent remaining and reset but no limit, and the client has none of its
//     own) and the remainder is under a tenth of the limit, under what this
//     client has in flight, or zero, new attempts wait until the server has
//     refilled to that mark (the refill taken as linear), or until reset.
//   - 429: no attempt of the client starts before the server's wait
//     (retry-after-ms, Retry-After or x-ratelimit-reset-*, else the
//     backoff) is over, so in-flight workers do not hammer the server; and
//     every rate drops to half (AIMD; at most once per round of requests
//     sent before the previous decrease, never under 1/8), then climbs back
//     by 1/32 per successful answer.
//
// Waits end with ctx. Stats.RateLimited and Stats.Waited report the effect.
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// Defaults for the zero fields of Config.
const (
	DefaultConcurrency  = 8
	DefaultRetries      = 4
	DefaultTimeout      = 120 * time.Second
	DefaultStallTimeout = 60 * time.Second
)

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one chat message.
type Message struct {
	Role    string // RoleSystem, RoleUser or RoleAssistant
	Content string
}

// Request is one chat completion request.
type Request struct {
	Messages []Message
	// MaxTokens caps the answer (0 = the server's default). For OpenAI
	// reasoning models (o1, o3, o4, gpt-5, ...) it is sent as
	// max_completion_tokens.
	MaxTokens int
	// Temperature of sampling; 0 means the server's default (go-openai
	// omits a zero temperature).
	Temperature float32
	// Purpose ("translate", "summary") labels the request in logs.
	Purpose string
	// PromptTokens and ExpectedOutputTokens size the request for
	// Config.TPM; either may be 0. A zero PromptTokens is counted from
	// Messages (with Config.Tokens, plus OpenAI's per-message overhead); a zero
	// ExpectedOutputTokens is MaxTokens, or without it as many tokens as the
	// last user message (a translation's length). Once the server reports
	// the real usage, the difference is charged or given back.
	PromptTokens, ExpectedOutputTokens int
	// Partial says the caller can use part of an answer: a stream cut after
	// some content (stalled, reset, ended without a finish reason) is then
	// not retried but returned at once as a *PartialError holding what
	// came, so that the caller keeps it and asks only for the rest.
	Partial bool
}

// PartialError is a streamed answer cut before its end, with the content
// received until then (reasoning blocks stripped); see Request.Partial.
type PartialError struct {
	Content string
	Err     error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%v after %d bytes of the answer", e.Err, len(e.Content))
}

func (e *PartialError) Unwrap() error { return e.Err }

// Usage is the token usage the server reported for one answer (zero if it
// reported none).
type Usage struct {
	PromptTokens, CompletionTokens int
}

// Response is a model's answer.
type Response struct {
	Content      string // the answer, reasoning blocks stripped, trimmed
	FinishReason string // "stop", "length", ...
	Usage        Usage
}

// Client completes chat requests. *OpenAI implements it; tests of other
// packages may fake it.
type Client interface {
	Complete(ctx context.Context, req Request) (Response, error)
}

// Config configures New.
type Config struct {
	BaseURL string // default DefaultBaseURL
	APIKey  string // required unless IsLocal(BaseURL)
	Model   string // required
	Stream  bool   // stream answers (SSE) rather than wait for whole JSON answers
	// Concurrency is the most requests in flight at once through this
	// client (default DefaultConcurrency).
	Concurrency int
	// Retries is how many times a failed request is retried (default
	// DefaultRetries; negative = none).
	Retries int
	// Timeout bounds one attempt (default DefaultTimeout). A streamed
	// answer must start within it; once chunks flow, only StallTimeout
	// applies, so that a slow but steady stream (a model on a CPU) is never
	// cut for its length.
	Timeout time.Duration
	// StallTimeout, when streaming, is the longest wait for the next chunk,
	// counted from the start of the request (default DefaultStallTimeout).
	StallTimeout time.Duration
	// Backoff is the base of the exponential backoff between retries
	// (default 1s): attempt n waits a random time in [0, Backoff·2ⁿ], at most
	// 30s, unless the server says how long to wait.
	Backoff time.Duration
	// HTTPClient is copied (not modified) and used for requests (default: a
	// client of its own).
	HTTPClient *http.Client
	// Logger receives retry warnings and debug lines (nil = discard).
	Logger *slog.Logger
	// RPM and TPM limit the requests and the tokens (prompt plus answer) sent
	// per minute through this client; 0 = no limit of the client's own (the
	// server's x-ratelimit-* headers and 429s still pace it). See "Rate
	// limits" in the package documentation.
	RPM, TPM int
	// Tokens counts the tokens of a text, to size requests for the token
	// buckets (TPM, or a server's x-ratelimit-*-tokens) when a Request
	// leaves PromptTokens or ExpectedOutputTokens 0; it must be safe for
	// concurrent use. xlate passes o200k_base's count (chunk.Default). nil
	// means one token per rune, an over-count for prose (o200k_base
	// averages 1.4 to 3 runes per token) that the usage of the first
	// answers corrects (see "Rate limits" above).
	Tokens func(text string) int
	// Azure selects Azure OpenAI: BaseURL is the resource endpoint
	// (https://NAME.openai.azure.com), Model the deployment name, requests go
	// to BaseURL/openai/deployments/MODEL/chat/completions?api-version=
	// APIVersion with the key in an "api-key" header, and a key is required
	// even for a local BaseURL.
	Azure bool
	// APIVersion is Azure's api-version (default DefaultAzureAPIVersion).
	APIVersion string
}

// DefaultAzureAPIVersion is the Azure OpenAI api-version used when
// Config.APIVersion is empty.
const DefaultAzureAPIVersion = "2024-10-21"

// ErrMissingAPIKey is returned by New for a remote endpoint without a key.
var ErrMissingAPIKey = errors.New("an API key is required for a non-local endpoint")

// ErrStalled reports a stream that sent nothing for Config.StallTimeout.
var ErrStalled = errors.New("stream stalled")

// testOnlyBaseBackoff, when set, replaces the base backoff so retry tests
// run fast. New reads it.
var testOnlyBaseBackoff time.Duration

const (
	baseBackoff = time.Second
	maxBackoff  = 30 * time.Second
	// maxRetryAfter is the longest server-requested wait honoured; a longer
	// one (a daily quota, say) fails the request instead.
	maxRetryAfter = 5 * time.Minute
)

// Stats counts a client's work. Requests counts HTTP attempts, Retries the
// attempts that were retries, Errors the Complete calls that failed (other
// than by cancellation); tokens are as reported by the server. RateLimited
// counts the 429 answers; Waited is the time requests spent waiting on the
// rate limits, pauses and retry backoff, summed over requests (two requests
// waiting one second each add two seconds).
type Stats struct {
	Requests, Retries, PromptTokens, CompletionTokens, Errors int64
	RateLimited                                               int64
	Waited                                                    time.Duration
	// Streamed counts the chunks of content streamed so far, about a
	// token each, answers still coming included: a live count of the
	// output, which CompletionTokens gets only once an answer ends.
	Streamed int64
}

// OpenAI is a Client for an OpenAI-compatible endpoint. It is safe for
// concurrent use.
type OpenAI struct {
	client  *openai.Client
	baseURL string
	model   string
	key     string
	stream  bool
	retries int
	timeout time.Duration
	stall   time.Duration
	sem     chan struct{}
	log     *slog.Logger
	backoff time.Duration
	sleep   func(ctx context.Context, d time.Duration) error // replaced by tests to record waits
	now     func() time.Time                                 // replaced by tests with a fake clock
	pace    pacer
	tokens  func(string) int // Config.Tokens, or runeTokens by default

	requests, retried, prompt, completion, errs, limited, waited, streamed atomic.Int64
}

var _ Client = (*OpenAI)(nil)

// New returns a client for cfg. It makes no request.
func New(cfg Config) (*OpenAI, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm: invalid base URL %q: want http(s)://host[:port]/path", cfg.BaseURL)
	}
	if cfg.Model == "" {
		return nil, errors.New("llm: no model given")
	}
	if cfg.APIKey == "" && (cfg.Azure || !IsLocal(cfg.BaseURL)) {
		return nil, fmt.Errorf("llm: %s: %w", cfg.BaseURL, ErrMissingAPIKey)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Concurrency
		base = t
	}
	hc.Transport = &capturingTransport{base: base}

	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.Azure {
		oc = openai.DefaultAzureConfig(cfg.APIKey, "")
		oc.APIVersion = cfg.APIVersion
		if oc.APIVersion == "" {
			oc.APIVersion = DefaultAzureAPIVersion
		}
		// The model is the deployment name, used as given.
		oc.AzureModelMapperFunc = func(model string) string { return model }
	}
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = &hc

	c := &OpenAI{
		client:  openai.NewClientWithConfig(oc),
		baseURL: oc.BaseURL,
		model:   cfg.Model,
		key:     cfg.APIKey,
		stream:  cfg.Stream,
		retries: cfg.Retries,
		timeout: cfg.Timeout,
		stall:   cfg.StallTimeout,
		sem:     make(chan struct{}, cfg.Concurrency),
		log:     logger,
		backoff: baseBackoff,
		sleep:   sleep,
		now:     time.Now,
		tokens:  cfg.Tokens,
	}
	if c.tokens == nil {
		c.tokens = runeTokens
	}
	c.pace.init(cfg.RPM, cfg.TPM)
	if cfg.Backoff > 0 {
		c.backoff = cfg.Backoff
	}
	if testOnlyBaseBackoff > 0 {
		c.backoff = testOnlyBaseBackoff
	}
	return c, nil
}

// Stats returns the counters so far.
func (c *OpenAI) Stats() Stats {
	return Stats{
		Requests:         c.requests.Load(),
		Retries:          c.retried.Load(),
		PromptTokens:     c.prompt.Load(),
		CompletionTokens: c.completion.Load(),
		Errors:           c.errs.Load(),
		RateLimited:      c.limited.Load(),
		Waited:           time.Duration(c.waited.Load()),
		Streamed:         c.streamed.Load(),
	}
}

// IsLocal reports whether baseURL points at this machine or a private
// network: localhost and *.localhost, loopback, private (RFC 1918, fc00::/7),
// link-local, unspecified and CGNAT (100.64/10, e.g. Tailscale) addresses,
// single-label host names (such as "ollama" in a compose network) and the
// .local, .lan, .internal and .home.arpa domains. Such servers often run
// without an API key.
func IsLocal(baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || cgnat.Contains(ip)
	}
	if host == "localhost" || !strings.Contains(host, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".lan", ".internal", ".home.arpa"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
