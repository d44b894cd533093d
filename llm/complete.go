package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

var (
	errTimeout    = errors.New("attempt timed out")
	errNoChoices  = errors.New("answer has no choices")
	errIncomplete = errors.New("stream ended without a finish reason")
)

// Complete sends req, retrying transient failures, and returns the answer.
// See the package documentation for the contract.
func (c *OpenAI) Complete(ctx context.Context, req Request) (Response, error) {
	if len(req.Messages) == 0 {
		return Response{}, errors.New("llm: request has no messages")
	}
	creq := c.request(req)
	est := c.estimate(req)
	log := c.log.With("purpose", req.Purpose, "model", c.model)
	for attempt := 0; ; attempt++ {
		if err := c.acquire(ctx); err != nil {
			return Response{}, fmt.Errorf("llm: %w", err)
		}
		tk, err := c.admit(ctx, est)
		if err != nil {
			<-c.sem
			return Response{}, fmt.Errorf("llm: %w", err)
		}
		start := time.Now()
		resp, hdr, err := c.attempt(ctx, creq)
		status, h := hdr.get()
		c.settle(tk, h, err == nil, resp.Usage)
		if status == http.StatusTooManyRequests {
			c.limited.Add(1)
		}
		var f failure
		var wait time.Duration
		if err != nil && ctx.Err() == nil {
			f = c.classify(err, hdr, req.Partial)
			wait = f.wait
			if wait == 0 {
				wait = rand.N(min(maxBackoff, c.backoff<<attempt) + 1)
			}
			if f.retry && status == http.StatusTooManyRequests {
				// Before the slot is freed, so that no waiting attempt
				// slips out first.
				c.throttle(tk, wait)
			}
		}
		<-c.sem
		if err == nil {
			c.prompt.Add(int64(resp.Usage.PromptTokens))
			c.completion.Add(int64(resp.Usage.CompletionTokens))
			log.Debug("llm answer", "attempt", attempt+1, "finish", resp.FinishReason,
				"prompt_tokens", resp.Usage.PromptTokens, "completion_tokens", resp.Usage.CompletionTokens,
				"elapsed", time.Since(start).Round(time.Millisecond))
			return resp, nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("llm: %w", ctx.Err())
		}
		if !f.retry || attempt >= c.retries {
			c.errs.Add(1)
			if attempt > 0 {
				return Response{}, c.redact(fmt.Errorf("llm: %d attempts failed: %w", attempt+1, f.err))
			}
			return Response{}, c.redact(fmt.Errorf("llm: %w", f.err))
		}
		log.Warn("llm retry", "attempt", attempt+1, "error", c.redact(f.err).Error(), "wait", wait.Round(time.Millisecond))
		c.retried.Add(1)
		if err := c.wait(ctx, wait); err != nil {
			return Response{}, fmt.Errorf("llm: %w", err)
		}
	}
}

