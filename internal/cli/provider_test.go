package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// TestProviderPresets checks what each preset sets, through "xlate config"
// (no request is made).
func TestProviderPresets(t *testing.T) {
	const key = "sk-test-0123456789abcdefWXYZ"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want map[string]string // setting -> "value  source" substring of its line
		code int
		err  string
	}{
		{"openai by default", map[string]string{"OPENAI_API_KEY": key}, nil, map[string]string{
			"provider": "openai  default", "base-url": "https://api.openai.com/v1  provider openai",
			"api-key": "sk-…WXYZ  env OPENAI_API_KEY", "model": "gpt-4o-mini  provider openai"}, 0, ""},
		{"deepseek", map[string]string{"DEEPSEEK_API_KEY": key}, []string{"--provider", "deepseek"}, map[string]string{
			"provider": "deepseek  flag", "base-url": "https://api.deepseek.com/v1  provider deepseek",
			"api-key": "sk-…WXYZ  env DEEPSEEK_API_KEY", "model": "deepseek-chat  provider deepseek"}, 0, ""},
		{"deepseek ignores the OpenAI variables", map[string]string{"OPENAI_API_KEY": key, "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, []string{"--provider", "deepseek"}, map[string]string{
			"base-url": "https://api.deepseek.com/v1  provider deepseek", "api-key": "(none)  default"},
			2, "no API key: set DEEPSEEK_API_KEY (or pass --api-key)"},
		{"ollama needs no key", nil, []string{"--provider", "ollama"}, map[string]string{
			"base-url": "http://localhost:11434/v1  provider ollama", "model": "qwen2.5:7b  provider ollama"}, 0, ""},
		{"openrouter from the environment", map[string]string{"XLATE_PROVIDER": "openrouter", "OPENROUTER_API_KEY": key}, nil, map[string]string{
			"provider": "openrouter  env XLATE_PROVIDER", "base-url": "https://openrouter.ai/api/v1  provider openrouter",
			"api-key": "env OPENROUTER_API_KEY", "model": "openai/gpt-4o-mini  provider openrouter"}, 0, ""},
		{"openrouter without key", nil, []string{"--provider", "openrouter"}, nil, 2, "no API key: set OPENROUTER_API_KEY (or pass --api-key)"},
		{"azure from the environment", map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": key}, []string{"--provider", "azure", "--model", "prod-4o"}, map[string]string{
			"base-url": "https://res.openai.azure.com  env AZURE_OPENAI_ENDPOINT", "api-key": "env AZURE_OPENAI_API_KEY",
			"model": "prod-4o  flag", "azure-api-version": "2024-10-21  default"}, 0, ""},
		{"azure needs an endpoint", map[string]string{"AZURE_OPENAI_API_KEY": key}, []string{"--provider", "azure", "--model", "d"}, nil, 2, "--provider azure needs --base-url"},
		{"azure needs a deployment", map[string]string{"AZURE_OPENAI_API_KEY": key}, []string{"--provider", "azure", "--base-url", "https://r.openai.azure.com"}, nil, 2, "--provider azure needs --model"},
		{"azure needs a key", nil, []string{"--provider", "azure", "--base-url", "https://r.openai.azure.com", "--model", "d"}, nil, 2, "no API key: set AZURE_OPENAI_API_KEY (or pass --api-key)"},
		{"base-url overrides the preset", map[string]string{"DEEPSEEK_API_KEY": key}, []string{"--provider", "deepseek", "--base-url", "https://proxy.example.com/v1"}, map[string]string{
			"base-url": "https://proxy.example.com/v1  flag", "model": "deepseek-chat  provider deepseek"}, 0, ""},
		{"custom URL without key names the URL", nil, []string{"--base-url", "https://llm.example.com/v1"}, nil, 2, "no API key for https://llm.example.com/v1: set OPENAI_API_KEY"},
		{"provider names are case-insensitive", nil, []string{"--provider", "Ollama"}, map[string]string{"model": "qwen2.5:7b"}, 0, ""},
		{"unknown provider", nil, []string{"--provider", "anthropic"}, nil, 2, `unknown provider "anthropic": use one of openai, deepseek, ollama, openrouter, azure`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errs := runMain(t, "", append([]string{"config"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.err)
			}
			if strings.Contains(out+errs, key) {
				t.Errorf("the key is shown:\n%s", out)
			}
			for name, want := range tt.want {
				if line := settingLine(out, name); !strings.Contains(squeeze(line), want) {
					t.Errorf("%s: line %q, want %q", name, line, want)
				}
			}
		})
	}
}

