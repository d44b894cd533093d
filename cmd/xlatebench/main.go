// Command xlatebench is the end-to-end benchmark of issue 4: it builds the
// real xlate binary, runs it against the in-repo fake OpenAI server set to
// realistic provider behaviour, over the corpus replicated to hundreds of
// distinct articles, and prints the figures of the issue with their targets.
//
//	go run ./cmd/xlatebench                 # the full benchmark (about 8 minutes on 2 CPUs)
//	go run ./cmd/xlatebench -quick          # a smoke run (about 1.5 minutes)
//	go run ./cmd/xlatebench -json out.json  # also write the results as JSON
//	go run ./cmd/xlatebench -steps 6        # figure 6 alone: the dry runs (no run 1)
//	go run ./cmd/xlatebench -steps 6 -dry 1000  # ... over 1,000 files only
//
// # What is simulated
//
// The fake runs in this process. Every request is streamed (xlate's
// default) and takes TTFT before the first token, then its answer's tokens
// at TPS tokens per second (defaults 300ms and 100 tok/s, -ttft and -tps).
// 500 such articles take about 55 simulated minutes at concurrency 8, so
// the fake runs -scale times faster (default 20: TTFT 15ms, 2000 tok/s):
// measured ("real") times are multiplied by the scale to give simulated
// ("sim") times, which is exact for the fake's pacing but also multiplies
// xlate's own overhead, so the simulated figures are pessimistic. Ratios
// are the same in both. Run 2's limits are per real minute at that speed
// (the buckets are not scaled). Tokens are the fake's
// approximation (runes/2) for its pacing, usage and rate limits, and real
// o200k_base counts (chunk.Default) for the token economy figures.
//
// The input tree holds -articles files: file i is replica i/49 of corpus
// file i%49 (testdata/corpus). Replica 0 is the corpus itself; replica k
// adds "（k）" after the last Han character of every text run of the file
// (see replica), so each replica is a distinct article with distinct
// paragraphs and title and neither the cache nor in-flight sharing serves
// one replica from another.
//
// # The figures
//
//  1. Cold run at -concurrency: wall time against the ideal bound,
//     max(total service time / concurrency, longest chain), where a
//     request's service time is TTFT + completion tokens / TPS (completion
//     tokens recomputed from the deterministic fake model, which is what its
//     usage reports), and an article's chain is its slowest translation
//     request plus its summary requests (see computeIdeal).
//  2. The same cold run (fresh cache) with -rpm/-tpm limits on the fake and
//     the same --rpm/--tpm given to xlate: wall time against the
//     rate-limit bound (see rateBound; the run's ideal bound when that is
//     larger) and the 429s (share of the requests served). Unless set, the limits
//     are sized from run 1 so that the token limit alone needs -rate-factor
//     times run 1's ideal bound; they are per real minute at the fake's
//     (scaled) speed.
//  3. From run 1: requests per article, and prompt tokens (o200k over the
//     messages of every request the fake answered, summary included) over
//     source tokens (o200k over every article's title and segments that
//     hold Han characters, from article.Parse).
//  4. A warm re-run of the tree with run 1's cache: requests and wall time.
//  5. One paragraph edited in one article (the largest), re-run with that
//     cache: requests made.
//  6. xlate --dry-run over trees of -dry files with an empty cache: CPU
//     time (user+sys), peak RSS (rusage) and wall time. Targets: under 4 s
//     wall for 1,000 files, under 150 MB peak RSS for 10,000.
//
// Each target is printed with PASS or FAIL. The exit status is 0 whatever
// the figures, 1 when xlate itself failed (or the benchmark could not run),
// 2 for a bad command line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/internal/fakeopenai"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the benchmark's command line.
type config struct {
	Articles    int
	Quick       bool
	Scale       float64
	TTFT        time.Duration // simulated
	TPS         float64       // simulated
	Concurrency int
	RPM, TPM    int // per real minute; 0 = sized from run 1
	RateFactor  float64
	Dry         []int
	Steps       string
	JSON        string
	Work        string
	Keep        bool
	Xlate       string
}

