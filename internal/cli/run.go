package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/memory"
	"github.com/xlate/xlate/pipeline"
	"github.com/xlate/xlate/translate"
)

// run wires the options into one pipeline run and maps its outcome to an
// error (exitError for failed files and interrupts).
func run(ctx context.Context, o options, s Streams) error {
	start := time.Now()
	// Without --verbose nothing is logged: retries show in the progress
	// line and as a count in the summary line, and errors as their own
	// lines.
	level := slog.Level(100)
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: level}))
	logger.Debug("settings", "provider", o.provider.name, "base_url", o.baseURL, "model", o.model, "to", o.lang,
		"api_key", o.apiKey != "", "cache", !o.noCache, "concurrency", o.concurrency)
	st := newStyle(s.Err)

	output := o.output
	if o.dryRun && output == "" {
		// A dry run writes nothing, but a directory still plans its outputs.
		output = filepath.Join(os.TempDir(), "xlate-dry-run")
	}
	jobs, skipped, err := pipeline.PlanWith(o.inputs, output, pipeline.PlanOptions{Suffix: o.suffix})
	if err != nil {
		return err
	}
	if err := checkOutputDir(o, jobs); err != nil {
		return err
	}

	gloss, err := loadGlossary(o.glossary)
	if err != nil {
		return err
	}
	logger.Debug("glossary", "file", o.glossary, "entries", len(gloss))

	store, err := openStore(o)
	if err != nil {
		return err
	}
	client, err := newClient(o, logger)
	if err != nil {
		return err
	}
	mem, err := openMemory(o.memoryDir)
	if err != nil {
		return err
	}
	p := pipeline.New(client, store, o.settings(gloss))
	p.Memory, p.Force = mem, o.force

	errorf := st.lines(s.Err)
	for _, e := range skipped {
		errorf("%v", e)
	}
	prog := newProgress(s.Err, !o.quiet && !o.verbose && !o.dryRun && isTerminal(s.Err), len(jobs), client)
	errorf = prog.wrap(errorf)
	warnCacheWrites(store, errorf)
	suspectFailures := 0 // files that failed on answers judged no translation
	failed := func(err error) {
		errorf("%s", strings.Join(strings.Fields(err.Error()), " "))
		var se *translate.SegmentError
		if errors.As(err, &se) && se.Suspect && !o.acceptSus {
			suspectFailures++ // Run serialises failures
		}
	}
	rep := p.Run(ctx, jobs, pipeline.RunOptions{
		Stdin: s.In, Stdout: s.Out, Errorf: errorf, Failed: failed, Files: 2 * o.concurrency,
		Warnf:  func(format string, args ...any) { errorf("warning: "+format, args...) },
		Notef:  notef(o, prog.wrap(st.notes(s.Err))),
		DryRun: o.dryRun, Progress: prog.update, Logger: logger,
	})
	prog.stop()
	rep.Failed += len(skipped)
	wall := time.Since(start)

	if suspectFailures > 0 {
		fmt.Fprintf(s.Err, "hint: %d file(s) failed on answers judged no translation; if one is right after all, --accept-suspect takes it (--report lists them)\n", suspectFailures)
	}
	if rep.Systemic != nil {
		errorf("%s", llm.Systemic(rep.Systemic))
		fmt.Fprintln(s.Err, "hint:", systemicHint(o, rep.Systemic))
		if rep.NotAttempted > 0 && len(jobs) > 1 {
			fmt.Fprintf(s.Err, "%s stopped: %d of %d files not attempted\n", st.prefix(), rep.NotAttempted, len(jobs))
		}
	}
	if o.dryRun {
		writePlan(s.Out, o, rep)
	}
	stats := client.Stats()
	if !o.quiet && !o.dryRun && (isTerminal(s.Err) || len(jobs)+len(skipped) > 1 || rep.Failed > 0 || rep.Interrupted) {
		// On a terminal every run ends with it, so that a paid run shows
		// its tokens and cost.
		fmt.Fprintln(s.Err, st.dim(summaryLine(o, rep, stats, wall)))
	}
	if o.report != "" {
		if err := writeReport(o, rep, stats, wall); err != nil {
			errorf("report: %v", err)
			if rep.Failed == 0 && !rep.Interrupted {
				return exitError(ExitFailed)
			}
		}
	}
	switch {
	case rep.Systemic != nil && rep.Done == 0:
		return exitError(ExitUsage) // nothing was written: a configuration error
	case rep.Systemic != nil:
		return exitError(ExitFailed)
	case rep.Interrupted:
		fmt.Fprintln(s.Err, st.prefix(), "interrupted; finished files are written and finished paragraphs cached: run the same command again to resume")
		return exitError(ExitInterrupted)
	case rep.Failed > 0:
		return exitError(ExitFailed)
	}
	return nil
}

