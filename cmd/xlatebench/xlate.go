package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// moduleRoot returns the directory of the main module's go.mod (the xlate
// checkout the benchmark builds).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module; run from the xlate checkout")
	}
	return filepath.Dir(mod), nil
}

// buildXlate builds the xlate binary of the module at root into dir.
func buildXlate(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "xlate")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build xlate: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return bin, nil
}

// features are the optional flags of issue 4 that the binary has.
type features struct {
	Limits bool // --rpm, --tpm
	Report bool // --report FILE
	DryRun bool // --dry-run
}

// missing names the features absent, for the output.
func (f features) missing() []string {
	var m []string
	if !f.Limits {
		m = append(m, "--rpm/--tpm")
	}
	if !f.Report {
		m = append(m, "--report")
	}
	if !f.DryRun {
		m = append(m, "--dry-run")
	}
	return m
}

// detectFeatures reads xlate --help.
func detectFeatures(ctx context.Context, bin string) (features, error) {
	out, err := exec.CommandContext(ctx, bin, "--help").CombinedOutput()
	if err != nil {
		return features{}, fmt.Errorf("xlate --help: %w", err)
	}
	h := string(out)
	return features{
		Limits: strings.Contains(h, "--rpm") && strings.Contains(h, "--tpm"),
		Report: strings.Contains(h, "--report"),
		DryRun: strings.Contains(h, "--dry-run"),
	}, nil
}

// report is xlate's --report JSON (a translation run, or a dry run when
// DryRun is set). Fields absent from the file stay zero.
type report struct {
	Model            string  `json:"model"`
	FilesDone        int     `json:"files_done"`
	FilesCached      int     `json:"files_cached"`
	FilesFailed      int     `json:"files_failed"`
	Requests         int     `json:"requests"`
	Retries          int     `json:"retries"`
	RateLimited      int     `json:"rate_limited"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	SourceTokens     int     `json:"source_tokens"`
	EstimatedCost    float64 `json:"estimated_cost_usd"`
	WallSeconds      float64 `json:"wall_seconds"`

	DryRun               bool `json:"dry_run"`
	Files                int  `json:"files"`
	Segments             int  `json:"segments"`
	CachedSegments       int  `json:"cached_segments"`
	Chunks               int  `json:"chunks"`
	InputTokens          int  `json:"input_tokens"`
	OutputTokensEstimate int  `json:"output_tokens_estimate"`
}

// xlateRun is one run of the binary.
type xlateRun struct {
	Args     []string
	Wall     time.Duration
	CPU      time.Duration // user + system, from rusage
	MaxRSSKB int64         // peak resident set, KiB (0 when unknown)
	Exit     int
	Stdout   []byte
	Stderr   []byte
	Report   *report // nil without --report or when the file is missing
}

// runner runs the xlate binary in a clean environment.
type runner struct {
	bin      string
	home     string // HOME for the child (keeps the user's cache out)
	baseURL  string
	features features
}

// run runs xlate with args, the cache in cacheDir and, when the binary
// supports it and reportFile is not empty, --report reportFile.
func (x *runner) run(ctx context.Context, cacheDir, reportFile string, args ...string) (*xlateRun, error) {
	if reportFile != "" && x.features.Report {
		args = append([]string{"--report", reportFile}, args...)
	}
	cmd := exec.CommandContext(ctx, x.bin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + x.home,
		"OPENAI_BASE_URL=" + x.baseURL,
		"OPENAI_API_KEY=sk-xlatebench-fake",
		"XLATE_CACHE_DIR=" + cacheDir,
		"XLATE_MODEL=gpt-4o-mini", // a model with a known price, for the cost estimate
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := &xlateRun{Args: args, Wall: time.Since(start), Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if cmd.ProcessState != nil {
		r.Exit = cmd.ProcessState.ExitCode()
		r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		r.MaxRSSKB = maxRSSKB(cmd.ProcessState)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return r, fmt.Errorf("run xlate: %w", err)
	}
	if reportFile != "" && x.features.Report {
		if data, err := os.ReadFile(reportFile); err == nil {
			var rep report
			if err := json.Unmarshal(data, &rep); err != nil {
				return r, fmt.Errorf("read xlate report: %w", err)
			}
			r.Report = &rep
		}
	}
	return r, nil
}

// failure describes a failed run for the output: exit code and the end of
// stderr.
func (r *xlateRun) failure() string {
	tail := strings.TrimSpace(string(r.Stderr))
	if lines := strings.Split(tail, "\n"); len(lines) > 10 {
		tail = strings.Join(lines[len(lines)-10:], "\n")
	}
	return fmt.Sprintf("xlate %s: exit %d\n%s", strings.Join(r.Args, " "), r.Exit, tail)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
