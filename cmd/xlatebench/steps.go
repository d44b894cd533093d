package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/internal/fakeopenai"
)

// results is everything the benchmark measured, as written by -json.
// Durations are seconds; secs values carry real and simulated seconds.
type results struct {
	Setup   setup          `json:"setup"`
	Cold    *coldResult    `json:"cold_run,omitempty"`
	Rate    *rateResult    `json:"rate_limited_run,omitempty"`
	Economy *economyResult `json:"token_economy,omitempty"`
	Warm    *rerunResult   `json:"warm_rerun,omitempty"`
	Edit    *editResult    `json:"edited_rerun,omitempty"`
	DryRuns []dryResult    `json:"dry_runs,omitempty"`
	Targets []target       `json:"targets"`
}

type setup struct {
	Articles     int      `json:"articles"`
	CorpusFiles  int      `json:"corpus_files"`
	Replicas     int      `json:"replicas"`
	Concurrency  int      `json:"concurrency"`
	Scale        float64  `json:"scale"`
	SimTTFTms    float64  `json:"sim_ttft_ms"`
	SimTPS       float64  `json:"sim_tokens_per_s"`
	RealTTFTms   float64  `json:"real_ttft_ms"`
	RealTPS      float64  `json:"real_tokens_per_s"`
	Stream       bool     `json:"stream"`
	Model        string   `json:"model"`
	MissingFlags []string `json:"missing_xlate_flags,omitempty"`
	Machine      string   `json:"machine"`
}

type coldResult struct {
	Requests          int     `json:"requests"`
	Translate         int     `json:"translate_requests"`
	Summary           int     `json:"summary_requests"`
	CompletionTokens  int     `json:"completion_tokens_fake"`
	Wall              secs    `json:"wall"`
	TotalService      secs    `json:"total_service"`
	PerSlot           secs    `json:"service_per_slot"`
	LongestChain      secs    `json:"longest_chain"`
	ChainArticle      string  `json:"longest_chain_article"`
	Ideal             secs    `json:"ideal_bound"`
	Ratio             float64 `json:"wall_over_ideal"`
	MaxInFlight       int     `json:"max_in_flight"`
	XlateRequests     int     `json:"xlate_report_requests,omitempty"`
	XlateCostUSD      float64 `json:"xlate_report_cost_usd,omitempty"`
	XlateWallSeconds  float64 `json:"xlate_report_wall_s,omitempty"`
	XlateFilesDone    int     `json:"xlate_report_files_done,omitempty"`
	XlateSourceTokens int     `json:"xlate_report_source_tokens,omitempty"`
}

type rateResult struct {
	ServerRPM     int     `json:"server_rpm"`
	ServerTPM     int     `json:"server_tpm"`
	ClientLimits  bool    `json:"client_limits"`
	Requests      int     `json:"requests"`
	TokensCharged int     `json:"tokens_charged_fake"`
	RateLimited   int     `json:"rate_limited_429"`
	Share429      float64 `json:"share_429"`
	Wall          secs    `json:"wall"`
	RateBound     secs    `json:"rate_limit_bound"`
	Ideal         secs    `json:"ideal_bound"`
	Bound         secs    `json:"bound"`
	Ratio         float64 `json:"wall_over_bound"`
	XlateRetries  int     `json:"xlate_report_retries,omitempty"`
	XlateLimited  int     `json:"xlate_report_rate_limited,omitempty"`
}

type economyResult struct {
	Articles            int     `json:"articles"`
	Requests            int     `json:"requests"`
	RequestsPerArticle  float64 `json:"requests_per_article"`
	TranslatePerArticle float64 `json:"translate_per_article"`
	SummaryPerArticle   float64 `json:"summary_per_article"`
	MaxPerArticle       int     `json:"max_requests_one_article"`
	PromptTokens        int     `json:"prompt_tokens_o200k"`
	PromptTokensFake    int     `json:"prompt_tokens_fake"`
	SourceTokens        int     `json:"source_tokens_o200k"`
	Ratio               float64 `json:"prompt_over_source"`
	XlatePrompt         int     `json:"xlate_report_prompt_tokens,omitempty"`
	XlateSource         int     `json:"xlate_report_source_tokens,omitempty"`
	XlateCompletion     int     `json:"xlate_report_completion_tokens,omitempty"`
}

