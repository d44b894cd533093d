package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
)

// runReport is the --report JSON of a run. Field names are part of xlate's
// interface: scripts and the benchmark read them.
type runReport struct {
	Model            string   `json:"model"`
	FilesDone        int      `json:"files_done"`
	FilesCached      int      `json:"files_cached"`
	FilesFailed      int      `json:"files_failed"`
	Interrupted      bool     `json:"interrupted"`
	Requests         int64    `json:"requests"`
	Retries          int64    `json:"retries"`
	RateLimited      int64    `json:"rate_limited"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
	SourceTokens     int64    `json:"source_tokens"`
	EstimatedCostUSD *float64 `json:"estimated_cost_usd"` // null for a model without a known price
	WallSeconds      float64  `json:"wall_seconds"`
	// Reasks counts requests made again for suspect or bad answers;
	// Suspects lists the segments that had a suspect answer.
	Reasks   int             `json:"reasks"`
	Suspects []suspectReport `json:"suspects"`
}

// suspectReport is a segment whose answer was judged no translation.
type suspectReport struct {
	File     string `json:"file"`
	Segment  string `json:"segment"` // "title" or "paragraph N"
	Reason   string `json:"reason"`
	Answer   string `json:"answer"` // the last suspect answer (link targets as L1, L2, …)
	Accepted bool   `json:"accepted"`
}

// planReport is the --report JSON of a dry run.
type planReport struct {
	DryRun               bool     `json:"dry_run"`
	Model                string   `json:"model"`
	Files                int      `json:"files"`
	FilesFailed          int      `json:"files_failed"`
	Segments             int      `json:"segments"`
	CachedSegments       int      `json:"cached_segments"`
	SharedSegments       int      `json:"shared_segments"` // repeated from another file: asked once
	Chunks               int      `json:"chunks"`
	Requests             int      `json:"requests"`
	SourceTokens         int      `json:"source_tokens"`
	InputTokens          int      `json:"input_tokens"`
	OutputTokensEstimate int      `json:"output_tokens_estimate"`
	EstimatedCostUSD     *float64 `json:"estimated_cost_usd"`
}

// priceBasis says what a cost estimate rests on: list prices looked up by
// the model's name (whoever serves it), or the prices given.
func (o options) priceBasis() string {
	if o.priceGiven {
		return "at the given prices"
	}
	return "estimated at " + o.model + " list prices"
}

func (o options) cost(in, out int64) *float64 {
	if !o.priceKnown {
		return nil
	}
	c := o.price.Cost(in, out)
	return &c
}

func writeReport(o options, rep pipeline.Report, st llm.Stats, wall time.Duration) error {
	var v any
	if o.dryRun {
		pl := rep.Plan
		v = planReport{
			DryRun: true, Model: o.model, Files: pl.Files, FilesFailed: rep.Failed, Segments: pl.Segments,
			CachedSegments: pl.CachedSegments, SharedSegments: pl.SharedSegments, Chunks: pl.Chunks, Requests: pl.Requests, SourceTokens: pl.SourceTokens,
			InputTokens: pl.InputTokens, OutputTokensEstimate: pl.OutputTokens,
			EstimatedCostUSD: o.cost(int64(pl.InputTokens), int64(pl.OutputTokens)),
		}
	} else {
		v = runReport{
			Model: o.model, FilesDone: rep.Done, FilesCached: rep.Cached, FilesFailed: rep.Failed, Interrupted: rep.Interrupted,
			Requests: st.Requests, Retries: st.Retries, RateLimited: st.RateLimited,
			PromptTokens: st.PromptTokens, CompletionTokens: st.CompletionTokens, SourceTokens: rep.SourceTokens,
			EstimatedCostUSD: o.cost(st.PromptTokens, st.CompletionTokens), WallSeconds: wall.Seconds(),
			Reasks: rep.Reasks, Suspects: []suspectReport{},
		}
		for _, s := range rep.Suspects {
			seg := "title"
			if s.Index >= 0 {
				seg = fmt.Sprintf("paragraph %d", s.Index+1)
			}
			r := v.(runReport)
			r.Suspects = append(r.Suspects, suspectReport{File: s.Path, Segment: seg, Reason: s.Reason, Answer: s.Answer, Accepted: s.Accepted})
			v = r
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(o.report, append(b, '\n'))
}

// summaryLine is the one line that ends a run on stderr.
func summaryLine(o options, rep pipeline.Report, st llm.Stats, wall time.Duration) string {
	// "from cache or shared": on an empty cache, a file whose paragraphs
	// and summary another file of the run asked for needed no request.
	line := fmt.Sprintf("xlate: %d done (%d from cache or shared), %d failed; %d requests, %d retries, %d tokens in, %d out",
		rep.Done, rep.Cached, rep.Failed, st.Requests, st.Retries, st.PromptTokens, st.CompletionTokens)
	if rep.Reasks > 0 {
		line += fmt.Sprintf(", %d re-asks", rep.Reasks)
	}
	if rep.Own > 0 {
		line += fmt.Sprintf(", %d xlate outputs skipped", rep.Own)
	}
	if c := o.cost(st.PromptTokens, st.CompletionTokens); c != nil {
		line += fmt.Sprintf(", ~$%.4f %s", *c, o.priceBasis())
	}
	return line + "; " + wall.Round(time.Millisecond).String()
}

// writePlan prints a dry run's plan.
func writePlan(w io.Writer, o options, rep pipeline.Report) {
	pl := rep.Plan
	share := 0.0
	if pl.Segments > 0 {
		share = 100 * float64(pl.CachedSegments) / float64(pl.Segments)
	}
	fmt.Fprintf(w, "files:     %d planned, %d failed to parse\n", pl.Files, rep.Failed)
	fmt.Fprintf(w, "segments:  %d to translate, %d cached (%.0f%%)", pl.Segments, pl.CachedSegments, share)
	if pl.SharedSegments > 0 {
		fmt.Fprintf(w, ", %d repeated from other files (asked once)", pl.SharedSegments)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "requests:  %d (%d translation chunks, the rest summaries), before retries\n", pl.Requests, pl.Chunks)
	fmt.Fprintf(w, "tokens:    %d source, %d input, ~%d output (estimated)\n", pl.SourceTokens, pl.InputTokens, pl.OutputTokens)
	if c := o.cost(int64(pl.InputTokens), int64(pl.OutputTokens)); c != nil {
		fmt.Fprintf(w, "cost:      ~$%.4f (%s at $%.2f in / $%.2f out per 1M tokens)\n", *c, o.model, o.price.In, o.price.Out)
	} else {
		fmt.Fprintf(w, "cost:      unknown for model %q (set --price-in and --price-out)\n", o.model)
	}
}
