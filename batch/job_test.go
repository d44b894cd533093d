package batch

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name string
		job  string // job.json; "" for none
		want string // in the error; "" for none
	}{
		{"no job", "", "is not a batch job directory (no job.json): run xlate batch prepare -o"},
		{"not JSON", "{", "job.json: unexpected end of JSON input"},
		{"other format", `{"version":2}`, "job.json: job format 2, this xlate reads 1"},
		{"job", `{"version":1,"round":3,"settings":{"model":"m","lang":"English","layout":"bilingual","summary":false}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.job != "" {
				if err := os.WriteFile(filepath.Join(dir, jobFile), []byte(tc.job), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			j, err := Open(dir)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Dir() != dir || j.Model() != "m" || j.Round != 3 || j.Settings.Lang != "English" {
				t.Errorf("dir %q, model %q, round %d, settings %+v", j.Dir(), j.Model(), j.Round, j.Settings)
			}
		})
	}
}

func TestNewRound(t *testing.T) {
	other := Settings{Model: "other-model", Lang: "French", Layout: "translation"}
	tests := []struct {
		name   string
		setup  func(j *Job) // the job already in the directory; nil for none
		inputs []string
		want   string // in the error
		round  int
		keep   bool // the earlier settings and inputs are kept
		next   bool // the earlier round is archived on commit
	}{
		{name: "new, no inputs", want: "no inputs: give the files or directories to translate"},
		{name: "new", inputs: []string{"a", "/abs/b"}, round: 1},
		{name: "prepared", setup: func(*Job) {}, inputs: []string{"a"}, round: 1},
		{name: "prepared, no inputs", setup: func(*Job) {}, round: 1, keep: true},
		{name: "uploaded", setup: func(j *Job) { j.Parts[0].FileID = "file-1" }, want: "was submitted and is not collected yet"},
		{name: "submitted", setup: func(j *Job) { j.Parts[0].FileID, j.Parts[0].BatchID = "file-1", "batch-1" }, want: "run xlate batch collect"},
		{name: "collected, a batch not downloaded", setup: func(j *Job) {
			j.Parts[0].FileID, j.Parts[0].BatchID, j.Parts[0].Downloaded = "file-1", "batch-1", true
			j.Parts[1].FileID, j.Parts[1].BatchID = "file-2", "batch-2"
			j.Collected = true
		}, want: "is not collected yet"},
		{name: "collected", setup: func(j *Job) {
			for i, p := range j.Parts {
				p.FileID, p.BatchID, p.Downloaded = "file-"+p.Name, "batch-"+string(rune('a'+i)), true
			}
			j.Collected = true
		}, round: 2, keep: true, next: true},
		{name: "collected from files", setup: func(j *Job) { j.Collected = true }, inputs: []string{"a"}, round: 2, next: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "job")
			var old *Job
			if tc.setup != nil {
				old = newJob(t, 2, 1)
				dir = old.dir
				tc.setup(old)
				if err := old.save(); err != nil {
					t.Fatal(err)
				}
			}
			j, err := NewRound(dir, tc.inputs, other)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Round != tc.round || j.Version != formatV || j.Dir() != dir || j.Created.IsZero() || len(j.Parts) != 0 || len(j.Files) != 0 {
				t.Errorf("round %d (want %d), version %d, dir %q, created %v, %d parts, %d files", j.Round, tc.round, j.Version, j.Dir(), j.Created, len(j.Parts), len(j.Files))
			}
			wantSettings, wantInputs := other, []string{}
			for _, in := range tc.inputs {
				abs, _ := filepath.Abs(in)
				wantInputs = append(wantInputs, abs)
			}
			if tc.keep {
				wantSettings, wantInputs = old.Settings, old.Inputs
			}
			if j.Settings.Model != wantSettings.Model || j.Settings.Lang != wantSettings.Lang || !slices.Equal(j.Inputs, wantInputs) {
				t.Errorf("settings %+v, inputs %q; want %+v, %q", j.Settings, j.Inputs, wantSettings, wantInputs)
			}
			if got := j.previous != nil; got != tc.next {
				t.Errorf("earlier round to archive: %v, want %v", got, tc.next)
			}
			if _, err := os.Stat(dir); tc.setup == nil && err == nil {
				t.Error("NewRound wrote into a new directory")
			}
		})
	}
}

// collectedRound plans a round of texts in dir and marks it collected,
// as a collect from files does.
func collectedRound(t *testing.T, dir string, texts ...string) *Job {
	t.Helper()
	j := planRound(t, dir, []string{"in"}, settings, texts...)
	j.Collected = true
	if err := j.save(); err != nil {
		t.Fatal(err)
	}
	return j
}

// list returns the names in dir, sorted.
func list(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCommitArchivesRound: committing the next round moves the collected
// one's files into rounds/N/, batch files it no longer has included, and
// puts the new ones in place.
func TestCommitArchivesRound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job")
	first := newJobIn(t, dir, 3, 2)
	if _, err := Collect(context.Background(), first, CollectOptions{From: []string{writeFile(t, translated("第1段。"))}}, (&judge{}).judge); err != nil {
		t.Fatal(err)
	}
	results := list(t, filepath.Join(dir, resultsDir))
	firstJob, _ := os.ReadFile(filepath.Join(dir, jobFile))
	second := planRound(t, dir, nil, settings, "第4段。")
	if second.Round != 2 || len(second.Parts) != 1 {
		t.Fatalf("round %d, %d parts", second.Round, len(second.Parts))
	}
	if got, want := list(t, filepath.Join(dir, "rounds", "1")), []string{jobFile, manifestFile, "requests-001.jsonl", "requests-002.jsonl", resultsDir}; !slices.Equal(got, want) {
		t.Errorf("rounds/1 holds %q, want %q", got, want)
	}
	if got := list(t, filepath.Join(dir, "rounds", "1", resultsDir)); !slices.Equal(got, results) {
		t.Errorf("rounds/1/results holds %q, want %q", got, results)
	}
	if kept, _ := os.ReadFile(filepath.Join(dir, "rounds", "1", jobFile)); string(kept) != string(firstJob) {
		t.Error("rounds/1/job.json is not round 1's")
	}
	if got, want := list(t, dir), []string{jobFile, manifestFile, "requests-001.jsonl", "rounds"}; !slices.Equal(got, want) {
		t.Errorf("the job directory holds %q, want %q", got, want)
	}
	reopened, err := Open(dir)
	if err != nil || reopened.Round != 2 || reopened.Collected || len(reopened.Parts) != 1 {
		t.Errorf("job.json after commit: %+v, %v", reopened, err)
	}
	m, err := reopened.openManifest()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.at) != 1 || m.at[idOf("第4段。")] != 0 {
		t.Errorf("manifest of round 2: %v", m.at)
	}
}

// newJobIn is newJob in dir.
func newJobIn(t *testing.T, dir string, n, maxRequests int) *Job {
	t.Helper()
	var texts []string
	for i := range n {
		texts = append(texts, "第"+string(rune('1'+i))+"段。")
	}
	job, err := NewRound(dir, []string{"in"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWriter(maxRequests, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, text := range texts {
		job.Files = append(job.Files, File{In: "/in/" + text, Out: text})
		if err := w.AddTranslation(i, request(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(0); err != nil {
		t.Fatal(err)
	}
	return job
}

// TestRecoverInterruptedPrepare: a prepare interrupted after it moved
// the last round into rounds/N/ (job.json last), or in the middle of it,
// leaves a job the next prepare continues from.
func TestRecoverInterruptedPrepare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job")
	collectedRound(t, dir, "第1段。")
	second := planRound(t, dir, nil, settings, "第2段。")
	second.Collected = true
	if err := second.save(); err != nil {
		t.Fatal(err)
	}
	// Interrupted after round 2 moved away: no job.json in dir.
	if err := second.archive(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, jobFile)); !os.IsNotExist(err) {
		t.Fatalf("job.json still in place: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rounds", "old", jobFile), 0o755); err != nil { // not a round
		t.Fatal(err)
	}
	got, err := openOrRecover(dir)
	if err != nil || got == nil {
		t.Fatalf("recover: %v, %v", got, err)
	}
	if got.Round != 2 || !got.archived || got.Dir() != dir || !got.Collected {
		t.Errorf("recovered round %d, archived %v, dir %q, collected %v", got.Round, got.archived, got.Dir(), got.Collected)
	}
	archived := list(t, filepath.Join(dir, "rounds", "2"))
	third := planRound(t, dir, nil, Settings{}, "第3段。")
	if third.Round != 3 || third.Settings.Model != settings.Model || third.Inputs[0] != second.Inputs[0] {
		t.Errorf("round %d, settings %+v, inputs %q", third.Round, third.Settings, third.Inputs)
	}
	if now := list(t, filepath.Join(dir, "rounds", "2")); !slices.Equal(now, archived) {
		t.Errorf("rounds/2 changed from %q to %q", archived, now)
	}
	if r, err := Open(dir); err != nil || r.Round != 3 {
		t.Errorf("job.json: %v", err)
	}

	// Interrupted in the middle of archiving round 3: its manifest moved,
	// its job.json not. The next commit moves the rest.
	third.Collected = true
	if err := third.save(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rounds", "3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, manifestFile), filepath.Join(dir, "rounds", "3", manifestFile)); err != nil {
		t.Fatal(err)
	}
	if fourth := planRound(t, dir, nil, settings, "第4段。"); fourth.Round != 4 {
		t.Errorf("round %d after an interrupted archive", fourth.Round)
	}
	if got, want := list(t, filepath.Join(dir, "rounds", "3")), []string{jobFile, manifestFile, "requests-001.jsonl"}; !slices.Equal(got, want) {
		t.Errorf("rounds/3 holds %q, want %q", got, want)
	}
}

func TestOpenOrRecover(t *testing.T) {
	dir := t.TempDir()
	if j, err := openOrRecover(dir); j != nil || err != nil {
		t.Errorf("empty directory: %v, %v", j, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rounds", "4"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rounds", "4", jobFile), []byte(`{"version":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openOrRecover(dir); err == nil || !strings.Contains(err.Error(), "job format 9") {
		t.Errorf("unreadable last round: %v", err)
	}
	if _, err := NewRound(dir, []string{"a"}, settings); err == nil {
		t.Error("NewRound over an unreadable round succeeded")
	}
}

func TestSubmitted(t *testing.T) {
	tests := []struct {
		name        string
		parts       []*Part
		submitted   bool
		unsubmitted int
	}{
		{"no parts", nil, false, 0},
		{"prepared", []*Part{{Name: "a"}, {Name: "b"}}, false, 2},
		{"uploaded", []*Part{{Name: "a", FileID: "f"}, {Name: "b"}}, true, 2},
		{"one batch", []*Part{{Name: "a", FileID: "f", BatchID: "b"}, {Name: "b"}}, true, 1},
		{"batch id only", []*Part{{Name: "a", BatchID: "b"}}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := &Job{Parts: tc.parts}
			if got := j.submitted(); got != tc.submitted {
				t.Errorf("submitted() = %v", got)
			}
			if got := j.Unsubmitted(); got != tc.unsubmitted {
				t.Errorf("Unsubmitted() = %d, want %d", got, tc.unsubmitted)
			}
		})
	}
}

func TestContentSum(t *testing.T) {
	a, b := ContentSum([]byte("# 标题\n正文\n")), ContentSum([]byte("# 标题\n正文。\n"))
	if _, err := hex.DecodeString(a); err != nil || len(a) != 32 {
		t.Errorf("ContentSum = %q: want 32 hex digits", a)
	}
	if a == b {
		t.Error("two contents, one sum")
	}
	if a != ContentSum([]byte("# 标题\n正文\n")) {
		t.Error("the same content, two sums")
	}
}
