package main_test

// A failure of the setup (a wrong key, a model the server lacks, a dead
// server, a URL that serves a web page) is not a problem of each file: the
// run stops at the first one and says it once, with what to change.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestSystemicFailureReportedOnce(t *testing.T) {
	var pageHits atomic.Int64
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
	}))
	t.Cleanup(page.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/v1"
	dead.Close() // nothing listens there any more

	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey, Models: []string{"fake-model"}})
	corpus := filepath.Join("testdata", "corpus")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		msg      string
		hint     string
		requests func() int
	}{
		{"wrong key", map[string]string{"OPENAI_API_KEY": "sk-wrong-key-0123456789"}, nil,
			"authentication failed (401)", "hint: set OPENAI_API_KEY to a valid key", srv.Count},
		{"unknown model", map[string]string{"XLATE_MODEL": "gpt-nope"}, nil,
			"model not found (404)", `hint: the model "gpt-nope" (from env XLATE_MODEL) is not served at`, srv.Count},
		{"html page, streaming", map[string]string{"OPENAI_BASE_URL": page.URL + "/v1"}, nil,
			"answered with an HTML page", "check --base-url", func() int { return int(pageHits.Load()) }},
		{"html page, json", map[string]string{"OPENAI_BASE_URL": page.URL + "/v1"}, []string{"--stream=false"},
			"answered with an HTML page", "check --base-url", func() int { return int(pageHits.Load()) }},
		{"dead server", map[string]string{"OPENAI_BASE_URL": deadURL}, nil,
			"connection refused", "hint: no server answers at " + deadURL, func() int { return 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := env(t, srv, t.TempDir())
			for k, v := range tt.env {
				environ = append(environ, k+"="+v) // later entries win
			}
			before := tt.requests()
			out := filepath.Join(t.TempDir(), "out")
			r := runXlate(t, environ, nil, append(tt.args, "-o", out, corpus)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2 (nothing was written)", r.code)
			}
			if n := strings.Count(r.stderr, tt.msg); n != 1 {
				t.Errorf("%q said %d times, want once:\n%s", tt.msg, n, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.hint) || !strings.Contains(r.stderr, "files not attempted") {
				t.Errorf("no hint %q or count of files not attempted:\n%s", tt.hint, r.stderr)
			}
			// Stopped at once: at most the requests in flight when the
			// first failure came back (--concurrency 8), none retried.
			if n := tt.requests() - before; n > 16 {
				t.Errorf("%d requests after a systemic failure, want it to stop at once", n)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("%d outputs written", len(entries))
			}
		})
	}
}
