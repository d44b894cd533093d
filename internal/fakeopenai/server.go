// Package fakeopenai is an in-process fake of an OpenAI-compatible chat
// completions server, for tests and benchmarks. It speaks the real wire
// protocol as github.com/sashabaranov/go-openai v1.43.0 sends and reads it:
//
//   - POST /v1/chat/completions answers JSON, or server-sent events when the
//     request has "stream": true: a role delta, the content in deltas of
//     up to 4 runes, a finish_reason chunk, a usage chunk when
//     stream_options.include_usage is true, then "data: [DONE]".
//   - GET /v1/models lists the configured models.
//   - The Files and Batch APIs (/v1/files, /v1/batches): see "Files and
//     batches" below.
//   - With Options.APIKey set, a request without "Authorization: Bearer KEY"
//     gets 401 with OpenAI's error body (code "invalid_api_key"); with
//     Options.Models set, an unknown model gets 404 ("model_not_found").
//
// # The fake model
//
// Answers are deterministic and understand xlate's prompt protocol, judged
// on the last user message of the request:
//
//   - <seg id="ID">TEXT</seg> segments (a translation request): every
//     segment answered as <seg id="ID">Translate(TEXT)</seg>, in order, one
//     per line, nothing else. See [Translate] and [TranslateSegments].
//   - <article>…</article> or <summaries>…</summaries> (a summary request):
//     a "TL;DR:" line and three "- " points. See [Summarize].
//   - anything else: a short English reply.
//
// # Usage accounting
//
// Token counts are an approximation, not a tokenizer: [Tokens] is
// ceil(runes/2). Prompt tokens are the sum of Tokens over all message
// contents; completion tokens are Tokens of the answer.
//
// # Faults and pacing
//
// Options.Fault picks a [Fault] per request (error statuses with
// Retry-After and rate-limit headers, delays, stalls, connection resets,
// malformed JSON, broken segment answers, truncation, reasoning blocks).
// Options.Latency, TTFT and TokensPerSecond pace every answer; they default
// to zero so tests run fast. Every wait ends when the client goes away or
// the server is closed. A stream's events are flushed when the next one
// is not yet due, as the connection's buffer fills, before a cut (stall,
// reset, bad JSON) and at its end: the same bytes at the same pace as one
// write per event, in fewer writes.
//
// # Rate limits
//
// Options.RPM and Options.TPM limit requests and tokens per minute. Each
// limit is a bucket that holds at most the per-minute limit and refills
// continuously at limit/minute, starting full: the model OpenAI's headers
// describe (x-ratelimit-remaining-* is the bucket's level, x-ratelimit-reset-*
// the time until it is full again). Over a stretch of time T a client can
// thus get at most limit·(1 + T/1min) through, the first minute's worth at
// once; a client that paces itself at the limit from the start sees no 429.
//
// A chat request that passed the auth and model checks is admitted when the
// request bucket holds at least 1 and the token bucket at least its cost:
// the Tokens of the prompt (summed over the messages) plus max_tokens. A
// request costing more than the whole TPM is admitted when the bucket is
// full, and empties it. Admission takes 1 request and the cost. Once the
// answer is known, the token bucket is settled to the real usage (the
// prompt's and the answer's Tokens, as reported in usage): the difference
// from what admission took is taken (the bucket may go below zero: later
// requests wait the longer) or given back (an unused max_tokens).
// A request that is not admitted is not charged and gets 429 with OpenAI's
// body (code "rate_limit_exceeded", type "requests" or "tokens"), and
// Retry-After (whole seconds, rounded up) and retry-after-ms headers saying
// when it would be admitted; its fault (Options.Fault) is not consulted.
// Every chat answer, 429 or not, carries the x-ratelimit-limit-,
// -remaining- and -reset-requests|tokens headers of the enabled limits
// (unless its Fault sets RateLimit headers of its own).
// [Server.RateLimited] counts the 429 answers sent.
//
// # Files and batches
//
// Files are kept in memory. A batch advances validating → in_progress →
// finalizing → completed as it is retrieved (Options.BatchSteps) or by
// [Server.AdvanceBatches]; each line is answered as a chat request with the
// same body would be (same checks, fake model and Options.Fault; the
// fault's n is the line's number in [Server.BatchLines]). Output lines are
// shuffled deterministically. Options.BatchFault makes a batch expire or
// fail. [VLLMRunBatch] answers an input file the way vLLM's offline
// run_batch does.
//
// Every request is recorded ([Server.Requests]; Kind KindFile and KindBatch
// for the Files and Batch APIs); the server also tracks how many requests
// were in flight at once ([Server.MaxInFlight]).
package fakeopenai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// DefaultModel is the model the server lists and accepts when
// Options.Model is empty.
const DefaultModel = "fake-model"

