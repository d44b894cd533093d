package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// TestDryRunPlansADirectory: over the corpus, whose files repeat
// paragraphs, the plan counts each repeated paragraph once, as the run
// asks for it once, and its request count is the run's (within 5%: which
// file's chunk carries a repeated paragraph depends on timing). The run is
// onlineReference's: the corpus with -q on a new cache, as the plan here.
func TestDryRunPlansADirectory(t *testing.T) {
	onlineReference(t)
	srv := fakeopenai.New(t, fakeopenai.Options{})
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := runXlate(t, env(t, srv, t.TempDir()), nil, "--dry-run", "--report", plan, "-o", filepath.Join(t.TempDir(), "out"), filepath.Join("testdata", "corpus"))
	if r.code != 0 || srv.Count() != 0 {
		t.Fatalf("dry run: exit %d, %d requests: %s", r.code, srv.Count(), r.stderr)
	}
	var p struct {
		DryRun         bool `json:"dry_run"`
		SharedSegments int  `json:"shared_segments"`
		Requests       int  `json:"requests"`
	}
	var run struct {
		FilesDone int   `json:"files_done"`
		Requests  int64 `json:"requests"`
	}
	for f, v := range map[string]any{plan: &p, reference.report: &run} {
		if b, err := os.ReadFile(f); err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if !p.DryRun || run.FilesDone < 40 || run.Requests == 0 {
		t.Fatalf("plan %+v, run %+v", p, run)
	}
	t.Logf("plan: %d requests, %d repeated segments; run: %d requests", p.Requests, p.SharedSegments, run.Requests)
	if p.SharedSegments == 0 {
		t.Errorf("plan: no paragraph repeated across the corpus files: %+v", p)
	}
	if d := float64(p.Requests-int(run.Requests)) / float64(run.Requests); d > 0.05 || d < -0.05 {
		t.Errorf("plan: %d requests, run: %d", p.Requests, run.Requests)
	}
}
