package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/batch"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
)

func batchCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:            "batch",
		Usage:           "translate an archive through the OpenAI Batch API or vLLM run_batch: prepare, submit, status, collect",
		HideHelpCommand: true,
		Action:          groupAction,
		Description: `A job directory holds the batch input files (OpenAI batch JSONL), a manifest mapping each
request back to its paragraphs and files, and the job's state. Every step can be interrupted
and run again. Long articles take two rounds: their summaries are made from what the first
round's translation requests wrote.

Examples:
   xlate batch prepare -o job/ archive/      plan the requests the cache cannot answer
   xlate batch submit job/                   upload them and create the batches
   xlate batch status job/                   progress of each batch
   xlate batch collect --wait -o out/ job/   judge and cache the answers, write the outputs
   xlate batch prepare -o job/               the next round: what is still missing
   xlate batch collect --from results.jsonl -o out/ job/   results of vLLM run_batch`,
		Subcommands: []*cli.Command{
			{
				Name:      "prepare",
				Usage:     "write the requests the inputs need as batch input files in -o JOBDIR (no PATH: the job's next round)",
				ArgsUsage: "-o JOBDIR [PATH...]",
				Description: `-o JOBDIR (required) is the job directory; xlate's flags (--model, --to, --glossary,
--chunk-tokens, ...) apply as to a translation.

Every request line names the job's model (--model; printed by prepare). vLLM's run_batch
answers only the model it serves: run it with --served-model-name set to that name.`,
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "max-requests", Value: batch.DefaultMaxRequests, Usage: "most requests in one batch file (the Batch API takes at most 50,000)"},
					&cli.Int64Flag{Name: "max-bytes", Value: batch.DefaultMaxBytes, Usage: "largest batch file, in bytes (the Batch API takes at most 200 MB: 200,000,000)"},
					&cli.BoolFlag{Name: "no-limit-check", Usage: "allow --max-requests and --max-bytes over the Batch API's limits (for engines with other limits)"},
				},
				Action: func(c *cli.Context) error { return batchPrepare(c, s) },
			},
			{
				Name:      "submit",
				Usage:     "upload the job's batch files and create their batches",
				ArgsUsage: "JOBDIR",
				Description: `OpenAI limits the prompt tokens queued in batches per model (the enqueued token limit of
your tier); a batch over it fails with token_limit_exceeded. --max-enqueued-tokens keeps the
job's queued batches under it: files that do not fit wait, for a later submit or --wait.
Batches of other jobs count at OpenAI too: leave them room.`,
				Flags: []cli.Flag{
					&cli.Int64Flag{Name: "max-enqueued-tokens", Usage: "keep the prompt tokens of the job's queued batches under `N` (your tier's enqueued token limit; 0: unlimited)"},
					&cli.BoolFlag{Name: "wait", Usage: "with --max-enqueued-tokens, submit the files that wait as earlier batches end"},
					&cli.DurationFlag{Name: "poll", Value: 30 * time.Second, Usage: "with --wait, how often to look"},
				},
				Action: func(c *cli.Context) error { return batchSubmit(c, s) },
			},
			{
				Name:      "status",
				Usage:     "print the progress of the job's batches",
				ArgsUsage: "JOBDIR",
				Action:    func(c *cli.Context) error { return batchStatus(c, s) },
			},
			{
				Name:      "collect",
				Usage:     "fetch the results, cache the good answers and write every output they complete (-o DIR, default JOBDIR/out)",
				ArgsUsage: "[-o OUT] JOBDIR",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "from", Usage: "read results from `FILE` (vLLM run_batch output, or downloaded output files) instead of the API; repeatable"},
					&cli.BoolFlag{Name: "wait", Usage: "wait for running batches to end"},
					&cli.DurationFlag{Name: "poll", Value: 30 * time.Second, Usage: "with --wait, how often to look"},
				},
				Action: func(c *cli.Context) error { return batchCollect(c, s) },
			},
		},
	}
}

// batchSetup resolves the settings and opens the cache for a batch step.
func batchSetup(c *cli.Context, keyNeeded bool) (options, cache.Store, error) {
	st, err := resolveSettings(c)
	if err != nil {
		return options{}, nil, err
	}
	o, err := resolveOptions(c, st, keyNeeded)
	if err != nil {
		return o, nil, err
	}
	if o.noCache {
		return o, nil, usageError{errors.New("batch works through the cache: drop --no-cache")}
	}
	store, err := openStore(o)
	return o, store, err
}

// jobArg opens the job directory named by the one argument.
func jobArg(c *cli.Context) (*batch.Job, error) {
	if c.NArg() != 1 {
		return nil, usageError{fmt.Errorf("batch %s takes the job directory: xlate batch %s JOBDIR", c.Command.Name, c.Command.Name)}
	}
	return batch.Open(c.Args().First())
}