// deltaRunes is the size of a streamed content delta.
const deltaRunes = 4

// Options configures a Server. The zero Options is a fast, keyless server
// that accepts any model.
type Options struct {
	// APIKey, when set, is required as "Authorization: Bearer APIKey".
	APIKey string
	// Model is listed by GET /v1/models (default DefaultModel).
	Model string
	// Models, when set, is the list of known models; a chat request for
	// another model gets 404 model_not_found. GET /v1/models lists them.
	Models []string
	// Addr is the address to listen on (default: a free loopback port).
	Addr string

	// Latency is waited before every answer.
	Latency time.Duration
	// TTFT is waited before the first streamed chunk.
	TTFT time.Duration
	// TokensPerSecond paces streamed content (0 = no pacing).
	TokensPerSecond float64
	// EnforceMaxTokens cuts answers longer than the request's max_tokens
	// (by the Tokens approximation) and finishes them with "length".
	EnforceMaxTokens bool

	// RPM and TPM, when positive, are rate limits in requests and tokens
	// per minute, enforced like OpenAI's (see "Rate limits" in the package
	// documentation).
	RPM, TPM int
	// Now, when set, is the server's clock for the rate limits and
	// Recorded.Time (default time.Now), so a test can share a fake clock
	// with its client.
	Now func() time.Time

	// Fault, when set, picks a fault for each request after it was
	// recorded and passed the auth, model and rate-limit checks, and for
	// each line of a batch (see "Files and batches" in the package
	// documentation).
	Fault FaultFunc

	// BatchMaxRequests and FileMaxBytes are the limits on a batch input
	// file (defaults DefaultBatchMaxRequests and DefaultFileMaxBytes,
	// OpenAI's): a larger upload is refused, a batch of more lines fails
	// validation.
	BatchMaxRequests int
	FileMaxBytes     int64
	// BatchSteps is how many retrievals (GET /v1/batches/ID) a batch
	// spends in each state before it advances: 0 finishes a batch at its
	// first retrieval; a negative value never advances on retrievals, only
	// by [Server.AdvanceBatches] and [Server.FinishBatches].
	BatchSteps int
	// BatchFault, when set, picks a fault for the n-th batch created
	// (1-based), e.g. to make it expire or fail.
	BatchFault func(n int, inputFileID string) BatchFault
}

// Message is one chat message of a recorded request.
type Message struct {
	Role    string
	Content string
}

// Recorded is one request as the server saw it.
type Recorded struct {
	N            int    // 1-based request number
	Method, Path string //
	Kind         string // KindTranslate, KindSummary, KindOther, KindModels, KindFile, KindBatch or KindInvalid
	Model        string
	Messages     []Message
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	MaxTokens    int  // max_tokens, or max_completion_tokens when that is set
	Temperature  float64
	// Completed is set once a 200 answer was written to the end (the last
	// byte flushed). A client may still have lost it in transit.
	Completed  bool
	Segments   int         // number of <seg> elements in the last user message
	SegmentIDs []string    // their ids, in order
	Header     http.Header // without the credentials (Authorization, api-key)
	// Auth says how the client sent its key: "bearer" (Authorization:
	// Bearer), "api-key" (Azure's header) or "" (none). Never the key.
	Auth string
	// APIVersion is the api-version query parameter (Azure), if any.
	APIVersion string
	// Time is when the request arrived (its body read), by Options.Now.
	Time time.Time
	// RateLimited is set when the rate limits (Options.RPM, Options.TPM)
	// answered the request with 429.
	RateLimited bool
	// Batch and CustomID are set on a batch line ([Server.BatchLines],
	// [VLLMRunBatch]): the batch's id ("vllm" for VLLMRunBatch) and the
	// line's custom_id. They are empty for an HTTP request.
	Batch, CustomID string
}

// System returns the content of the first system message ("" if none).
func (r *Recorded) System() string {
	for _, m := range r.Messages {
		if m.Role == "system" {
			return m.Content
		}
	}
	return ""
}

