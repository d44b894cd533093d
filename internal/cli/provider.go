package cli

import (
	"fmt"
	"strings"
)

// provider is a --provider preset: where the API is, which environment
// variable holds its key and which model to use when none is named. A
// preset's values rank below flags, environment and config file.
type provider struct {
	name    string
	baseURL string // "" = must be given (azure)
	// baseURLEnv is read for --base-url with this provider ("" = none).
	baseURLEnv string
	// keyEnv holds the API key ("" = none needed, as for Ollama).
	keyEnv string
	model  string // "" = --model is required (azure: the deployment name)
	azure  bool
}

// providers are the presets, by name.
var providers = map[string]provider{
	"openai":     {name: "openai", baseURL: "https://api.openai.com/v1", baseURLEnv: "OPENAI_BASE_URL", keyEnv: "OPENAI_API_KEY", model: "gpt-4o-mini"},
	"deepseek":   {name: "deepseek", baseURL: "https://api.deepseek.com/v1", keyEnv: "DEEPSEEK_API_KEY", model: "deepseek-chat"},
	"ollama":     {name: "ollama", baseURL: "http://localhost:11434/v1", model: "qwen2.5:7b"},
	"openrouter": {name: "openrouter", baseURL: "https://openrouter.ai/api/v1", keyEnv: "OPENROUTER_API_KEY", model: "openai/gpt-4o-mini"},
	"azure":      {name: "azure", baseURLEnv: "AZURE_OPENAI_ENDPOINT", keyEnv: "AZURE_OPENAI_API_KEY", azure: true},
}

// defaultProvider is the preset without --provider.
const defaultProvider = "openai"

// providerOrder lists the presets for help texts.
var providerOrder = []string{"openai", "deepseek", "ollama", "openrouter", "azure"}

func providerNames() string { return strings.Join(providerOrder, ", ") }

func lookupProvider(name string) (provider, error) {
	p, ok := providers[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return provider{}, fmt.Errorf("unknown provider %q: use one of %s (or --base-url for any OpenAI-compatible server)", name, providerNames())
	}
	return p, nil
}

// providerTable is the providers section of --help.
func providerTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "   %-11s %-29s %-21s %s\n", "PROVIDER", "BASE URL", "KEY FROM", "DEFAULT MODEL")
	for _, n := range providerOrder {
		p := providers[n]
		url, key, model := p.baseURL, p.keyEnv, p.model
		if url == "" {
			url = "--base-url (required)"
		}
		if key == "" {
			key = "(no key)"
		}
		if model == "" {
			model = "--model (required)"
		}
		fmt.Fprintf(&b, "   %-11s %-29s %-21s %s\n", n, url, key, model)
	}
	return strings.TrimRight(b.String(), "\n")
}