// systemicHint says what to change after a failure of the setup.
func systemicHint(o options, err error) string {
	var ae *llm.APIError
	var na *llm.NotAPIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		if o.provider.keyEnv == "" {
			return "the server wants a key: pass --api-key"
		}
		return fmt.Sprintf("set %s to a valid key for %s (or pass --api-key)", o.provider.keyEnv, o.baseURL)
	case errors.As(err, &ae) && ae.Code == "insufficient_quota":
		return "the account behind the key has no quota left: check its plan and billing"
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound && strings.Contains(ae.Error(), "model not found"):
		return fmt.Sprintf("the model %q (from %s) is not served at %s: name another with --model", o.model, o.modelFrom, o.baseURL)
	case errors.As(err, &na), errors.As(err, &ae):
		return fmt.Sprintf("%s is not an OpenAI-compatible API: check --base-url (it usually ends in /v1)", o.baseURL)
	}
	return fmt.Sprintf("no server answers at %s: start it, or check --base-url", o.baseURL)
}

// openStore opens the cache the options name (a Nop with --no-cache).
func openStore(o options) (cache.Store, error) {
	if o.noCache {
		return cache.Nop{}, nil
	}
	dir := o.cacheDir
	if dir == "" {
		var err error
		if dir, err = cache.DefaultDir(); err != nil {
			return nil, usageError{fmt.Errorf("no cache directory (%v): pass --cache-dir or --no-cache", err)}
		}
	}
	d, err := cache.Open(dir)
	if err != nil {
		return nil, usageError{err} // "cache: open DIR: ..."
	}
	return &warnStore{Store: d, dir: d.Path()}, nil
}

// openMemory opens the translation memory in dir, or the default one.
func openMemory(dir string) (*memory.Memory, error) {
	if dir == "" {
		var err error
		if dir, err = memory.DefaultDir(); err != nil {
			return nil, usageError{fmt.Errorf("no translation memory directory (%v): pass --memory-dir", err)}
		}
	}
	m, err := memory.Open(dir)
	if err != nil {
		return nil, usageError{fmt.Errorf("translation memory: %w", err)}
	}
	return m, nil
}

// notef prints what became of hand edits, unless -q.
func notef(o options, errorf func(string, ...any)) func(string, ...any) {
	if o.quiet {
		return nil
	}
	return errorf
}

// newClient returns the LLM client the options describe.
func newClient(o options, logger *slog.Logger) (*llm.OpenAI, error) {
	retries := o.retries
	if retries == 0 {
		retries = -1 // llm reads 0 as "the default"
	}
	key := o.apiKey
	switch {
	case key == "" && o.dryRun:
		key = "dry-run" // never sent: a dry run makes no request
	case key == "" && o.provider.keyEnv == "" && !llm.IsLocal(o.baseURL):
		key = o.provider.name // Ollama on another host ignores the key, but llm wants one
	}
	client, err := llm.New(llm.Config{
		BaseURL:      o.baseURL,
		APIKey:       key,
		Model:        o.model,
		Stream:       o.stream,
		Concurrency:  o.concurrency,
		Retries:      retries,
		Timeout:      o.timeout,
		StallTimeout: o.stall,
		Backoff:      o.backoff,
		RPM:          o.rpm,
		TPM:          o.tpm,
		Tokens:       chunk.Default().Count,
		Logger:       logger,
		Azure:        o.provider.azure,
		APIVersion:   o.apiVersion,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return client, nil
}

// settings are the options that shape an output.
func (o options) settings(gloss glossary.Glossary) pipeline.Settings {
	return pipeline.Settings{Model: o.model, Lang: o.lang, Layout: o.layout, Summary: !o.noSummary, Budget: o.chunkTokens, Glossary: gloss, Syntax: o.syntax, AcceptSuspect: o.acceptSus,
		HugoLang: pipeline.LangOfSuffix(o.suffix)}
}

// loadGlossary reads the --glossary file ("" = none); a bad file is a usage
// error.
func loadGlossary(path string) (glossary.Glossary, error) {
	if path == "" {
		return nil, nil
	}
	g, err := glossary.Load(path)
	if err != nil {
		return nil, usageError{err}
	}
	return g, nil
}