// User returns the content of the last user message ("" if none).
func (r *Recorded) User() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

func (r *Recorded) clone() Recorded {
	c := *r
	c.Messages = slices.Clone(r.Messages)
	c.SegmentIDs = slices.Clone(r.SegmentIDs)
	c.Header = r.Header.Clone()
	return c
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	ts     *httptest.Server
	done   chan struct{}
	closed sync.Once

	mu          sync.Mutex
	reqs        []Recorded
	inFlight    int
	maxInFlight int
	sent429     int
	// reqBucket and tokBucket enforce Options.RPM and Options.TPM (nil =
	// no limit).
	reqBucket, tokBucket *bucket
	now                  func() time.Time // time.Now; tests replace it

	store store // files and batches
}

// Start starts a server. Close it when done.
func Start(opts Options) (*Server, error) {
	if opts.Model == "" {
		opts.Model = DefaultModel
		if len(opts.Models) > 0 {
			opts.Model = opts.Models[0]
		}
	}
	s := &Server{
		opts: opts, done: make(chan struct{}), now: opts.Now,
		reqBucket: newBucket(opts.RPM), tokBucket: newBucket(opts.TPM),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.ts = httptest.NewUnstartedServer(s)
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("fakeopenai: listen: %w", err)
		}
		_ = s.ts.Listener.Close()
		s.ts.Listener = l
	}
	s.ts.Start()
	return s, nil
}

// New starts a server and, when tb is not nil, closes it in tb.Cleanup. A
// failure to listen (possible only with Options.Addr) fails tb, or panics
// when tb is nil.
func New(tb testing.TB, opts Options) *Server {
	if tb != nil {
		tb.Helper()
	}
	s, err := Start(opts)
	if err != nil {
		if tb == nil {
			panic(err)
		}
		tb.Fatal(err)
	}
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// URL returns the base URL for clients, ending in "/v1".
func (s *Server) URL() string { return s.ts.URL + "/v1" }

// Root returns the server's address without "/v1": the endpoint of an
// Azure OpenAI client, which asks /openai/deployments/NAME/....
func (s *Server) Root() string { return s.ts.URL }

// Close stops the server, ending stalled and delayed answers first. It is
// safe to call more than once.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.done)
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.reqs))
	for i := range s.reqs {
		out[i] = s.reqs[i].clone()
	}
	return out
}

// Count returns the number of requests received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// CountKind returns the number of requests of a kind (KindTranslate, ...).
func (s *Server) CountKind(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// MaxInFlight returns the largest number of requests that were being
// answered at the same time. A request stops counting just before the last
// byte of its answer is written, so a client that waits for the answer
// never sees more in flight than it allowed.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Reset clears the request log (numbering starts again at 1), the
// in-flight maximum and the 429 count. The rate-limit buckets are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
	s.maxInFlight = s.inFlight
	s.sent429 = 0
}

// Tokens is the fake's token count of s: ceil(runes/2).
func Tokens(s string) int { return (utf8.RuneCountInString(s) + 1) / 2 }

