package cli

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/translate"
)

// Flag categories in --help.
const (
	catProvider    = "Model" // categories are listed in alphabetical order
	catOutput      = "Output"
	catRequests    = "Requests"
	catRun         = "Run"
	catTranslation = "Translation"
)

// settingEnv are the environment variables of settings, besides the
// provider-dependent ones of --base-url and --api-key (see envFor). Flags
// carry no urfave EnvVars: xlate resolves environment, config file and
// presets itself (resolveSettings), so the env hints are in the usage texts.
var settingEnv = map[string]string{
	"provider":          "XLATE_PROVIDER",
	"model":             "XLATE_MODEL",
	"to":                "XLATE_TO",
	"glossary":          "XLATE_GLOSSARY",
	"cache-dir":         "XLATE_CACHE_DIR",
	"memory-dir":        "XLATE_MEMORY_DIR",
	"config":            "XLATE_CONFIG",
	"azure-api-version": "AZURE_OPENAI_API_VERSION",
}

// notInConfig are the flags that describe one run rather than a standing
// preference: a config file may not set them.
var notInConfig = map[string]bool{"output": true, "dry-run": true, "report": true, "config": true, "force": true}

// pathSettings hold paths: in a config file, "~/" is the home directory and
// a relative path is relative to the file's directory.
var pathSettings = map[string]bool{"cache-dir": true, "glossary": true, "memory-dir": true}

// envFor returns the environment variable read for the flag name under
// provider p ("" = none).
func envFor(name string, p provider) string {
	switch name {
	case "base-url":
		return p.baseURLEnv
	case "api-key":
		return p.keyEnv
	}
	return settingEnv[name]
}

