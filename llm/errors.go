package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// APIError is an error answer from the server. Status is the HTTP status
// (0 for an error event inside a stream); Code and Type are OpenAI's error
// code and type when the body had them; Message is the server's message,
// shortened, with the API key removed.
type APIError struct {
	Status     int
	Code, Type string
	Message    string
}

// Error returns a short message that says what to do.
func (e *APIError) Error() string {
	msg := e.Message
	with := func(prefix, hint string) string {
		if msg == "" {
			return fmt.Sprintf("%s (%d): %s", prefix, e.Status, hint)
		}
		return fmt.Sprintf("%s (%d): %s", prefix, e.Status, msg)
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		// The server's message may quote part of the key; leave it out.
		return "authentication failed (401): check the API key"
	case e.Status == http.StatusForbidden:
		return with("permission denied", "the key may lack access to this model or region")
	case e.Status == http.StatusNotFound && (e.Code == "model_not_found" || strings.Contains(strings.ToLower(msg), "model")):
		return with("model not found", "check the model name")
	case e.Status == http.StatusNotFound:
		return with("not found", "check the base URL (it usually ends in /v1)")
	case e.Code == "context_length_exceeded":
		return with("prompt too long", "use smaller chunks")
	case e.Status == http.StatusTooManyRequests && e.Code == "insufficient_quota":
		return "quota exceeded (429): check your plan and billing details"
	case e.Status == http.StatusTooManyRequests:
		return with("rate limited", "lower the concurrency")
	case e.Status >= 500:
		return with("server error", "try again later")
	case e.Status == 0:
		return "error in stream: " + msg
	default:
		return with("request failed", http.StatusText(e.Status))
	}
}

// Systemic reports whether the error is the setup's, not one request's:
// the key (401), the model or the URL (404, and 405 or 501 from a server
// that is no API), the quota. Every other request would fail the same way.
func (e *APIError) Systemic() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	switch {
	case e.Code == "insufficient_quota":
		return true
	}
	return false
}

// NotAPIError is a successful HTTP answer that is a web page, not the API:
// the base URL points at a website, a login portal or a proxy's page.
type NotAPIError struct {
	URL         string // the request's URL
	ContentType string
}

func (e *NotAPIError) Error() string {
	return fmt.Sprintf("%s answered with an HTML page (%s), not an OpenAI-compatible API: check the base URL", e.URL, e.ContentType)
}

// Systemic is true: every request goes to the same URL.
func (e *NotAPIError) Systemic() bool { return true }

// unreachableError is a server that cannot be reached at all: the
// connection is refused or the host name does not resolve.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string  { return e.err.Error() }
func (e *unreachableError) Unwrap() error  { return e.err }
func (e *unreachableError) Systemic() bool { return true }

// IsSystemic reports whether err comes from the setup (key, model, URL,
// quota, an unreachable server) rather than from one request: the same
// error would meet every other request of the run.
func IsSystemic(err error) bool {
	return Systemic(err) != nil
}

// Systemic returns the systemic error in err's chain (see IsSystemic), or
// nil: the setup's failure without the file and step it met first.
func Systemic(err error) error {
	var s interface {
		error
		Systemic() bool
	}
	if errors.As(err, &s) && s.Systemic() {
		return s
	}
	return nil
}

// retryable reports whether the same request may succeed later.
func (e *APIError) retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return e.Code != "insufficient_quota"
	case e.Status == http.StatusRequestTimeout, e.Status == 0:
		return true
	case e.Status >= 500:
		return e.Status != http.StatusNotImplemented
	}
	return false
}

// failure is a classified attempt error.
type failure struct {
	err   error
	retry bool
	wait  time.Duration // server-requested wait, 0 for none
}

// classify decides whether err is worth retrying and how long the server
// asked to wait.
func (c *OpenAI) classify(err error, cp *captured, partial bool) failure {
	var oe *openai.APIError
	var re *openai.RequestError
	switch {
	case errors.As(err, &oe):
		e := &APIError{Status: oe.HTTPStatusCode, Type: oe.Type, Message: c.clean(oe.Message)}
		switch code := oe.Code.(type) {
		case string:
			e.Code = code
		case int:
			e.Code = strconv.Itoa(code)
		}
		return c.withWait(e, cp)
	case errors.As(err, &re):
		e := &APIError{Status: re.HTTPStatusCode, Message: c.clean(string(re.Body))}
		if strings.HasPrefix(strings.TrimSpace(string(re.Body)), "<") {
			e.Message = http.StatusText(re.HTTPStatusCode) // an HTML error page
		}
		return c.withWait(e, cp)
	case errors.As(err, new(*NotAPIError)):
		return failure{err: err}
	case errors.As(err, new(*PartialError)) && partial:
		return failure{err: err} // the caller keeps what came and asks for the rest
	case errors.Is(err, ErrStalled), errors.Is(err, errTimeout),
		errors.Is(err, errNoChoices), errors.Is(err, errIncomplete):
		return failure{err: err, retry: true}
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure{err: &unreachableError{fmt.Errorf("%w (is the server at %s running?)", err, c.baseURL)}}
	case isDNSNotFound(err):
		return failure{err: &unreachableError{err}}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE), isNetError(err), isJSONError(err):
		return failure{err: err, retry: true}
	}
	return failure{err: err}
}

func (c *OpenAI) withWait(e *APIError, cp *captured) failure {
	f := failure{err: e, retry: e.retryable()}
	if !f.retry {
		return f
	}
	if _, h := cp.get(); h != nil {
		f.wait = retryAfter(h, time.Now())
	}
	if f.wait > maxRetryAfter {
		f.retry = false
		f.err = fmt.Errorf("%w; server asks to wait %s", e, f.wait.Round(time.Second))
	}
	return f
}

// retryAfter reads retry-after-ms, then Retry-After (seconds or an HTTP
// date), then the x-ratelimit-reset-* headers, returning 0 when none is
// usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return rateLimitReset(h)
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// rateLimitReset reads OpenAI-style x-ratelimit-reset-requests and
// x-ratelimit-reset-tokens ("1s", "6m0s", "20ms", or plain seconds). A
// dimension whose x-ratelimit-remaining-* header says there is budget left
// is ignored; the longest remaining reset wins.
func rateLimitReset(h http.Header) time.Duration {
	var wait time.Duration
	for _, dim := range []string{"requests", "tokens"} {
		if rem := strings.TrimSpace(h.Get("x-ratelimit-remaining-" + dim)); rem != "" && rem != "0" {
			continue
		}
		v := strings.TrimSpace(h.Get("x-ratelimit-reset-" + dim))
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			s, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil {
				continue
			}
			d = time.Duration(s * float64(time.Second))
		}
		wait = max(wait, d)
	}
	return wait
}

func isDNSNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

func isJSONError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

// clean shortens a server message to one line and removes the API key.
func (c *OpenAI) clean(msg string) string {
	msg = strings.Join(strings.Fields(c.scrub(msg)), " ")
	const maxLen = 300
	if len(msg) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func (c *OpenAI) scrub(s string) string { return redactKey(s, c.key) }

// redact hides the API key in err's message, keeping err's chain for
// errors.Is and errors.As.
func (c *OpenAI) redact(err error) error {
	if c.key == "" || !strings.Contains(err.Error(), c.key) {
		return err
	}
	return &redactedError{msg: c.scrub(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