// wire types of the chat request, as go-openai sends them.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream              bool    `json:"stream"`
	MaxTokens           int     `json:"max_tokens"`
	MaxCompletionTokens int     `json:"max_completion_tokens"`
	Temperature         float64 `json:"temperature"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// content decodes a message content: a string or an array of parts.
func content(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Recorded{Method: r.Method, Path: r.URL.Path, Kind: KindInvalid, Header: r.Header.Clone()}
	rec.Header.Del("Authorization")
	rec.Header.Del("api-key")
	rec.APIVersion = r.URL.Query().Get("api-version")
	switch {
	case r.Header.Get("Authorization") != "":
		rec.Auth = "bearer"
	case r.Header.Get("api-key") != "":
		rec.Auth = "api-key"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.bodyLimit(r)))
	var parseErr error
	chat := r.Method == http.MethodPost && (r.URL.Path == "/v1/chat/completions" || azureChatRE.MatchString(r.URL.Path))
	switch {
	case err != nil:
		parseErr = err
	case chat:
		parseErr = s.parseChat(body, rec)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		rec.Kind = KindModels
	default:
		rec.Kind = batchKind(r.URL.Path, rec.Kind)
	}

	s.mu.Lock()
	rec.N = len(s.reqs) + 1
	rec.Time = s.now()
	s.reqs = append(s.reqs, *rec)
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	var once sync.Once
	finish := func() {
		once.Do(func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		})
	}
	defer finish()

	a := &answer{s: s, w: w, r: r, rec: rec, finish: finish}
	w.Header().Set("x-request-id", fmt.Sprintf("req_fake_%d", rec.N))
	if !s.authorized(r) {
		a.authError()
		return
	}
	var cerr *apiError
	if chat {
		cerr = s.chatError(rec, parseErr)
	}
	switch {
	case rec.Kind == KindModels:
		a.models()
	case rec.Kind == KindFile || rec.Kind == KindBatch:
		a.batchAPI(body, err)
	case !chat:
		a.error(http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "", "")
	case cerr != nil:
		a.error(cerr.status, cerr.message, cerr.typ, cerr.param, cerr.code)
	case s.limited() && !a.admit():
		// answered 429
	default:
		a.chat(s.fault(rec.N, rec))
	}
}

// apiError is an OpenAI error answer: its status and body fields.
type apiError struct {
	status                    int
	message, typ, param, code string
}

// body is the OpenAI error body of e.
func (e *apiError) body() map[string]any {
	return map[string]any{"error": map[string]any{
		"message": e.message, "type": e.typ, "param": nullable(e.param), "code": nullable(e.code),
	}}
}

// chatError returns the error a parsed chat request gets before any
// answer (bad JSON, no model, no messages, unknown model), or nil.
func (s *Server) chatError(rec *Recorded, parseErr error) *apiError {
	switch {
	case parseErr != nil:
		return &apiError{http.StatusBadRequest, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error", "", ""}
	case rec.Model == "":
		return &apiError{http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", "", ""}
	case len(rec.Messages) == 0:
		return &apiError{http.StatusBadRequest, "[] is too short - 'messages'", "invalid_request_error", "messages", ""}
	case len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, rec.Model):
		return &apiError{http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", rec.Model), "invalid_request_error", "", "model_not_found"}
	}
	return nil
}

// fault asks Options.Fault for the fault of request (or batch line) n.
func (s *Server) fault(n int, rec *Recorded) Fault {
	if s.opts.Fault == nil {
		return Fault{}
	}
	c := rec.clone()
	return s.opts.Fault(n, &c)
}

func (s *Server) parseChat(body []byte, rec *Recorded) error {
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	rec.Model = req.Model
	for _, m := range req.Messages {
		rec.Messages = append(rec.Messages, Message{Role: m.Role, Content: content(m.Content)})
	}
	rec.Stream = req.Stream
	rec.IncludeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	rec.MaxTokens = req.MaxTokens
	if req.MaxCompletionTokens > 0 {
		rec.MaxTokens = req.MaxCompletionTokens
	}
	rec.Temperature = req.Temperature
	user := rec.User()
	rec.Kind = classify(user)
	for _, sg := range ParseSegments(user) {
		rec.SegmentIDs = append(rec.SegmentIDs, sg.ID)
	}
	rec.Segments = len(rec.SegmentIDs)
	return nil
}

// azureChatRE is Azure OpenAI's chat route, served like /v1/chat/completions
// (the deployment name is the model). Azure clients send the key in an
// "api-key" header.
var azureChatRE = regexp.MustCompile(`^/openai/deployments/[^/]+/chat/completions$`)

func (s *Server) authorized(r *http.Request) bool {
	if azureChatRE.MatchString(r.URL.Path) {
		return s.opts.APIKey == "" || r.Header.Get("api-key") == s.opts.APIKey
	}
	return s.opts.APIKey == "" || r.Header.Get("Authorization") == "Bearer "+s.opts.APIKey
}

// answer writes the response to one request.
type answer struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	rec    *Recorded
	finish func() // stops counting the request as in flight
	// charged is what the token limit took for the request so far.
	charged float64
}

// wait sleeps for d, returning false if the client went away or the server
// closed first.
func (a *answer) wait(d time.Duration) bool {
	if d <= 0 {
		return a.alive()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.r.Context().Done():
		return false
	case <-a.s.done:
		return false
	}
}

func (a *answer) alive() bool {
	select {
	case <-a.r.Context().Done():
		return false
	case <-a.s.done:
		return false
	default:
		return true
	}
}

// hang waits until the client goes away or the server closes.
func (a *answer) hang() {
	select {
	case <-a.r.Context().Done():
	case <-a.s.done:
	}
}

func (a *answer) writeJSON(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // like OpenAI: "<seg" stays readable
	b := []byte(`{"error":{"message":"fakeopenai: encode","type":"server_error","param":null,"code":null}}`)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
	} else {
		b = buf.Bytes()
	}
	a.w.Header().Set("Content-Type", "application/json")
	a.finish()
	a.s.counted(status)
	a.w.WriteHeader(status)
	if _, err := a.w.Write(b); err == nil && status == http.StatusOK && http.NewResponseController(a.w).Flush() == nil {
		a.s.complete(a.rec.N)
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// error writes an OpenAI error body.
func (a *answer) error(status int, msg, typ, param, code string) {
	a.writeJSON(status, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nullable(param), "code": nullable(code),
	}})
}

func (a *answer) authError() {
	got := strings.TrimPrefix(a.r.Header.Get("Authorization"), "Bearer ")
	msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."
	if got != "" {
		msg = fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", mask(got))
	}
	a.error(http.StatusUnauthorized, msg, "invalid_request_error", "", "invalid_api_key")
}

// mask shows a key the way OpenAI does: a few characters at both ends.
func mask(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:3] + strings.Repeat("*", len(key)-7) + key[len(key)-4:]
}

func (a *answer) models() {
	list := a.s.opts.Models
	if len(list) == 0 {
		list = []string{a.s.opts.Model}
	}
	data := make([]map[string]any, 0, len(list))
	for _, m := range list {
		data = append(data, map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": "fakeopenai"})
	}
	a.writeJSON(http.StatusOK, map[string]any{"object": "list", "data": data})
}

// chat answers a chat completion request under fault f.
func (a *answer) chat(f Fault) {
	h := a.w.Header()
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	if f.RetryAfterMs != "" {
		h.Set("retry-after-ms", f.RetryAfterMs)
	}
	f.RateLimit.set(h)
	if !a.wait(a.s.opts.Latency + f.Delay) {
		return
	}
	if f.Status != 0 {
		if f.ErrorBody != "" {
			a.finish()
			a.s.counted(f.Status)
			a.w.WriteHeader(f.Status)
			_, _ = io.WriteString(a.w, f.ErrorBody)
			return
		}
		e := faultError(f)
		a.error(e.status, e.message, e.typ, e.param, e.code)
		return
	}
	text, finish := a.s.content(a.rec, f)
	a.chargeAnswer(f, text)
	if a.rec.Stream {
		a.stream(f, text, finish)
		return
	}
	switch {
	case f.Stall:
		a.hang()
	case f.Reset:
		a.reset()
	case f.BadJSON:
		a.w.Header().Set("Content-Type", "application/json")
		a.finish()
		_, _ = fmt.Fprintf(a.w, `{"id":"chatcmpl-fake-%d","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`, a.rec.N)
	default:
		a.writeJSON(http.StatusOK, completion(a.rec, fmt.Sprintf("chatcmpl-fake-%d", a.rec.N), time.Now().Unix(), text, finish))
	}
}