const (
	defaultArticles = 500
	defaultScale    = 20
	quickArticles   = 60
	quickScale      = 20
)

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("xlatebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./cmd/xlatebench [flags]\n\nBuilds xlate, runs it against the in-process fake OpenAI server and prints issue 4's figures.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&c.Articles, "articles", defaultArticles, "articles in the input tree (corpus replicas; -quick: 60)")
	fs.BoolVar(&c.Quick, "quick", false, "smoke run: 60 articles, a 20x faster fake, dry runs over 1000 files only")
	fs.Float64Var(&c.Scale, "scale", defaultScale, "time scale: the fake runs this many times faster than the simulated provider; sim times = real × scale (-quick: 20)")
	fs.DurationVar(&c.TTFT, "ttft", 300*time.Millisecond, "simulated time to first token")
	fs.Float64Var(&c.TPS, "tps", 100, "simulated output tokens per second, per request")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "xlate --concurrency")
	fs.IntVar(&c.RPM, "rpm", 0, "run 2: requests per (real) minute on the fake and xlate (0 = sized from run 1)")
	fs.IntVar(&c.TPM, "tpm", 0, "run 2: tokens per (real) minute on the fake and xlate (0 = sized from run 1)")
	fs.Float64Var(&c.RateFactor, "rate-factor", 1.5, "run 2: size the limits so the token bucket needs this many times run 1's ideal bound")
	dry := fs.String("dry", "1000,10000", "run 6: comma-separated tree sizes for --dry-run (empty = skip; -quick: 1000)")
	fs.StringVar(&c.Steps, "steps", "123456", "figures to produce (digits 1-6; 2-5 need run 1, which then always runs)")
	fs.StringVar(&c.JSON, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&c.Work, "work", "", "work directory (default: a new temporary directory, removed at the end)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory")
	fs.StringVar(&c.Xlate, "xlate", "", "use this xlate binary instead of building one")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick {
		if !set["articles"] {
			c.Articles = quickArticles
		}
		if !set["scale"] {
			c.Scale = quickScale
		}
		if !set["dry"] {
			*dry = "1000"
		}
	}
	for _, f := range strings.Split(*dry, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("-dry: bad size %q", f)
		}
		c.Dry = append(c.Dry, n)
	}
	switch {
	case c.Articles <= 0:
		return c, errors.New("-articles must be positive")
	case c.Scale <= 0:
		return c, errors.New("-scale must be positive")
	case c.TTFT < 0 || c.TPS <= 0:
		return c, errors.New("-ttft must not be negative and -tps must be positive")
	case c.Concurrency <= 0:
		return c, errors.New("-concurrency must be positive")
	case c.RPM < 0 || c.TPM < 0 || c.RateFactor <= 0:
		return c, errors.New("-rpm and -tpm must not be negative, -rate-factor must be positive")
	case strings.Trim(c.Steps, "123456") != "":
		return c, fmt.Errorf("-steps: %q is not a set of digits 1-6", c.Steps)
	}
	return c, nil
}

func (c config) step(n int) bool { return strings.ContainsRune(c.Steps, rune('0'+n)) }

// fake returns the fake's options for this run: the simulated pacing,
// scaled.
func (c config) fake() fakeopenai.Options {
	p := c.provider()
	return fakeopenai.Options{TTFT: p.TTFT, TokensPerSecond: p.TPS}
}

// provider is the fake's real pacing.
func (c config) provider() provider {
	return provider{TTFT: time.Duration(float64(c.TTFT) / c.Scale), TPS: c.TPS * c.Scale}
}