// settingLine returns the line of "xlate config" output for a setting.
func settingLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	return ""
}

// squeeze collapses the column padding to two spaces, so that tests need
// not know the column widths.
func squeeze(s string) string {
	return columns.ReplaceAllString(strings.TrimSpace(s), "  ")
}

var columns = regexp.MustCompile(`\s{2,}`)

// TestProvidersAgainstTheFake runs real translations through the presets:
// the key comes from the provider's variable, the model from its preset.
func TestProvidersAgainstTheFake(t *testing.T) {
	const key = "sk-provider-test-key-123456"
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantModel string
	}{
		{"openai", map[string]string{"OPENAI_API_KEY": key}, []string{"--provider", "openai"}, "gpt-4o-mini"},
		{"deepseek", map[string]string{"DEEPSEEK_API_KEY": key}, []string{"--provider", "deepseek"}, "deepseek-chat"},
		{"openrouter", map[string]string{"OPENROUTER_API_KEY": key}, []string{"--provider", "openrouter"}, "openai/gpt-4o-mini"},
		{"ollama with a flag key", nil, []string{"--provider", "ollama", "--api-key", key, "--model", "qwen3:8b"}, "qwen3:8b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			srv := fakeopenai.New(t, fakeopenai.Options{APIKey: key})
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append(tt.args, "--base-url", srv.URL(), "--no-summary")
			code, out, errs := runMain(t, "你好。", args...)
			if code != 0 || !strings.Contains(out, fakeopenai.Translate("你好。")) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Model != tt.wantModel {
				t.Errorf("%d requests (%+v), want 1 for model %q", len(reqs), reqs, tt.wantModel)
			}
		})
	}

	t.Run("ollama without key", func(t *testing.T) {
		isolate(t)
		srv := fakeopenai.New(t, fakeopenai.Options{})
		code, _, errs := runMain(t, "你好。", "--provider", "ollama", "--base-url", srv.URL(), "--no-summary")
		if code != 0 || srv.Count() != 1 {
			t.Fatalf("exit %d, %d requests: %s", code, srv.Count(), errs)
		}
		if h := srv.Requests()[0].Header.Get("Authorization"); h != "" {
			t.Errorf("Authorization %q sent to a local Ollama", h)
		}
	})
}

// TestAzureProvider runs a translation through --provider azure: the
// deployment path, the api-version and the api-key header.
func TestAzureProvider(t *testing.T) {
	const key = "azure-key-0123456789abcdef"
	tests := []struct {
		name, version string
		env           map[string]string
	}{
		{"flags", "2024-10-21", nil},
		{"environment", "2025-01-01-preview", map[string]string{"AZURE_OPENAI_API_VERSION": "2025-01-01-preview", "AZURE_OPENAI_API_KEY": key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			fake := fakeopenai.New(t, fakeopenai.Options{APIKey: key})
			base := fake.Root()
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := []string{"--provider", "azure", "--base-url", base + "/openai/", "--model", "prod-gpt4o", "--no-summary"}
			if tt.env == nil {
				args = append(args, "--api-key", key)
			}
			code, out, errs := runMain(t, "你好。", args...)
			if code != 0 || !strings.Contains(out, fakeopenai.Translate("你好。")) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
			// The fake answered, so the "api-key" header held the key.
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Path != "/openai/deployments/prod-gpt4o/chat/completions" || r.APIVersion != tt.version || r.Auth != "api-key" {
				t.Errorf("request %s?api-version=%s, key sent as %q", r.Path, r.APIVersion, r.Auth)
			}
		})
	}
}
