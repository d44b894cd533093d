package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestRedactKey(t *testing.T) {
	for _, tt := range []struct{ s, key, want string }{
		{"0 chunks", "k", "0 chunks"},
		{"bad key k given", "k", "bad key [redacted] given"},
		{"k", "k", "[redacted]"},
		{"key=k&kk=k.", "k", "key=[redacted]&kk=[redacted]."},
		{"dummy: local-dummy", "dummy", "[redacted]: local-dummy"},
		{"密钥k无效", "k", "密钥k无效"},
		{"sk-proj-SECRET0123456789abcdef123", "sk-proj-SECRET0123456789abcdef", "[redacted]123"},
		{"xsk-12345678x", "sk-12345678", "x[redacted]x"},
		{"nothing here", "", "nothing here"},
	} {
		if got := redactKey(tt.s, tt.key); got != tt.want {
			t.Errorf("redactKey(%q, %q) = %q, want %q", tt.s, tt.key, got, tt.want)
		}
	}
}

// A short dummy key (for a local server) leaves the words of a message
// alone.
func TestShortKeyKeepsMessage(t *testing.T) {
	s := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 400, ErrorMessage: "unknown token kind"})})
	c, _ := newClient(t, s, Config{APIKey: "k", Retries: 1})
	_, err := c.Complete(context.Background(), translateReq())
	if err == nil || !strings.Contains(err.Error(), "unknown token kind") || strings.Contains(err.Error(), "redacted") {
		t.Errorf("err = %v, want the server's message intact", err)
	}
}