func flags() []cli.Flag {
	return []cli.Flag{
		// Provider and model.
		&cli.StringFlag{Category: catProvider, Name: "provider", Usage: "preset `NAME`: " + providerNames() + " (sets base URL, key variable, default model) (env XLATE_PROVIDER)", Value: defaultProvider},
		&cli.StringFlag{Category: catProvider, Name: "base-url", Usage: "OpenAI-compatible API `URL`; for azure the resource endpoint https://NAME.openai.azure.com (default: the provider's) (env OPENAI_BASE_URL with openai, AZURE_OPENAI_ENDPOINT with azure)"},
		&cli.StringFlag{Category: catProvider, Name: "api-key", Usage: "secret `KEY` of the API (not needed for a local server) (env OPENAI_API_KEY, DEEPSEEK_API_KEY, OPENROUTER_API_KEY or AZURE_OPENAI_API_KEY, by provider)"},
		&cli.StringFlag{Category: catProvider, Name: "model", Usage: "model `NAME`; for azure the deployment name (default: the provider's) (env XLATE_MODEL)"},
		&cli.StringFlag{Category: catProvider, Name: "azure-api-version", Value: llm.DefaultAzureAPIVersion, Usage: "Azure OpenAI api-version `VERSION` (env AZURE_OPENAI_API_VERSION)"},
		&cli.StringFlag{Category: catTranslation, Name: "to", Value: "English", Usage: "target `LANGUAGE` (env XLATE_TO)"},
		&cli.StringFlag{Category: catTranslation, Name: "glossary", Usage: "glossary `FILE` (.csv, .tsv, .txt or .yaml: Chinese term, rendering): every occurrence of a term is translated as given (env XLATE_GLOSSARY)"},
		&cli.StringFlag{Category: catProvider, Name: "config", Usage: "config `FILE` (default: $XDG_CONFIG_HOME/xlate/config.yaml or ~/.config/xlate/config.yaml) (env XLATE_CONFIG)"},

		// Input and output.
		&cli.StringFlag{Category: catOutput, Name: "output", Aliases: []string{"o"}, Usage: "output `FILE` for one input, or output DIR for a directory or several inputs (default: stdout)"},
		&cli.StringFlag{Category: catOutput, Name: "suffix", Usage: "`SUFFIX` of output names in a directory: .en names them article.en.md (Hugo's multilingual naming)"},
		&cli.StringFlag{Category: catOutput, Name: "format", Value: "auto", Usage: "`SYNTAX` of the inputs' bodies: auto (from the content: HTML markup means HTML, else markdown or plain text), html, markdown or text; front matter is found by content either way"},
		&cli.StringFlag{Category: catTranslation, Name: "layout", Value: "bilingual", Usage: "`bilingual` (original, then translation) or english (translation only)"},
		&cli.BoolFlag{Category: catTranslation, Name: "no-summary", Usage: "skip the summary"},
		&cli.BoolFlag{Category: catTranslation, Name: "accept-suspect", Usage: "when a segment never gets a plausible answer, take its last answer with a warning instead of failing the file (for false alarms; see --report)"},
		&cli.StringFlag{Category: catOutput, Name: "cache-dir", Usage: "translation cache `DIR` (default: the user cache dir + /xlate) (env XLATE_CACHE_DIR)"},
		&cli.BoolFlag{Category: catOutput, Name: "no-cache", Usage: "neither read nor write the cache (the translation memory is still used)"},
		&cli.StringFlag{Category: catOutput, Name: "memory-dir", Usage: "translation memory `DIR`: your pinned translations and the record of each output written (default: $XDG_DATA_HOME/xlate or ~/.local/share/xlate) (env XLATE_MEMORY_DIR)"},
		&cli.BoolFlag{Category: catOutput, Name: "force", Usage: "overwrite an output whose hand edits cannot be read back, after saving it as NAME.orig"},

		// Requests.
		&cli.IntFlag{Category: catRequests, Name: "chunk-tokens", Value: translate.DefaultBudget, Usage: "source tokens per translation request (the chunk budget)"},
		&cli.IntFlag{Category: catRequests, Name: "concurrency", Value: 8, Usage: "requests in flight at once"},
		&cli.BoolFlag{Category: catRequests, Name: "stream", Value: true, Usage: "stream answers (SSE); --stream=false for servers that cannot"},
		&cli.IntFlag{Category: catRequests, Name: "retries", Value: 4, Usage: "retries of a failed request (429, 5xx, timeouts)"},
		&cli.DurationFlag{Category: catRequests, Name: "retry-backoff", Value: time.Second, Usage: "base of the exponential backoff between retries (when the server does not say how long to wait)"},
		&cli.DurationFlag{Category: catRequests, Name: "timeout", Value: 120 * time.Second, Usage: "time limit of one request; streaming, the time the answer has to begin (then only --stall-timeout applies)"},
		&cli.DurationFlag{Category: catRequests, Name: "stall-timeout", Value: 60 * time.Second, Usage: "streaming: give up on (and retry) a request that sends nothing for this long"},
		&cli.IntFlag{Category: catRequests, Name: "rpm", Usage: "client-side limit: requests per minute (0 = none); set it just under your provider's limit"},
		&cli.IntFlag{Category: catRequests, Name: "tpm", Usage: "client-side limit: tokens per minute, prompt plus answer (0 = none)"},

		// Run.
		&cli.BoolFlag{Category: catRun, Name: "dry-run", Usage: "parse, chunk and consult the cache, then print the plan (requests, tokens, cost) without calling the API"},
		&cli.StringFlag{Category: catRun, Name: "report", Usage: "write the run's figures (or the dry run's plan) as JSON to `FILE`"},
		&cli.Float64Flag{Category: catRun, Name: "price-in", Usage: "price of prompt tokens, `USD` per million", DefaultText: "built-in table for the model"},
		&cli.Float64Flag{Category: catRun, Name: "price-out", Usage: "price of answer tokens, `USD` per million", DefaultText: "built-in table for the model"},
		&cli.BoolFlag{Category: catRun, Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors (no progress, no summary line)"},
		&cli.BoolFlag{Category: catRun, Name: "verbose", Usage: "log each request and file to stderr (never the key or the article text)"},
	}
}
