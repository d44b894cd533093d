// Package cli is xlate's command line: it turns flags, environment and
// arguments into one call of the pipeline and the run's outcome into an exit
// code. It holds no translation logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/internal/pricing"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
	"github.com/xlate/xlate/render"
	"github.com/xlate/xlate/translate"
)

// Exit codes.
const (
	ExitOK          = 0   // everything done
	ExitFailed      = 1   // some files failed
	ExitUsage       = 2   // bad command line or configuration
	ExitInterrupted = 130 // stopped by Ctrl-C or SIGTERM
)

// Version is set at build time with -ldflags "-X github.com/xlate/xlate/internal/cli.Version=...".
var Version = "dev"

// Streams are the process's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// usageError marks errors that mean "the command line is wrong".
type usageError struct{ error }

// Main runs xlate with args (without the program name) and returns the exit
// code. ctx is cancelled on Ctrl-C.
func Main(ctx context.Context, args []string, s Streams) int {
	app := newApp(s)
	err := app.RunContext(ctx, append([]string{"xlate"}, reorder(args, app.Flags)...))
	return exitCode(err, s.Err)
}

// exitCode maps the run's error to an exit code, printing it in xlate's
// voice: "xlate: " prefix, lowercase, one line.
func exitCode(err error, stderr io.Writer) int {
	var code exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "xlate: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(stderr, "xlate: %v\n", err)
	var ue usageError
	var pu *pipeline.UsageError
	if errors.As(err, &ue) || errors.As(err, &pu) || isFlagError(err) {
		fmt.Fprintln(stderr, "hint: run 'xlate --help' for usage")
		return ExitUsage
	}
	return ExitFailed
}

// exitError carries an exit code whose message was already printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// isFlagError recognises urfave/cli's (untyped) flag parsing errors.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "Required flag"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func newApp(s Streams) *cli.App {
	return &cli.App{
		Name:      "xlate",
		Usage:     "translate Chinese articles into bilingual English markdown with a summary",
		UsageText: "xlate [flags] [PATH...]\n\nPATH is a file, a directory (walked for .txt .md .markdown .html .htm) or - for stdin; no PATH reads stdin.",
		Description: `Examples:
   xlate article.md                   one file, bilingual markdown to stdout
   cat article.txt | xlate            stdin to stdout
   xlate -o out/ archive/             a whole tree, mirrored into out/ as <name>.md
   xlate --layout english -o en.md a.md
   OPENAI_BASE_URL=http://localhost:11434/v1 XLATE_MODEL=qwen2.5:7b xlate a.md   (Ollama, no key)

Exit status: 0 all done, 1 some files failed, 2 usage or configuration error, 130 interrupted.`,
		Version:         Version,
		Reader:          s.In,
		Writer:          s.Out,
		ErrWriter:       s.Err,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // exit codes are mapped in Main
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err} // a one-line error and a hint, not the whole help
		},
		Flags: flags(),
		Action: func(c *cli.Context) error {
			opts, err := optionsFrom(c)
			if err != nil {
				return err
			}
			return run(c.Context, opts, s)
		},
	}
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output `FILE` for one input, or output `DIR` for a directory or several inputs (default: stdout)"},
		&cli.StringFlag{Name: "base-url", EnvVars: []string{"OPENAI_BASE_URL"}, Value: llm.DefaultBaseURL, Usage: "OpenAI-compatible API `URL` (OpenAI, DeepSeek, Ollama, vLLM, llama.cpp server)"},
		&cli.StringFlag{Name: "api-key", EnvVars: []string{"OPENAI_API_KEY"}, Usage: "API `KEY` (not needed for a local server)"},
		&cli.StringFlag{Name: "model", EnvVars: []string{"XLATE_MODEL"}, Value: "gpt-4o-mini", Usage: "model `NAME`"},
		&cli.StringFlag{Name: "cache-dir", EnvVars: []string{"XLATE_CACHE_DIR"}, Usage: "translation cache `DIR` (default: the user cache dir + /xlate)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "neither read nor write the cache"},
		&cli.BoolFlag{Name: "no-summary", Usage: "skip the summary"},
		&cli.StringFlag{Name: "layout", Value: "bilingual", Usage: "`bilingual` (original, then translation) or english (translation only)"},
		&cli.IntFlag{Name: "chunk-tokens", Value: translate.DefaultBudget, Usage: "source tokens per translation request (the chunk budget)"},
		&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "requests in flight at once"},
		&cli.BoolFlag{Name: "stream", Value: true, Usage: "stream answers (SSE); --stream=false for servers that cannot"},
		&cli.IntFlag{Name: "retries", Value: 4, Usage: "retries of a failed request (429, 5xx, timeouts)"},
		&cli.DurationFlag{Name: "retry-backoff", Value: time.Second, Usage: "base of the exponential backoff between retries (when the server does not say how long to wait)"},
		&cli.DurationFlag{Name: "timeout", Value: 120 * time.Second, Usage: "time limit of one request"},
		&cli.DurationFlag{Name: "stall-timeout", Value: 60 * time.Second, Usage: "streaming: give up on (and retry) a request that sends nothing for this long"},
		&cli.IntFlag{Name: "rpm", Usage: "client-side limit: requests per minute (0 = none); set it just under your provider's limit"},
		&cli.IntFlag{Name: "tpm", Usage: "client-side limit: tokens per minute, prompt plus answer (0 = none)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "parse, chunk and consult the cache, then print the plan (requests, tokens, cost) without calling the API"},
		&cli.StringFlag{Name: "report", Usage: "write the run's figures (or the dry run's plan) as JSON to `FILE`"},
		&cli.Float64Flag{Name: "price-in", Usage: "price of prompt tokens, USD per million (default: built-in table for the model)"},
		&cli.Float64Flag{Name: "price-out", Usage: "price of answer tokens, USD per million (default: built-in table for the model)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors (no progress, no summary line)"},
		&cli.BoolFlag{Name: "verbose", Usage: "log each request to stderr"},
	}
}

