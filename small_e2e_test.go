package main_test

// End-to-end checks of small fixes, through the real binary.

import (
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// A short dummy key, as a local server is given, is no secret: the words of
// an error message that happen to hold it stay whole.
func TestShortKeyMessageIntact(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 200, ErrorBody: "data: [DONE]\n\n"})})
	environ := append(env(t, srv, t.TempDir()), "OPENAI_API_KEY=k")
	r := runXlate(t, environ, nil, "--retry-backoff", "1ms", "--retries", "1", "testdata/corpus/plain-seed-cnbeta.txt")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "redacted") || !strings.Contains(r.stderr, "(0 chunks)") {
		t.Errorf("stderr mangled by redaction, want the message whole:\n%s", r.stderr)
	}
}