// faultError is the error answer of a fault with a Status (ErrorBody
// aside): the status's usual fields, overridden by the fault's.
func faultError(f Fault) *apiError {
	msg, typ, code := errorFields(f.Status)
	if f.ErrorMessage != "" {
		msg = f.ErrorMessage
	}
	if f.ErrorType != "" {
		typ = f.ErrorType
	}
	if f.ErrorCode != "" {
		code = f.ErrorCode
	}
	return &apiError{status: f.Status, message: msg, typ: typ, code: code}
}

// completion is the chat.completion object answering rec with text.
func completion(rec *Recorded, id string, created int64, text, finish string) map[string]any {
	return map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": created,
		"model":   rec.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": text, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage":              usage(rec, text),
		"system_fingerprint": "fp_fake",
	}
}

func (a *answer) usage(text string) map[string]any { return usage(a.rec, text) }

func usage(rec *Recorded, text string) map[string]any {
	p := 0
	for _, m := range rec.Messages {
		p += Tokens(m.Content)
	}
	c := Tokens(text)
	return map[string]any{"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
}

// content builds the answer text and finish reason to rec under fault f.
func (s *Server) content(rec *Recorded, f Fault) (string, string) {
	user := rec.User()
	var text string
	switch {
	case f.Reply != "":
		text = f.Reply
	case rec.Kind == KindTranslate:
		text = FormatSegments(breakSegments(ParseSegments(user), ParseGlossary(user), f)) + Brief(rec.System(), user)
	case rec.Kind == KindSummary:
		text = Summarize(user)
	default:
		text = otherReply(user)
	}
	if f.Preamble != "" {
		text = f.Preamble + "\n\n" + text
	}
	if f.Think != "" {
		text = "<think>" + f.Think + "</think>\n\n" + text
	}
	finish := "stop"
	if f.Truncate {
		rs := []rune(text)
		text, finish = string(rs[:len(rs)/2]), "length"
	}
	if s.opts.EnforceMaxTokens && rec.MaxTokens > 0 && Tokens(text) > rec.MaxTokens {
		rs := []rune(text)
		text, finish = string(rs[:min(len(rs), 2*rec.MaxTokens)]), "length"
	}
	return text, finish
}

// breakSegments translates segs (with the request's glossary g, if any)
// and applies the segment faults of f.
func breakSegments(segs []Segment, g map[string]string, f Fault) []Segment {
	pick := func(id string) int {
		if id == "" {
			return -1
		}
		if id == FirstSegment {
			if len(segs) == 0 {
				return -1
			}
			return 0
		}
		return slices.IndexFunc(segs, func(s Segment) bool { return s.ID == id })
	}
	out := make([]Segment, len(segs))
	for i, s := range segs {
		out[i] = Segment{ID: s.ID, Text: TranslateWithGlossary(s.Text, g)}
	}
	damage(segs, out, f)
	if i := pick(f.LeaveChinese); i >= 0 {
		out[i].Text = segs[i].Text
	}
	if i := pick(f.EmptySegment); i >= 0 {
		out[i].Text = ""
	}
	if i := pick(f.MergeSegments); i >= 0 && i+1 < len(out) {
		out[i].Text += " " + out[i+1].Text
		out = slices.Delete(out, i+1, i+2)
	}
	if id := f.DuplicateSegment; id != "" {
		if i := slices.IndexFunc(out, func(s Segment) bool { return s.ID == id || (id == FirstSegment && len(segs) > 0 && s.ID == segs[0].ID) }); i >= 0 {
			out = slices.Insert(out, i+1, out[i])
		}
	}
	if id := f.DropSegment; id != "" {
		if id == FirstSegment && len(segs) > 0 {
			id = segs[0].ID
		}
		out = slices.DeleteFunc(out, func(s Segment) bool { return s.ID == id })
	}
	if f.ExtraSegment != "" {
		out = append(out, Segment{ID: f.ExtraSegment, Text: Translate("多余的段落")})
	}
	return out
}

// reset closes the connection abruptly, with a TCP RST where possible.
func (a *answer) reset() {
	a.finish()
	conn, _, err := http.NewResponseController(a.w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the handler instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// chunk is one streamed chat.completion.chunk.
type chunk struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Choices           []chunkChoice  `json:"choices"`
	Usage             map[string]any `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int               `json:"index"`
	Delta        map[string]string `json:"delta"`
	Logprobs     any               `json:"logprobs"`
	FinishReason *string           `json:"finish_reason"`
}

// stream writes text as server-sent events under fault f.
func (a *answer) stream(f Fault, text, finish string) {
	rc := http.NewResponseController(a.w)
	h := a.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	a.w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	ttft, tps := a.s.opts.TTFT, a.s.opts.TokensPerSecond
	if f.TTFT > 0 {
		ttft = f.TTFT
	}
	if f.TokensPerSecond > 0 {
		tps = f.TokensPerSecond
	}
	if !a.wait(ttft) {
		return
	}
	base := chunk{
		ID: fmt.Sprintf("chatcmpl-fake-%d", a.rec.N), Object: "chat.completion.chunk",
		Created: time.Now().Unix(), Model: a.rec.Model, SystemFingerprint: "fp_fake",
	}
	// The events go out as they are due: unpaced, as fast as the connection
	// takes them, flushed together (when the buffer fills, before a cut and
	// at the end) rather than one write each, which only costs CPU; paced,
	// every event that is due is flushed before the wait for the next.
	paced := tps > 0
	send := func(delta map[string]string, fin *string) bool {
		c := base
		c.Choices = []chunkChoice{{Delta: delta, FinishReason: fin}}
		return a.event(rc, c, paced)
	}
	if !send(map[string]string{"role": "assistant", "content": ""}, nil) {
		return
	}
	content := newContentEvents(base)
	deltas := split(text, deltaRunes)
	cut := f.Stall || f.Reset || f.BadJSON
	start, sent := time.Now(), 0
	for i := 0; i <= len(deltas); i++ {
		if cut && i == len(deltas)/2 {
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return
			}
			switch {
			case f.Stall:
				a.hang()
			case f.Reset:
				a.reset()
			default:
				a.finish()
				_, _ = io.WriteString(a.w, "data: {\"id\":\"chatcmpl-fake\",\"choices\":[{\"delta\":{\"content\":\"\n\n")
				_ = rc.Flush()
			}
			return
		}
		if i == len(deltas) {
			break
		}
		if paced {
			due := start.Add(time.Duration(float64(sent) / tps * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				// What is due is sent before the wait.
				if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return
				}
				if !a.wait(wait) {
					return
				}
			}
		}
		if !a.write(rc, content.event(deltas[i]), false) {
			return
		}
		sent += Tokens(deltas[i])
	}
	if !send(map[string]string{}, &finish) {
		return
	}
	if a.rec.IncludeUsage {
		c := base
		c.Choices = []chunkChoice{}
		c.Usage = a.usage(text)
		if !a.event(rc, c, paced) {
			return
		}
	}
	a.finish()
	_, _ = io.WriteString(a.w, "data: [DONE]\n\n")
	if rc.Flush() == nil {
		a.s.complete(a.rec.N)
	}
}

// counted counts a 429 answer.
func (s *Server) counted(status int) {
	if status != http.StatusTooManyRequests {
		return
	}
	s.mu.Lock()
	s.sent429++
	s.mu.Unlock()
}

// complete marks request n as answered to the end.
func (s *Server) complete(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs[n-1].Completed = true
}

// event writes one "data: JSON" event, flushed when flush is set,
// reporting false when the client is gone.
func (a *answer) event(rc *http.ResponseController, c chunk, flush bool) bool {
	b, err := eventBytes(c)
	if err != nil {
		return false
	}
	return a.write(rc, b, flush)
}

// eventBytes is the server-sent event "data: JSON\n\n" of c.
func eventBytes(c chunk) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("data: ")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// write writes an event, flushed when flush is set, reporting false when
// the client is gone.
func (a *answer) write(rc *http.ResponseController, event []byte, flush bool) bool {
	if _, err := a.w.Write(event); err != nil {
		return false
	}
	if flush {
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
	}
	return a.alive()
}

// contentEvents writes the content deltas of one stream: the bytes
// eventBytes gives for base with a choice whose delta is {"content": d},
// without encoding the whole chunk again for each delta (which, under the
// race detector, was a fifth of an end-to-end test's CPU).
type contentEvents struct {
	base       chunk
	head, tail []byte // the event around the JSON string of the delta
	buf        []byte
}

// contentMark stands for the delta in the template event.
const contentMark = "\x00fakeopenai-delta\x00"

func newContentEvents(base chunk) *contentEvents {
	e := &contentEvents{base: base}
	b, err := eventBytes(e.chunk(contentMark))
	mark, _ := json.Marshal(contentMark)
	if i := bytes.Index(b, mark); err == nil && i >= 0 {
		e.head, e.tail = b[:i], b[i+len(mark):]
	}
	return e
}

// chunk is the chunk of delta d.
func (e *contentEvents) chunk(d string) chunk {
	c := e.base
	c.Choices = []chunkChoice{{Delta: map[string]string{"content": d}}}
	return c
}

// event is the event of delta d: eventBytes(e.chunk(d)).
func (e *contentEvents) event(d string) []byte {
	if e.head == nil || !plainJSON(d) {
		b, _ := eventBytes(e.chunk(d))
		return b
	}
	e.buf = append(append(append(append(append(e.buf[:0], e.head...), '"'), d...), '"'), e.tail...)
	return e.buf
}

// plainJSON reports whether encoding/json (HTML escaping off) writes s as
// "s": valid UTF-8 without control characters, '"', '\\', U+2028 or
// U+2029.
func plainJSON(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\':
			return false
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
			return false
		}
	}
	return true
}

// split cuts s into pieces of at most n runes.
func split(s string, n int) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); i += n {
		out = append(out, string(rs[i:min(i+n, len(rs))]))
	}
	return out
}