type rerunResult struct {
	Requests    int     `json:"requests"`
	WallSeconds float64 `json:"wall_s"`
	CPUSeconds  float64 `json:"cpu_s"`
	FilesCached int     `json:"xlate_report_files_cached,omitempty"`
}

type editResult struct {
	File         string  `json:"file"`
	ColdRequests int     `json:"article_cold_requests"`
	Translate    int     `json:"translate_requests"`
	Summary      int     `json:"summary_requests"`
	Requests     int     `json:"requests"`
	WallSeconds  float64 `json:"wall_s"`
}

type dryResult struct {
	Files        int     `json:"files"`
	WallSeconds  float64 `json:"wall_s"`
	CPUSeconds   float64 `json:"cpu_s"`
	MaxRSSKB     int64   `json:"max_rss_kib"`
	FakeRequests int     `json:"fake_requests"`
	Plan         *report `json:"plan,omitempty"`
	CacheWarm    bool    `json:"cache_warm,omitempty"`
}

// target is one of the targets and whether it was met.
type target struct {
	Figure int     `json:"figure"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Op     string  `json:"op"`
	Limit  float64 `json:"limit"`
	Pass   bool    `json:"pass"`
}

// check records a target and returns its verdict for the output.
func (b *bench) check(fig int, name string, value float64, op string, limit float64) string {
	var pass bool
	switch op {
	case "<=":
		pass = value <= limit
	case "<":
		pass = value < limit
	case "==":
		pass = value == limit
	}
	b.res.Targets = append(b.res.Targets, target{Figure: fig, Name: name, Value: round3(value), Op: op, Limit: limit, Pass: pass})
	return verdict(op, limit, pass)
}

func verdict(op string, limit float64, pass bool) string {
	sym := map[string]string{"<=": "≤", "<": "<", "==": "="}[op]
	v := "FAIL"
	if pass {
		v = "PASS"
	}
	return fmt.Sprintf("target %s %s  %s", sym, strconv.FormatFloat(limit, 'g', -1, 64), v)
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// line prints one labelled figure.
func (b *bench) line(label, value string, note ...string) {
	s := fmt.Sprintf("   %-26s %s", label, value)
	for _, n := range note {
		s += "   " + n
	}
	b.printf("%s\n", s)
}

// dur formats a duration as real and simulated seconds.
func (b *bench) dur(d time.Duration) string {
	if b.cfg.Scale == 1 {
		return fmt.Sprintf("%8.2f s", d.Seconds())
	}
	return fmt.Sprintf("%8.2f s sim  (%.2f s real)", d.Seconds()*b.cfg.Scale, d.Seconds())
}

func (b *bench) printSetup() {
	s := b.res.Setup
	b.printf("xlatebench: xlate (built from this checkout) against the in-process fake OpenAI server\n")
	b.printf("simulated provider: TTFT %v, %g output tokens/s per request, streaming, model %s prices\n", b.cfg.TTFT, s.SimTPS, s.Model)
	if s.Scale != 1 {
		b.printf("time scale %g: the fake runs %gx faster (TTFT %.1f ms, %g tokens/s); \"sim\" = real × %g\n",
			s.Scale, s.Scale, s.RealTTFTms, s.RealTPS, s.Scale)
	}
	b.printf("input: %d articles = %d corpus files × %d replicas (each replica's paragraphs and title marked \"（k）\")\n",
		s.Articles, s.CorpusFiles, s.Replicas)
	b.printf("machine: %s\n", s.Machine)
	b.printf("tokens: the fake counts runes/2 (pacing, usage, limits); token economy uses o200k_base (chunk.Default)\n")
	if len(s.MissingFlags) > 0 {
		b.printf("NOTE: this xlate lacks %v; the figures that need them are skipped or partial\n", s.MissingFlags)
	}
	b.printf("\n")
}

// coldRun is figure 1.
func (b *bench) coldRun(ctx context.Context) error {
	srv, err := b.startFake(0, 0)
	if err != nil {
		return err
	}
	defer srv.Close()
	b.logf("run 1: cold run over %d articles", b.cfg.Articles)
	r, err := b.translate(ctx, "cold", filepath.Join(b.work, "cache-cold"))
	if err != nil {
		return err
	}
	b.cold = srv.Requests()
	b.writeLog("cold", b.cold)
	ib := computeIdeal(b.cold, b.cfg.provider(), b.cfg.Concurrency)
	b.coldIB = ib
	tr, su, _, _ := kinds(b.cold)
	res := &coldResult{
		Requests: ib.Requests, Translate: tr, Summary: su, CompletionTokens: ib.Completion,
		Wall: b.secs(r.Wall), TotalService: b.secs(ib.TotalService), PerSlot: b.secs(ib.PerSlot),
		LongestChain: b.secs(ib.LongestChain), ChainArticle: ib.ChainArticle, Ideal: b.secs(ib.Bound),
		Ratio: ratio(r.Wall.Seconds(), ib.Bound.Seconds()), MaxInFlight: srv.MaxInFlight(),
	}
	if rep := r.Report; rep != nil {
		res.XlateRequests, res.XlateCostUSD, res.XlateWallSeconds = rep.Requests, rep.EstimatedCost, rep.WallSeconds
		res.XlateFilesDone, res.XlateSourceTokens = rep.FilesDone, rep.SourceTokens
	}
	b.res.Cold = res

	if !b.cfg.step(1) {
		return nil
	}
	b.printf("1. cold run: %d articles, --concurrency %d, empty cache\n", b.cfg.Articles, b.cfg.Concurrency)
	b.line("requests", fmt.Sprintf("%8d", ib.Requests), fmt.Sprintf("(%d translate, %d summary; at most %d in flight)", tr, su, res.MaxInFlight))
	b.line("completion tokens (fake)", fmt.Sprintf("%8d", ib.Completion))
	b.line("wall", b.dur(r.Wall))
	b.line("total service time", b.dur(ib.TotalService), "(Σ TTFT + completion tokens / TPS)")
	b.line(fmt.Sprintf("  / concurrency %d", b.cfg.Concurrency), b.dur(ib.PerSlot))
	b.line("longest chain", b.dur(ib.LongestChain), fmt.Sprintf("(%s)", clip(ib.ChainArticle, 40)))
	b.line("ideal bound", b.dur(ib.Bound), "(the larger of the two)")
	b.line("wall / ideal", fmt.Sprintf("%8.3f", res.Ratio), b.check(1, "wall / ideal bound, concurrency 8", res.Ratio, "<=", 1.2))
	if rep := r.Report; rep != nil {
		b.line("xlate --report", fmt.Sprintf("%d files, %d requests, $%.4f estimated, %.2f s", rep.FilesDone, rep.Requests, rep.EstimatedCost, rep.WallSeconds))
	}
	b.printf("\n")
	return nil
}

// rateRun is figure 2.
func (b *bench) rateRun(ctx context.Context) error {
	tokens := 0
	for i := range b.cold {
		if served(&b.cold[i]) {
			tokens += serverCost(&b.cold[i])
		}
	}
	rpm, tpm := b.cfg.RPM, b.cfg.TPM
	if rpm == 0 && tpm == 0 {
		rpm, tpm = limitsFor(b.coldIB.Requests, tokens, time.Duration(b.cfg.RateFactor*float64(b.coldIB.Bound)))
	}
	srv, err := b.startFake(rpm, tpm)
	if err != nil {
		return err
	}
	defer srv.Close()
	var extra []string
	if b.x.features.Limits {
		if rpm > 0 {
			extra = append(extra, "--rpm", strconv.Itoa(rpm))
		}
		if tpm > 0 {
			extra = append(extra, "--tpm", strconv.Itoa(tpm))
		}
	}
	b.logf("run 2: cold run with limits of %d requests and %d tokens per minute", rpm, tpm)
	r, err := b.translate(ctx, "rate", filepath.Join(b.work, "cache-rate"), extra...)
	if err != nil {
		return err
	}
	recs := srv.Requests()
	b.writeLog("rate", recs)
	ib := computeIdeal(recs, b.cfg.provider(), b.cfg.Concurrency)
	charged := 0
	for i := range recs {
		if served(&recs[i]) {
			charged += serverCost(&recs[i])
		}
	}
	rb := rateBound(ib.Requests, charged, rpm, tpm)
	bound := max(rb, ib.Bound)
	limited := srv.RateLimited()
	res := &rateResult{
		ServerRPM: rpm, ServerTPM: tpm, ClientLimits: b.x.features.Limits,
		Requests: ib.Requests, TokensCharged: charged, RateLimited: limited,
		Share429: ratio(float64(limited), float64(ib.Requests)),
		Wall:     b.secs(r.Wall), RateBound: b.secs(rb), Ideal: b.secs(ib.Bound), Bound: b.secs(bound),
		Ratio: ratio(r.Wall.Seconds(), bound.Seconds()),
	}
	if rep := r.Report; rep != nil {
		res.XlateRetries, res.XlateLimited = rep.Retries, rep.RateLimited
	}
	b.res.Rate = res

	b.printf("2. rate-limited cold run, empty cache: fake limited to %d requests/min and %d tokens/min\n", rpm, tpm)
	if b.cfg.Scale != 1 {
		b.printf("   (limits and buckets in real minutes at the fake's %gx speed; sim = real × %g as above)\n", b.cfg.Scale, b.cfg.Scale)
	}
	if b.x.features.Limits {
		b.line("xlate limits", fmt.Sprintf("--rpm %d --tpm %d", rpm, tpm))
	} else {
		b.line("xlate limits", "none: this xlate has no --rpm/--tpm (server limits only)")
	}
	b.line("requests", fmt.Sprintf("%8d", ib.Requests), fmt.Sprintf("(tokens charged by the fake: %d)", charged))
	b.line("wall", b.dur(r.Wall))
	b.line("rate-limit bound", b.dur(rb), "(full buckets: max((req-RPM)/RPM, (tok-TPM)/TPM) min)")
	b.line("ideal bound (concurrency)", b.dur(ib.Bound))
	b.line("wall / bound", fmt.Sprintf("%8.3f", res.Ratio), b.check(2, "wall / rate-limit bound", res.Ratio, "<=", 1.15))
	b.line("429s", fmt.Sprintf("%8d", limited), fmt.Sprintf("(%.2f%% of requests)", 100*res.Share429),
		b.check(2, "429s / requests", res.Share429, "<", 0.02))
	if rep := r.Report; rep != nil {
		b.line("xlate --report", fmt.Sprintf("%d retries, %d rate-limited", rep.Retries, rep.RateLimited))
	}
	b.printf("\n")
	return nil
}

// economy is figure 3, from run 1.
func (b *bench) economy(ctx context.Context) error {
	src, articles, err := b.sourceTokens()
	if err != nil {
		return err
	}
	counter := chunk.Default()
	prompt, fakePrompt := 0, 0
	for i := range b.cold {
		r := &b.cold[i]
		if !served(r) {
			continue
		}
		for _, m := range r.Messages {
			prompt += counter.Count(m.Content)
			fakePrompt += fakeopenai.Tokens(m.Content)
		}
	}
	tr, su, _, _ := kinds(b.cold)
	req := tr + su
	per := perArticle(b.cold)
	res := &economyResult{
		Articles: articles, Requests: req,
		RequestsPerArticle:  ratio(float64(req), float64(articles)),
		TranslatePerArticle: ratio(float64(tr), float64(articles)),
		SummaryPerArticle:   ratio(float64(su), float64(articles)),
		PromptTokens:        prompt, PromptTokensFake: fakePrompt, SourceTokens: src,
		Ratio: ratio(float64(prompt), float64(src)),
	}
	if len(per) > 0 {
		res.MaxPerArticle = per[0].Requests
	}
	if rep := b.coldReport(); rep != nil {
		res.XlatePrompt, res.XlateSource, res.XlateCompletion = rep.PromptTokens, rep.SourceTokens, rep.CompletionTokens
	}
	b.res.Economy = res

	b.printf("3. token economy (run 1)\n")
	b.line("requests / article", fmt.Sprintf("%8.3f", res.RequestsPerArticle),
		fmt.Sprintf("(%.3f translate + %.3f summary; at most %d for one titled article)", res.TranslatePerArticle, res.SummaryPerArticle, res.MaxPerArticle))
	b.line("prompt tokens (o200k)", fmt.Sprintf("%8d", prompt), fmt.Sprintf("(all messages of every request, summary included; fake count %d)", fakePrompt))
	b.line("source tokens (o200k)", fmt.Sprintf("%8d", src), "(titles + segments with Han characters)")
	b.line("prompt / source", fmt.Sprintf("%8.3f", res.Ratio), b.check(3, "prompt tokens / source tokens", res.Ratio, "<=", 1.6))
	if res.XlatePrompt > 0 || res.XlateSource > 0 {
		b.line("xlate --report", fmt.Sprintf("prompt %d, completion %d (as the server's usage says), source %d (ratio %.3f)",
			res.XlatePrompt, res.XlateCompletion, res.XlateSource, float64(res.XlatePrompt)/float64(max(res.XlateSource, 1))))
	}
	b.printf("\n")
	return nil
}

// coldReport reads run 1's --report, if any.
func (b *bench) coldReport() *report {
	data, err := os.ReadFile(filepath.Join(b.work, "report-cold.json"))
	if err != nil {
		return nil
	}
	var rep report
	if jsonUnmarshal(data, &rep) != nil {
		return nil
	}
	return &rep
}

// warmRun is figure 4.
func (b *bench) warmRun(ctx context.Context) error {
	srv, err := b.startFake(0, 0)
	if err != nil {
		return err
	}
	defer srv.Close()
	b.logf("run 4: warm re-run")
	r, err := b.translate(ctx, "warm", filepath.Join(b.work, "cache-cold"))
	if err != nil {
		return err
	}
	n := countChat(srv.Requests())
	res := &rerunResult{Requests: n, WallSeconds: round3(r.Wall.Seconds()), CPUSeconds: round3(r.CPU.Seconds())}
	if r.Report != nil {
		res.FilesCached = r.Report.FilesCached
	}
	b.res.Warm = res
	b.printf("4. warm re-run: the same %d articles, run 1's cache\n", b.cfg.Articles)
	b.line("requests", fmt.Sprintf("%8d", n), b.check(4, "warm re-run requests", float64(n), "==", 0))
	b.line("wall (real, no scaling)", fmt.Sprintf("%8.3f s", r.Wall.Seconds()), b.check(4, "warm re-run wall seconds", r.Wall.Seconds(), "<", 1))
	b.line("CPU (user+sys)", fmt.Sprintf("%8.3f s", r.CPU.Seconds()))
	if r.Report != nil {
		b.line("xlate --report", fmt.Sprintf("%d files cached of %d done", r.Report.FilesCached, r.Report.FilesDone))
	}
	b.printf("\n")
	return nil
}

func countChat(recs []fakeopenai.Recorded) int {
	n := 0
	for i := range recs {
		if isChat(&recs[i]) {
			n++
		}
	}
	return n
}

// editRun is figure 5: one paragraph of the largest article edited.
func (b *bench) editRun(ctx context.Context) error {
	files := make([]treeFile, len(b.layout))
	copy(files, b.layout)
	size := map[string]int{}
	for _, f := range b.corpus {
		size[f.Name] = len(f.Text)
	}
	sort.SliceStable(files, func(i, j int) bool { return size[files[i].Source] > size[files[j].Source] })
	var edited *treeFile
	var original []byte
	for i := range files {
		p := filepath.Join(b.tree, filepath.FromSlash(files[i].Rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("edit: %w", err)
		}
		text := string(data)
		if files[i].K == 0 {
			text = b.textOf(files[i].Source)
		}
		next, ok := editParagraph(text)
		if !ok {
			continue
		}
		if err := os.WriteFile(p, []byte(next), 0o644); err != nil {
			return fmt.Errorf("edit: %w", err)
		}
		edited, original = &files[i], data
		break
	}
	if edited == nil {
		return fmt.Errorf("edit: no article has a paragraph to edit")
	}
	p := filepath.Join(b.tree, filepath.FromSlash(edited.Rel))
	defer os.WriteFile(p, original, 0o644) //nolint:errcheck // best effort: later figures use other trees

	srv, err := b.startFake(0, 0)
	if err != nil {
		return err
	}
	defer srv.Close()
	b.logf("run 5: one paragraph of %s edited", edited.Rel)
	r, err := b.translate(ctx, "edit", filepath.Join(b.work, "cache-cold"))
	if err != nil {
		return err
	}
	recs := srv.Requests()
	b.writeLog("edit", recs)
	tr, su, _, _ := kinds(recs)
	cold := 0
	if len(recs) > 0 {
		title := articleOf(&recs[0])
		for i := range b.cold {
			if served(&b.cold[i]) && articleOf(&b.cold[i]) == title {
				cold++
			}
		}
	}
	res := &editResult{File: edited.Rel, ColdRequests: cold, Translate: tr, Summary: su, Requests: countChat(recs), WallSeconds: round3(r.Wall.Seconds())}
	b.res.Edit = res
	b.printf("5. one paragraph edited in %s (%d requests cold), re-run with run 1's cache\n", edited.Rel, cold)
	b.line("translation requests", fmt.Sprintf("%8d", tr), b.check(5, "edited paragraph: translation requests", float64(tr), "==", 1))
	b.line("summary requests", fmt.Sprintf("%8d", su), b.check(5, "edited paragraph: summary requests", float64(su), "<=", 1), summaryShapes(recs))
	b.line("wall (real)", fmt.Sprintf("%8.3f s", r.Wall.Seconds()))
	b.printf("\n")
	return nil
}

// summaryShapes describes the summary requests of recs by the element
// their user message opens with, e.g. "(2 <article>, 1 <summaries>)".
func summaryShapes(recs []fakeopenai.Recorded) string {
	count := map[string]int{}
	for i := range recs {
		r := &recs[i]
		if !served(r) || r.Kind != fakeopenai.KindSummary {
			continue
		}
		tag := "other"
		for _, t := range []string{"<article", "<summaries", "<notes"} {
			if strings.HasPrefix(strings.TrimSpace(r.User()), t) {
				tag = t + ">"
			}
		}
		count[tag]++
	}
	if len(count) == 0 {
		return ""
	}
	tags := make([]string, 0, len(count))
	for t := range count {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = fmt.Sprintf("%d %s", count[t], t)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (b *bench) textOf(name string) string {
	for _, f := range b.corpus {
		if f.Name == name {
			return f.Text
		}
	}
	return ""
}

// dryRuns is figure 6.
func (b *bench) dryRuns(ctx context.Context) error {
	b.printf("6. xlate --dry-run, empty cache: local cost\n")
	if !b.x.features.DryRun {
		b.line("skipped", "this xlate has no --dry-run")
		b.printf("\n")
		return nil
	}
	srv, err := b.startFake(0, 0)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, n := range b.cfg.Dry {
		dir := filepath.Join(b.work, fmt.Sprintf("dry-%d", n))
		b.logf("run 6: writing %d files", n)
		if _, err := writeTree(dir, b.corpus, n); err != nil {
			return err
		}
		b.logf("run 6: --dry-run over %d files", n)
		r, err := b.x.run(ctx, filepath.Join(b.work, fmt.Sprintf("cache-dry-%d", n)), filepath.Join(b.work, fmt.Sprintf("report-dry-%d.json", n)),
			"--dry-run", "-q", "--concurrency", strconv.Itoa(b.cfg.Concurrency), "-o", filepath.Join(b.work, "out-dry"), dir)
		if err != nil {
			return err
		}
		if r.Exit != 0 {
			return fmt.Errorf("%w: %s", errXlate, r.failure())
		}
		if !b.cfg.Keep {
			_ = os.RemoveAll(dir)
		}
		res := dryResult{Files: n, WallSeconds: round3(r.Wall.Seconds()), CPUSeconds: round3(r.CPU.Seconds()), MaxRSSKB: r.MaxRSSKB, FakeRequests: srv.Count(), Plan: r.Report}
		b.res.DryRuns = append(b.res.DryRuns, res)
		b.printf("   %d files\n", n)
		var notes []string
		if n == 1000 {
			notes = append(notes, b.check(6, "dry-run over 1,000 files: wall seconds", r.Wall.Seconds(), "<", 4))
		}
		b.line("  wall", fmt.Sprintf("%8.3f s", r.Wall.Seconds()), notes...)
		b.line("  CPU (user+sys)", fmt.Sprintf("%8.3f s", r.CPU.Seconds()))
		notes = nil
		mb := float64(r.MaxRSSKB) * 1024 / 1e6
		if n == 10000 {
			notes = append(notes, b.check(6, "dry-run over 10,000 files: peak RSS MB", mb, "<", 150))
		}
		b.line("  peak RSS", fmt.Sprintf("%8.1f MB", mb), notes...)
		if rep := r.Report; rep != nil {
			b.line("  plan", fmt.Sprintf("%d files, %d segments (%d cached), %d chunks, %d requests, %d input tokens, ~%d output, $%.4f",
				rep.Files, rep.Segments, rep.CachedSegments, rep.Chunks, rep.Requests, rep.InputTokens, rep.OutputTokensEstimate, rep.EstimatedCost))
		}
		if srv.Count() != 0 {
			b.line("  requests to the fake", fmt.Sprintf("%8d", srv.Count()), "(a dry run should make none)")
		}
	}
	if b.cold != nil && b.res.Cold != nil {
		// How good is the plan? Dry-run the benchmark tree with an empty
		// cache and compare with what run 1 did.
		r, err := b.x.run(ctx, filepath.Join(b.work, "cache-plan"), filepath.Join(b.work, "report-plan.json"),
			"--dry-run", "-q", "-o", filepath.Join(b.work, "out-dry"), b.tree)
		if err == nil && r.Exit == 0 && r.Report != nil {
			rep := r.Report
			var prompt int
			if e := b.res.Economy; e != nil {
				prompt = e.PromptTokens
			}
			b.printf("   plan accuracy (%d-article tree, empty cache, against run 1)\n", b.cfg.Articles)
			b.line("  requests", fmt.Sprintf("%8d planned", rep.Requests), fmt.Sprintf("(run 1 made %d)", b.res.Cold.Requests))
			if prompt > 0 {
				b.line("  input tokens", fmt.Sprintf("%8d planned", rep.InputTokens), fmt.Sprintf("(run 1 sent %d by o200k over the message texts)", prompt))
			}
		}
	}
	b.printf("\n")
	return nil
}

func (b *bench) printTargets() {
	if len(b.res.Targets) == 0 {
		return
	}
	pass := 0
	for _, t := range b.res.Targets {
		if t.Pass {
			pass++
		}
	}
	b.printf("targets: %d of %d met\n", pass, len(b.res.Targets))
	for _, t := range b.res.Targets {
		b.printf("   %d. %-45s %10.3f   %s\n", t.Figure, t.Name, t.Value, verdict(t.Op, t.Limit, t.Pass))
	}
}

// ratio is a/b rounded to 3 decimals, or 0 when b is 0 (JSON has no
// infinities).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round3(a / b)
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// writeLog writes one line per recorded request of a run to
// WORK/requests-NAME.tsv (kept with -keep), for looking into the figures:
// number, seconds since the first request, kind, served, segments,
// completion tokens (fake), service ms, article title.
func (b *bench) writeLog(name string, recs []fakeopenai.Recorded) {
	if len(recs) == 0 {
		return
	}
	var buf []byte
	buf = append(buf, "n\tt_s\tkind\tserved\tsegments\tcompletion\tservice_ms\tarticle\tuser\n"...)
	t0 := recs[0].Time
	p := b.cfg.provider()
	for i := range recs {
		r := &recs[i]
		c := completionTokens(r)
		buf = fmt.Appendf(buf, "%d\t%.3f\t%s\t%v\t%d\t%d\t%.1f\t%s\t%q\n", r.N, r.Time.Sub(t0).Seconds(), r.Kind, served(r),
			r.Segments, c, ms(p.serviceTime(c)), articleOf(r), clip(r.User(), 80))
	}
	_ = os.WriteFile(filepath.Join(b.work, "requests-"+name+".tsv"), buf, 0o644)
}
