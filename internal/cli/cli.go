// Package cli is xlate's command line: it turns flags, environment and
// arguments into one call of the pipeline and the run's outcome into an exit
// code. It holds no translation logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/xlate/xlate/article"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/internal/pricing"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
	"github.com/xlate/xlate/render"
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

// setupError is a usage error (exit 2) without the hint: the command line
// is right, but what it names cannot work, such as an output directory
// that cannot be written.
type setupError struct{ error }

// Main runs xlate with args (without the program name) and returns the exit
// code. ctx is cancelled on Ctrl-C.
func Main(ctx context.Context, args []string, s Streams) int {
	app := newApp(s)
	st := newStyle(s.Err)
	if n := len(args); n > 0 && args[n-1] == completeFlag {
		complete(s.Out, app, args[:n-1])
		return ExitOK
	}
	commands := commandSet(app)
	args = reorder(args, app.Flags, commands)
	if name, rest := firstCommand(args, app.Flags, commands); name != "" {
		commandFileNote(s.Err, name, st)
		if name == "help" {
			var err error
			if args, err = helpArgs(app, args, len(args)-len(rest)-1); err != nil {
				return exitCode(err, s.Err, st)
			}
		}
	}
	err := app.RunContext(ctx, append([]string{"xlate"}, args...))
	return exitCode(err, s.Err, st)
}

func commandSet(app *cli.App) map[string]bool {
	m := map[string]bool{}
	for _, c := range app.Commands {
		m[c.Name] = true
	}
	return m
}

// exitCode maps the run's error to an exit code, printing it in xlate's
// voice: "xlate: " prefix, lowercase, one line.
func exitCode(err error, stderr io.Writer, st style) int {
	var code exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, st.prefix(), "interrupted")
		return ExitInterrupted
	}
	fmt.Fprintln(stderr, st.prefix(), escapeControls(err.Error()))
	if errors.As(err, new(setupError)) {
		return ExitUsage
	}
	var h hinter
	if errors.As(err, &h) {
		if line := h.hint(); line != "" {
			fmt.Fprintln(stderr, line)
		}
		return ExitUsage
	}
	var ue usageError
	var pu *pipeline.UsageError
	if errors.As(err, &ue) || errors.As(err, &pu) {
		fmt.Fprintln(stderr, "hint: run 'xlate --help' for usage")
		return ExitUsage
	}
	return ExitFailed
}

// exitError carries an exit code whose message was already printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// description is the body of --help: examples for each mode, the
// providers, configuration and precedence, exit status.
func description() string {
	return `Examples:
   xlate article.md                        one file, bilingual markdown to stdout
   cat article.txt | xlate                 stdin to stdout
   xlate -o out/ archive/                  a whole tree, mirrored into out/ as <name>.md
   xlate --suffix .en -o content/ archive/ Hugo multilingual names: article.en.md
   xlate --layout english -o en.md a.md    the translation only
   xlate --to French a.md                  another target language
   xlate --glossary names.csv a.md         fixed renderings of names and terms
   xlate --provider deepseek a.md          DeepSeek, key in DEEPSEEK_API_KEY
   xlate --provider ollama a.md            a local Ollama model (qwen2.5:7b), no key
   xlate --provider azure --base-url https://NAME.openai.azure.com --model DEPLOYMENT a.md
   xlate --base-url http://gpu:8000/v1 --model Qwen2.5-32B a.md   any OpenAI-compatible server
   xlate --dry-run -o out/ archive/        requests, tokens and cost, without calling the API
   xlate batch prepare -o job/ archive/    batch files for the OpenAI Batch API or vLLM run_batch (xlate batch --help)
   xlate config                            every setting, its value and where it came from
   xlate cache stats                       entries and size of the cache
   xlate cache prune --older-than 30d      drop cache entries older than 30 days
   xlate completion bash                   shell completion (bash, zsh, fish) or the man page (man)
   xlate help cache                        the help of a command (as xlate cache --help)
   xlate version                           the version, its commit and date (as xlate --version)
   xlate ./config                          a file named like a command (batch, cache, completion, config, help, version)

Providers (--provider, default openai):
` + providerTable() + `

Configuration:
   Each setting is taken from, strongest first: its flag, its environment variable, the config
   file, the provider preset, the built-in default. The config file is YAML keyed by the long
   flag names (all but output, report and dry-run), at $XDG_CONFIG_HOME/xlate/config.yaml
   (default ~/.config/xlate/config.yaml) or --config FILE (env XLATE_CONFIG); a relative path in
   it is relative to the file. For example:
      provider: deepseek
      to: English
      concurrency: 4
      cache-dir: ~/.cache/xlate
   "xlate config" prints the effective settings and their sources.

Exit status: 0 all done, 1 some files failed, 2 usage or configuration error, 130 interrupted.
Colours only on a terminal, and never with NO_COLOR set.`
}