func (c *OpenAI) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request builds the go-openai request.
func (c *OpenAI) request(req Request) openai.ChatCompletionRequest {
	cr := chatRequest(c.model, req)
	if c.stream {
		cr.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	return cr
}

// ChatBody is the JSON body Complete sends for req to model, without
// streaming: what a line of a batch input file carries. The messages' own
// encoding (go-openai's) escapes <, > and & as \u003c…; the JSON means
// the same.
func ChatBody(model string, req Request) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(chatRequest(model, req)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// chatRequest is the go-openai request Complete sends for req to model,
// without streaming.
func chatRequest(model string, req Request) openai.ChatCompletionRequest {
	cr := openai.ChatCompletionRequest{Model: model, Temperature: req.Temperature}
	for _, m := range req.Messages {
		cr.Messages = append(cr.Messages, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	if reasoningModel(model) {
		// go-openai rejects max_tokens and temperatures other than 1 for
		// these models before sending anything.
		cr.MaxCompletionTokens = req.MaxTokens
		if cr.Temperature != 1 {
			cr.Temperature = 0
		}
	} else {
		cr.MaxTokens = req.MaxTokens
	}
	return cr
}

// reasoningModel mirrors go-openai's ReasoningValidator model families.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// attempt makes one request under the attempt timeout: the whole answer
// in JSON mode, its first chunk when streaming (see completeStream). It
// returns the response headers seen, for Retry-After.
func (c *OpenAI) attempt(ctx context.Context, cr openai.ChatCompletionRequest) (Response, *captured, error) {
	cp := &captured{}
	actx := context.WithValue(ctx, captureKey{}, cp)
	c.requests.Add(1)
	if c.stream {
		resp, err := c.completeStream(actx, cr)
		return resp, cp, err
	}
	tctx, cancel := context.WithTimeoutCause(actx, c.timeout, errTimeout)
	defer cancel()
	resp, err := c.completeJSON(tctx, cr)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(tctx), errTimeout) {
		err = fmt.Errorf("%w after %s", errTimeout, c.timeout)
	}
	return resp, cp, err
}

func (c *OpenAI) completeJSON(ctx context.Context, cr openai.ChatCompletionRequest) (Response, error) {
	r, err := c.client.CreateChatCompletion(ctx, cr)
	if err != nil {
		return Response{}, err
	}
	return responseOf(r)
}

// ParseChatCompletion reads a chat completion's JSON body as Complete
// reads a JSON answer (reasoning blocks stripped): for answers that came
// another way, such as a batch output file.
func ParseChatCompletion(body []byte) (Response, error) {
	var r openai.ChatCompletionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return Response{}, fmt.Errorf("answer is not a chat completion: %w", err)
	}
	return responseOf(r)
}

// responseOf reads a chat completion as Complete reads a JSON answer.
func responseOf(r openai.ChatCompletionResponse) (Response, error) {
	if len(r.Choices) == 0 {
		return Response{}, errNoChoices
	}
	ch := r.Choices[0]
	return Response{
		Content:      stripThink(ch.Message.Content),
		FinishReason: string(ch.FinishReason),
		Usage:        Usage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens},
	}, nil
}

// completeStream reads a streamed answer. The first chunk must come within
// the attempt timeout and the stall timeout; after it, each next chunk
// within the stall timeout, however long the whole answer takes. An
// answer cut after some content comes back as a *PartialError.
func (c *OpenAI) completeStream(ctx context.Context, cr openai.ChatCompletionRequest) (Response, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	first := min(c.timeout, c.stall)
	stall := time.AfterFunc(first, func() { cancel(ErrStalled) })
	defer stall.Stop()
	var b strings.Builder
	stalled := func(err error) error {
		if errors.Is(context.Cause(sctx), ErrStalled) {
			switch {
			case b.Len() > 0:
				err = fmt.Errorf("%w: no data for %s", ErrStalled, c.stall)
			case first < c.stall:
				err = fmt.Errorf("%w after %s: no answer began", errTimeout, first)
			default:
				err = fmt.Errorf("%w: no data for %s", ErrStalled, c.stall)
			}
		}
		if content := stripThink(b.String()); content != "" && ctx.Err() == nil {
			return &PartialError{Content: content, Err: err}
		}
		return err
	}

	st, err := c.client.CreateChatCompletionStream(sctx, cr)
	if err != nil {
		return Response{}, stalled(err)
	}
	defer st.Close()
	var (
		resp   Response
		chunks int
	)
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Response{}, stalled(err)
		}
		stall.Reset(c.stall)
		chunks++
		c.streamed.Add(1)
		if u := chunk.Usage; u != nil {
			resp.Usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			b.WriteString(ch.Delta.Content)
			if ch.FinishReason != "" {
				resp.FinishReason = string(ch.FinishReason)
			}
		}
	}
	if resp.FinishReason == "" {
		// A cut stream that still ended cleanly; the answer may be partial.
		return Response{}, stalled(fmt.Errorf("%w (%d chunks)", errIncomplete, chunks))
	}
	resp.Content = stripThink(b.String())
	return resp, nil
}

var (
	thinkRE     = regexp.MustCompile(`(?s)<think(?:ing)?>.*?</think(?:ing)?>`)
	openThinkRE = regexp.MustCompile(`(?s)<think(?:ing)?>.*$`)
)

// stripThink removes reasoning blocks, including one cut before its end.
func stripThink(s string) string {
	s = thinkRE.ReplaceAllString(s, "")
	s = openThinkRE.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// captured holds the status and headers of an attempt's last response.
type captured struct {
	mu     sync.Mutex
	status int
	header http.Header
}

func (cp *captured) get() (int, http.Header) {
	if cp == nil {
		return 0, nil
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.status, cp.header
}

type captureKey struct{}

// capturingTransport records response headers into the *captured of the
// request's context. go-openai's errors do not carry headers, and
// Retry-After lives there.
type capturingTransport struct {
	base http.RoundTripper
}

func (t *capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if cp, ok := r.Context().Value(captureKey{}).(*captured); ok && resp != nil {
		cp.mu.Lock()
		cp.status, cp.header = resp.StatusCode, resp.Header.Clone()
		cp.mu.Unlock()
	}
	if err == nil && resp.StatusCode < 300 {
		if ct, page := htmlPage(resp); page {
			resp.Body.Close()
			return nil, &NotAPIError{URL: r.URL.Redacted(), ContentType: ct}
		}
	}
	return resp, err //nolint:wrapcheck // a RoundTripper must return the base's error as is
}

// htmlPage reports whether a successful response is an HTML page: its
// Content-Type says so, or, without a telling one, its body starts like a
// page (which is then put back for the reader).
func htmlPage(resp *http.Response) (string, bool) {
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "text/html", "application/xhtml+xml":
		return ct, true
	case "", "text/plain", "application/octet-stream":
		head := make([]byte, 64)
		n, _ := io.ReadFull(resp.Body, head)
		head = head[:n]
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		start := strings.ToLower(strings.TrimSpace(string(head)))
		if strings.HasPrefix(start, "<!doctype html") || strings.HasPrefix(start, "<html") {
			if ct == "" {
				ct = "no Content-Type"
			}
			return ct, true
		}
	}
	return ct, false
}