// checkLimits refuses batch file limits the Batch API does not take,
// unless --no-limit-check.
func checkLimits(c *cli.Context) error {
	reqs, size := c.Int("max-requests"), c.Int64("max-bytes")
	switch {
	case reqs < 1:
		return usageError{fmt.Errorf("--max-requests %d: give at least 1", reqs)}
	case size < 1:
		return usageError{fmt.Errorf("--max-bytes %d: give at least 1", size)}
	case c.Bool("no-limit-check"):
		return nil
	case reqs > batch.DefaultMaxRequests:
		return usageError{fmt.Errorf("--max-requests %d is over the Batch API's %d requests per file: OpenAI would refuse the batch (--no-limit-check for an engine with other limits)", reqs, batch.DefaultMaxRequests)}
	case size > batch.DefaultMaxBytes:
		return usageError{fmt.Errorf("--max-bytes %d is over the Batch API's 200 MB (%d bytes) per file: OpenAI would refuse the upload (--no-limit-check for an engine with other limits)", size, batch.DefaultMaxBytes)}
	}
	return nil
}

func batchPrepare(c *cli.Context, s Streams) error {
	if err := checkLimits(c); err != nil {
		return err
	}
	o, store, err := batchSetup(c, false)
	if err != nil {
		return err
	}
	dir := o.output
	if dir == "" || dir == "-" {
		return usageError{errors.New("batch prepare needs the job directory: -o JOBDIR")}
	}
	gloss, err := loadGlossary(o.glossary)
	if err != nil {
		return err
	}
	mem, err := openMemory(o.memoryDir)
	if err != nil {
		return err
	}
	job, rep, err := pipeline.PrepareBatch(c.Context, dir, pipeline.BatchPrepareOptions{
		Memory:      mem,
		Inputs:      o.inputs,
		Settings:    pipeline.SettingsOf(o.settings(gloss), o.suffix),
		Store:       store,
		MaxRequests: c.Int("max-requests"),
		MaxBytes:    c.Int64("max-bytes"),
		Errorf:      newStyle(s.Err).lines(s.Err),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "round %d: %d files: %d ready, %d failed, %d waiting on other files' requests\n",
		rep.Round, rep.Files+rep.Failed, rep.Ready, rep.Failed, rep.Waiting)
	fmt.Fprintf(s.Out, "requests: %d translation, %d summary, in %d batch files in %s\n", rep.Translations, rep.Summaries, rep.Parts, job.Dir())
	if rep.Requests() > 0 {
		fmt.Fprintf(s.Out, "model:    %s (every request line names it; vLLM run_batch: --served-model-name %s)\n", rep.Model, rep.Model)
	}
	if rep.Requests() > 0 {
		fmt.Fprintf(s.Out, "tokens:   %d in, ~%d out (estimated)", rep.InputTokens, rep.OutputTokens)
		if o.priceKnown {
			full := o.price.Cost(rep.InputTokens, rep.OutputTokens)
			fmt.Fprintf(s.Out, "; ~$%.4f at %s list prices, ~$%.4f at the Batch API's half price", full, o.model, full/2)
		}
		fmt.Fprintln(s.Out)
	}
	switch {
	case rep.Requests() > 0:
		fmt.Fprintf(s.Out, "next: xlate batch submit %s  (or run the requests-*.jsonl files with vLLM run_batch, then xlate batch collect --from OUTPUT %s)\n", job.Dir(), job.Dir())
	case rep.Ready > 0:
		fmt.Fprintf(s.Out, "nothing to request: xlate batch collect %s writes the outputs\n", job.Dir())
	}
	if rep.Failed > 0 {
		return exitError(ExitFailed)
	}
	return nil
}

// jobAPI opens the job named by the one argument and the provider's
// files and batches API.
func jobAPI(c *cli.Context) (*batch.Job, *llm.BatchAPI, error) {
	job, err := jobArg(c)
	if err != nil {
		return nil, nil, err
	}
	o, _, err := batchSetup(c, true)
	if err != nil {
		return nil, nil, err
	}
	api, err := batchAPI(o)
	return job, api, err
}

// batchAPI is the files and batches API of the provider the options name.
func batchAPI(o options) (*llm.BatchAPI, error) {
	client, err := newClient(o, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return client.Batches(), nil
}

func batchSubmit(c *cli.Context, s Streams) error {
	job, api, err := jobAPI(c)
	if err != nil {
		return err
	}
	if len(job.Parts) == 0 {
		fmt.Fprintf(s.Out, "nothing to submit: the job has no requests\n")
		return nil
	}
	limit := c.Int64("max-enqueued-tokens")
	if limit < 0 {
		return usageError{fmt.Errorf("--max-enqueued-tokens %d: give a token count, or 0 for no limit", limit)}
	}
	errorf := newStyle(s.Err).lines(s.Err)
	rep, err := batch.Submit(c.Context, job, api, batch.SubmitOptions{
		MaxEnqueuedTokens: limit, Wait: c.Bool("wait"), Poll: c.Duration("poll"),
		Logf: func(format string, args ...any) {
			if !c.Bool("quiet") {
				errorf(format, args...)
			}
		},
	})
	var over *batch.OverLimitError
	if errors.As(err, &over) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	printParts(s.Out, job)
	if rep.Waiting > 0 {
		fmt.Fprintf(s.Out, "queued: ~%d prompt tokens; %d batch files wait for room under --max-enqueued-tokens %d\n", rep.Queued, rep.Waiting, limit)
		fmt.Fprintf(s.Out, "next: xlate batch submit --max-enqueued-tokens %d %s again as batches end (or with --wait), then xlate batch collect %s\n", limit, job.Dir(), job.Dir())
		return nil
	}
	fmt.Fprintf(s.Out, "next: xlate batch status %s, then xlate batch collect %s\n", job.Dir(), job.Dir())
	return nil
}

func batchStatus(c *cli.Context, s Streams) error {
	job, api, err := jobAPI(c)
	if err != nil {
		return err
	}
	problems, err := batch.Status(c.Context, job, api)
	if err != nil {
		return err
	}
	printParts(s.Out, job)
	errorf := newStyle(s.Err).lines(s.Err)
	for _, p := range problems {
		errorf("%s", p)
	}
	return nil
}

// printParts prints one line per batch file: its batch, status and counts.
func printParts(w io.Writer, job *batch.Job) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tBATCH\tSTATUS\tDONE\tFAILED\tREQUESTS")
	for _, p := range job.Parts {
		id, status := p.BatchID, p.Status
		if id == "" {
			id, status = "-", "not submitted"
		}
		if p.Downloaded {
			status += ", collected"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", p.Name, id, status, p.Completed, p.Failed, p.Requests)
	}
	tw.Flush()
}

func batchCollect(c *cli.Context, s Streams) error {
	job, err := jobArg(c)
	if err != nil {
		return err
	}
	from := c.StringSlice("from")
	o, store, err := batchSetup(c, len(from) == 0)
	if err != nil {
		return err
	}
	errorf := newStyle(s.Err).lines(s.Err)
	warnCacheWrites(store, errorf)
	model := job.Model()
	unserved := false // a line failed because the engine does not serve the job's model
	opts := pipeline.BatchCollectOptions{
		CollectOptions: batch.CollectOptions{
			From: from, Wait: c.Bool("wait"), Poll: c.Duration("poll"),
			Errorf: func(format string, args ...any) {
				msg := fmt.Sprintf(format, args...)
				unserved = unserved || strings.Contains(msg, "model `"+model+"` does not exist")
				errorf("%s", msg)
			},
			Logf: func(format string, args ...any) {
				if !o.quiet {
					errorf(format, args...)
				}
			},
		},
		Store: store, Output: o.output, Files: 2 * o.concurrency, Force: o.force,
		Notef: notef(o, newStyle(s.Err).notes(s.Err)),
	}
	if opts.Memory, err = openMemory(o.memoryDir); err != nil {
		return err
	}
	if len(from) == 0 {
		if opts.API, err = batchAPI(o); err != nil {
			return err
		}
	}
	rep, err := pipeline.CollectBatch(c.Context, job, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "answers: %d read, %d good, %d partly rejected, %d failed", rep.Lines, rep.Good, rep.Partial, rep.Failed)
	if rep.Repeated > 0 {
		fmt.Fprintf(s.Out, ", %d repeated lines counted once", rep.Repeated)
	}
	if rep.Earlier > 0 {
		fmt.Fprintf(s.Out, ", %d of earlier rounds", rep.Earlier)
	}
	if rep.Unknown > 0 {
		fmt.Fprintf(s.Out, ", %d not of this job", rep.Unknown)
	}
	if rep.Malformed > 0 {
		fmt.Fprintf(s.Out, ", %d lines not results", rep.Malformed)
	}
	if rep.Missing > 0 {
		fmt.Fprintf(s.Out, ", %d requests unanswered", rep.Missing)
	}
	fmt.Fprintln(s.Out)
	var next []string
	if rep.Unsubmitted > 0 {
		next = append(next, fmt.Sprintf("%d batch files not submitted: xlate batch submit %s", rep.Unsubmitted, job.Dir()))
	}
	if rep.Running > 0 {
		next = append(next, fmt.Sprintf("%d batches still running: collect again later, or with --wait", rep.Running))
	}
	if unserved {
		next = append(next, fmt.Sprintf("the engine does not serve the model the lines name, %s: run vLLM run_batch with --served-model-name %s (or prepare a new job with --model set to the served name)", model, model))
	}
	fmt.Fprintf(s.Out, "outputs: %d written, %d need another round (%d only their summary), %d failed\n",
		rep.Written, rep.Incomplete, rep.NeedSummary, rep.Broken)
	if rep.Incomplete > 0 && rep.Running == 0 && rep.Unsubmitted == 0 {
		next = append(next, fmt.Sprintf("next round: xlate batch prepare -o %s, then submit and collect (or run the rest online: xlate -o OUT INPUTS)", job.Dir()))
	}
	for _, n := range next {
		fmt.Fprintln(s.Out, "next: "+strings.TrimSpace(n))
	}
	if rep.Incomplete > 0 || rep.Broken > 0 || rep.Running > 0 || rep.Unsubmitted > 0 {
		return exitError(ExitFailed)
	}
	return nil
}
