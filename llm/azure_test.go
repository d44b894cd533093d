package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

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
			c, err := New(Config{BaseURL: fake.Root() + "/", APIKey: "az-key", Model: "gpt-4o.mini:prod", Azure: true, APIVersion: tt.version, Stream: tt.stream})
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
			// The fake answered, so the "api-key" header held the key.
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != "/openai/deployments/gpt-4o.mini:prod/chat/completions" {
				t.Errorf("path %q: the deployment name must be used as given", r.Path)
			}
			if r.APIVersion != tt.wantVersion {
				t.Errorf("api-version %q, want %q", r.APIVersion, tt.wantVersion)
			}
			if r.Auth != "api-key" {
				t.Errorf("key sent as %q, want in the api-key header only", r.Auth)
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