// errXlate marks a failure of xlate itself (exit status 1).
var errXlate = errors.New("xlate failed")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "xlatebench: %v\n", err)
		return 2
	}
	b := &bench{cfg: c, out: stdout, log: stderr, res: &results{}}
	err = b.run(ctx)
	if c.JSON != "" {
		if werr := writeJSON(c.JSON, b.res); werr != nil {
			fmt.Fprintf(stderr, "xlatebench: %v\n", werr)
			if err == nil {
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "xlatebench: %v\n", err)
		return 1
	}
	return 0
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// bench is one benchmark run.
type bench struct {
	cfg    config
	out    io.Writer
	log    io.Writer
	res    *results
	work   string
	x      *runner
	corpus []corpusFile
	tree   string
	layout []treeFile
	cold   []fakeopenai.Recorded // run 1's requests
	coldIB idealBound
}

func (b *bench) run(ctx context.Context) error {
	c := b.cfg
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if b.corpus, err = loadCorpus(filepath.Join(root, "testdata", "corpus")); err != nil {
		return err
	}
	if b.work = c.Work; b.work == "" {
		if b.work, err = os.MkdirTemp("", "xlatebench"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		if !c.Keep {
			defer os.RemoveAll(b.work)
		}
	} else if err := os.MkdirAll(b.work, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	bin := c.Xlate
	if bin == "" {
		b.logf("building xlate from %s", root)
		if bin, err = buildXlate(ctx, root, b.work); err != nil {
			return err
		}
	}
	feat, err := detectFeatures(ctx, bin)
	if err != nil {
		return err
	}
	home := filepath.Join(b.work, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	b.x = &runner{bin: bin, home: home, features: feat}

	// Start from a clean slate when -work is reused: no cache, output,
	// report or tree of an earlier run may leak into this one.
	for _, pat := range []string{"tree", "cache-*", "out-*", "report-*", "dry-*", "requests-*"} {
		old, _ := filepath.Glob(filepath.Join(b.work, pat))
		for _, o := range old {
			if err := os.RemoveAll(o); err != nil {
				return fmt.Errorf("work dir: %w", err)
			}
		}
	}
	b.tree = filepath.Join(b.work, "tree")
	if b.layout, err = writeTree(b.tree, b.corpus, c.Articles); err != nil {
		return err
	}
	p := c.provider()
	b.res.Setup = setup{
		Articles: c.Articles, CorpusFiles: len(b.corpus), Replicas: (c.Articles + len(b.corpus) - 1) / len(b.corpus),
		Concurrency: c.Concurrency, Scale: c.Scale,
		SimTTFTms: ms(c.TTFT), SimTPS: c.TPS, RealTTFTms: ms(p.TTFT), RealTPS: p.TPS,
		Stream: true, Model: "gpt-4o-mini", MissingFlags: feat.missing(),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s (the fake shares them with xlate)", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
	}
	b.printSetup()

	if c.step(1) || c.step(2) || c.step(3) || c.step(4) || c.step(5) {
		if err := b.coldRun(ctx); err != nil {
			return err
		}
	}
	steps := []struct {
		n int
		f func(context.Context) error
	}{{2, b.rateRun}, {3, b.economy}, {4, b.warmRun}, {5, b.editRun}, {6, b.dryRuns}}
	for _, s := range steps {
		if !c.step(s.n) {
			continue
		}
		if err := s.f(ctx); err != nil {
			return err
		}
	}
	b.printTargets()
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "xlatebench: "+format+"\n", args...)
}

// startFake starts the fake with the run's pacing and the given limits.
func (b *bench) startFake(rpm, tpm int) (*fakeopenai.Server, error) {
	o := b.cfg.fake()
	o.RPM, o.TPM = rpm, tpm
	s, err := fakeopenai.Start(o)
	if err != nil {
		return nil, fmt.Errorf("start fake: %w", err)
	}
	b.x.baseURL = s.URL()
	return s, nil
}

// translate runs xlate over the tree (or paths) with the cache in cacheDir.
func (b *bench) translate(ctx context.Context, name, cacheDir string, extra ...string) (*xlateRun, error) {
	args := append([]string{"-q", "--concurrency", strconv.Itoa(b.cfg.Concurrency), "-o", filepath.Join(b.work, "out-"+name)}, extra...)
	args = append(args, b.tree)
	r, err := b.x.run(ctx, cacheDir, filepath.Join(b.work, "report-"+name+".json"), args...)
	if err != nil {
		return r, err
	}
	if r.Exit != 0 {
		return r, fmt.Errorf("%w: %s", errXlate, r.failure())
	}
	return r, nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// secs is a duration in real seconds and, scaled, simulated seconds.
type secs struct {
	Real float64 `json:"real_s"`
	Sim  float64 `json:"sim_s"`
}

func (b *bench) secs(d time.Duration) secs {
	return secs{Real: round3(d.Seconds()), Sim: round3(d.Seconds() * b.cfg.Scale)}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// hasHan reports whether s holds a Han character.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// sourceTokens counts, with the o200k counter, the Chinese text of every
// file of the tree: the title and each segment that holds Han characters.
func (b *bench) sourceTokens() (tokens, articles int, err error) {
	counter := chunk.Default()
	for _, tf := range b.layout {
		p := filepath.Join(b.tree, filepath.FromSlash(tf.Rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return 0, 0, fmt.Errorf("source tokens: %w", err)
		}
		a, err := article.Parse(data, article.SyntaxAuto)
		if err != nil {
			continue // xlate reports it as a failed file
		}
		articles++
		if hasHan(a.Title) {
			tokens += counter.Count(a.Title)
		}
		for _, s := range a.Segments(false) {
			if hasHan(s.Text) {
				tokens += counter.Count(s.Text)
			}
		}
	}
	return tokens, articles, nil
}

// kinds counts the served chat requests of recs by kind and the 429s.
func kinds(recs []fakeopenai.Recorded) (translate, summary, other, limited int) {
	for i := range recs {
		r := &recs[i]
		switch {
		case !isChat(r):
		case r.RateLimited:
			limited++
		case r.Kind == fakeopenai.KindTranslate:
			translate++
		case r.Kind == fakeopenai.KindSummary:
			summary++
		default:
			other++
		}
	}
	return
}

// perArticle returns the served requests per article title, sorted by count
// (most first). Requests without a title line are left out.
func perArticle(recs []fakeopenai.Recorded) []articleCount {
	m := map[string]int{}
	for i := range recs {
		if served(&recs[i]) {
			if a := articleOf(&recs[i]); a != "" {
				m[a]++
			}
		}
	}
	out := make([]articleCount, 0, len(m))
	for k, v := range m {
		out = append(out, articleCount{Title: k, Requests: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return out[i].Title < out[j].Title
	})
	return out
}

type articleCount struct {
	Title    string
	Requests int
}