// options is everything a run needs, resolved from flags and environment.
type options struct {
	inputs      []string
	output      string
	baseURL     string
	apiKey      string
	model       string
	cacheDir    string
	noCache     bool
	noSummary   bool
	layout      render.Layout
	chunkTokens int
	concurrency int
	stream      bool
	retries     int
	timeout     time.Duration
	stall       time.Duration
	backoff     time.Duration
	quiet       bool
	verbose     bool
	rpm, tpm    int
	dryRun      bool
	report      string
	price       pricing.Price
	priceKnown  bool
}

func optionsFrom(c *cli.Context) (options, error) {
	o := options{
		inputs:      c.Args().Slice(),
		output:      c.String("output"),
		baseURL:     strings.TrimRight(c.String("base-url"), "/"),
		apiKey:      c.String("api-key"),
		model:       c.String("model"),
		cacheDir:    c.String("cache-dir"),
		noCache:     c.Bool("no-cache"),
		noSummary:   c.Bool("no-summary"),
		chunkTokens: c.Int("chunk-tokens"),
		concurrency: c.Int("concurrency"),
		stream:      c.Bool("stream"),
		retries:     c.Int("retries"),
		timeout:     c.Duration("timeout"),
		stall:       c.Duration("stall-timeout"),
		backoff:     c.Duration("retry-backoff"),
		quiet:       c.Bool("quiet"),
		verbose:     c.Bool("verbose"),
		rpm:         c.Int("rpm"),
		tpm:         c.Int("tpm"),
		dryRun:      c.Bool("dry-run"),
		report:      c.String("report"),
	}
	o.price, o.priceKnown = pricing.Lookup(o.model)
	if c.IsSet("price-in") || c.IsSet("price-out") {
		o.price = pricing.Price{In: c.Float64("price-in"), Out: c.Float64("price-out")}
		o.priceKnown = true
	}
	var err error
	if o.layout, err = render.ParseLayout(c.String("layout")); err != nil {
		return o, usageError{fmt.Errorf("--layout: %w", err)}
	}
	switch {
	case o.model == "":
		return o, usageError{errors.New("--model is empty: name a model (or set XLATE_MODEL)")}
	case o.chunkTokens < 64:
		return o, usageError{fmt.Errorf("--chunk-tokens %d is too small: use 64 or more", o.chunkTokens)}
	case o.concurrency < 1:
		return o, usageError{fmt.Errorf("--concurrency %d: use 1 or more", o.concurrency)}
	case o.rpm < 0 || o.tpm < 0:
		return o, usageError{errors.New("--rpm and --tpm take 0 (no limit) or more")}
	case o.retries < 0:
		return o, usageError{fmt.Errorf("--retries %d: use 0 or more", o.retries)}
	case o.timeout <= 0:
		return o, usageError{fmt.Errorf("--timeout %v: use a positive duration such as 2m", o.timeout)}
	case o.backoff <= 0:
		return o, usageError{fmt.Errorf("--retry-backoff %v: use a positive duration such as 1s", o.backoff)}
	case o.stall <= 0:
		return o, usageError{fmt.Errorf("--stall-timeout %v: use a positive duration such as 1m", o.stall)}
	case o.apiKey == "" && !llm.IsLocal(o.baseURL) && !o.dryRun:
		if o.baseURL == llm.DefaultBaseURL {
			return o, usageError{errors.New("no API key: set OPENAI_API_KEY (or pass --api-key), or point --base-url at a local server")}
		}
		return o, usageError{fmt.Errorf("no API key for %s: set OPENAI_API_KEY (or pass --api-key)", o.baseURL)}
	}
	return o, nil
}