func newApp(s Streams) *cli.App {
	app := &cli.App{
		Name:                 "xlate",
		HelpName:             "xlate",
		Usage:                "translate Chinese articles into bilingual English markdown with a summary",
		UsageText:            "xlate [flags] [PATH...]\nxlate batch prepare|submit|status|collect | config | cache stats|clear|prune | completion bash|zsh|fish|man | help [COMMAND] | version\n\nPATH is a file, a directory (walked for .txt .md .markdown .html .htm) or - for stdin; no PATH reads stdin (Ctrl-D ends it on a terminal).",
		Description:          description(),
		Version:              buildVersion(),
		Reader:               s.In,
		Writer:               s.Out,
		ErrWriter:            s.Err,
		HideHelpCommand:      true,
		EnableBashCompletion: true,                         // Main answers the protocol itself (complete)
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are mapped in Main
		OnUsageError:         onUsageError,                 // a one-line error and a hint, not the whole help
		// The help command stops urfave/cli from adding --help: add it.
		Flags: append(flags(), cli.HelpFlag),
		Commands: []*cli.Command{batchCommand(s), cacheCommand(s), completionCommand(s), configCommand(s),
			helpCommand(), tmCommand(s), versionCommand()},
		Action: func(c *cli.Context) error {
			inputs := c.Args().Slice()
			if len(inputs) > 0 {
				if err := unknownCommand(inputs[0], commandNames(c.App)); err != nil {
					return err
				}
			}
			missing := missingInputs(inputs)
			st, err := resolveSettings(c)
			if err == nil {
				var opts options
				if opts, err = optionsFrom(c, st); err == nil {
					if stdinHint(opts, isTerminalReader(s.In)) {
						fmt.Fprintln(s.Err, stdinHintLine)
					}
					return run(c.Context, opts, s) // which reports the missing inputs
				}
			}
			// The settings cannot run: a missing input is said first, and
			// when every input is missing, it is the one thing to fix.
			errorf := newStyle(s.Err).lines(s.Err)
			for _, e := range missing {
				errorf("%v", e)
			}
			if len(missing) > 0 && len(missing) == namedInputs(inputs) {
				return exitError(ExitFailed)
			}
			return err
		},
	}
	tidyFlags(app.Flags)
	setupCommands(app.Commands)
	return app
}

// options is everything a run needs, resolved from flags, environment,
// config file and provider preset.
type options struct {
	inputs      []string
	output      string
	provider    provider
	baseURL     string
	apiKey      string
	apiVersion  string // azure
	model       string
	modelFrom   string // where the model name came from ("flag", "env XLATE_MODEL", …)
	lang        string
	glossary    string // path
	suffix      string
	cacheDir    string
	noCache     bool
	memoryDir   string
	force       bool
	noSummary   bool
	acceptSus   bool
	layout      render.Layout
	syntax      article.Syntax
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
	priceGiven  bool // --price-in or --price-out
}

// optionsFrom reads and checks the settings; st is resolveSettings' result.
func optionsFrom(c *cli.Context, st *settings) (options, error) {
	return resolveOptions(c, st, !c.Bool("dry-run"))
}

// resolveOptions is optionsFrom for commands that may not need the API
// (keyNeeded false: no key is required).
func resolveOptions(c *cli.Context, st *settings, keyNeeded bool) (options, error) {
	o := options{
		inputs:      c.Args().Slice(),
		output:      c.String("output"),
		provider:    st.provider,
		baseURL:     strings.TrimRight(strings.TrimSpace(c.String("base-url")), "/"),
		apiKey:      strings.TrimSpace(c.String("api-key")),
		apiVersion:  c.String("azure-api-version"),
		model:       strings.TrimSpace(c.String("model")),
		modelFrom:   st.sources["model"].String(),
		lang:        strings.TrimSpace(c.String("to")),
		glossary:    c.String("glossary"),
		suffix:      suffix(c.String("suffix")),
		cacheDir:    c.String("cache-dir"),
		noCache:     c.Bool("no-cache"),
		memoryDir:   c.String("memory-dir"),
		force:       c.Bool("force"),
		noSummary:   c.Bool("no-summary"),
		acceptSus:   c.Bool("accept-suspect"),
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
	p := o.provider
	if p.azure {
		// The endpoint is the resource's; go-openai adds /openai/deployments/….
		o.baseURL = strings.TrimSuffix(o.baseURL, "/openai")
	}
	o.price, o.priceKnown = pricing.Lookup(o.model)
	if c.IsSet("price-in") || c.IsSet("price-out") {
		o.price = pricing.Price{In: c.Float64("price-in"), Out: c.Float64("price-out")}
		o.priceKnown, o.priceGiven = true, true
	}
	var err error
	if o.layout, err = render.ParseLayout(c.String("layout")); err != nil {
		return o, usageError{fmt.Errorf("--layout: %w", err)}
	}
	if o.syntax, err = article.ParseSyntax(c.String("format")); err != nil {
		return o, usageError{fmt.Errorf("--format: %w", err)}
	}
	needKey := p.keyEnv != "" && (p.azure || !llm.IsLocal(o.baseURL)) && keyNeeded
	switch {
	case p.azure && o.baseURL == "":
		return o, usageError{errors.New("--provider azure needs --base-url: your resource's endpoint, https://NAME.openai.azure.com (or set AZURE_OPENAI_ENDPOINT)")}
	case o.baseURL == "":
		return o, usageError{errors.New("--base-url is empty: name the API's URL, or choose a --provider")}
	case p.azure && o.model == "":
		return o, usageError{errors.New("--provider azure needs --model: the name of your deployment")}
	case o.model == "":
		return o, usageError{errors.New("--model is empty: name a model (or set XLATE_MODEL)")}
	case o.lang == "":
		return o, usageError{errors.New("--to is empty: name the target language, such as English")}
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
	case o.apiKey == "" && needKey:
		if p.name == defaultProvider && o.baseURL == p.baseURL {
			return o, usageError{fmt.Errorf("no API key: set %s (or pass --api-key), or point --base-url at a local server", p.keyEnv)}
		}
		if o.baseURL != p.baseURL && !p.azure {
			return o, usageError{fmt.Errorf("no API key for %s: set %s (or pass --api-key)", o.baseURL, p.keyEnv)}
		}
		return o, usageError{fmt.Errorf("no API key: set %s (or pass --api-key)", p.keyEnv)}
	}
	return o, nil
}

// suffix normalises --suffix: "en" means ".en".
func suffix(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.ContainsAny(s[:1], ".-_") {
		s = "." + s
	}
	return s
}
