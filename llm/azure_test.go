package llm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// azureFront serves Azure OpenAI's wire protocol in front of the fake: it
// records each request's path, api-version and headers, then passes
// /openai/deployments/NAME/chat/completions on to the fake's
// /v1/chat/completions with the "api-key" header as a bearer token.
type azureFront struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (a *azureFront) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Clone(context.Background()))
		a.mu.Unlock()
		rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
		if !ok || !strings.HasSuffix(rest, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: "/v1/chat/completions"}
		r2.Header.Del("Authorization")
		if k := r.Header.Get("api-key"); k != "" {
			r2.Header.Set("Authorization", "Bearer "+k)
		}
		next.ServeHTTP(w, r2)
	})
}

func TestAzure(t *testing.T) {
	tests := []struct {
		name, version, wantVersion string
		stream                     bool
	}{
		{"default version json", "", DefaultAzureAPIVersion, false},
		{"explicit version stream", "2024-06-01", "2024-06-01", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeopenai.New(t, fakeopenai.Options{APIKey: "az-key"})
			front := &azureFront{}
			ts := httptest.NewServer(front.handler(fake))
			t.Cleanup(ts.Close)
			c, err := New(Config{BaseURL: ts.URL + "/", APIKey: "az-key", Model: "gpt-4o.mini:prod", Azure: true, APIVersion: tt.version, Stream: tt.stream})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Complete(context.Background(), translateReq())
			if err != nil {
				t.Fatal(err)
			}
			if want := fakeopenai.TranslateSegments(user); resp.Content != want {
				t.Errorf("content %q, want %q", resp.Content, want)
			}
			if len(front.seen) != 1 {
				t.Fatalf("%d requests, want 1", len(front.seen))
			}
			r := front.seen[0]
			if r.URL.Path != "/openai/deployments/gpt-4o.mini:prod/chat/completions" {
				t.Errorf("path %q: the deployment name must be used as given", r.URL.Path)
			}
			if v := r.URL.Query().Get("api-version"); v != tt.wantVersion {
				t.Errorf("api-version %q, want %q", v, tt.wantVersion)
			}
			if r.Header.Get("api-key") != "az-key" || r.Header.Get("Authorization") != "" {
				t.Errorf("headers: api-key %q, Authorization %q", r.Header.Get("api-key"), r.Header.Get("Authorization"))
			}
		})
	}
}

func TestAzureNeedsKey(t *testing.T) {
	// Azure has no keyless local mode: a loopback endpoint still needs one.
	_, err := New(Config{BaseURL: "http://127.0.0.1:1", Model: "m", Azure: true})
	if err == nil || !strings.Contains(err.Error(), "API key") {
		t.Errorf("err = %v, want a missing key error", err)
	}
}
