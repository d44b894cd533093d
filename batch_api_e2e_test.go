package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// Batch files true to the real APIs: the model the lines name, what
// --from accepts, the file limits, the counts and OpenAI's enqueued token
// limit, each through the binary against the in-repo fake. Their input is
// faultDir (seven corpus files, every input shape), whose batch files have
// every kind of line; only the enqueued token limit needs the corpus's
// number of requests (four parts of 20).

// vllmRun runs the job's batch files through the fake's vLLM run_batch
// with opts and returns the collect arguments naming its output files.
func vllmRun(t *testing.T, job string, opts fakeopenai.Options) []string {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(job, "requests-*.jsonl"))
	if len(parts) == 0 {
		t.Fatalf("no batch files in %s", job)
	}
	var args []string
	dir := t.TempDir()
	for i, p := range parts {
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := fakeopenai.VLLMRunBatch(in, opts)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("results-%03d.jsonl", i+1))
		if err := os.WriteFile(f, res, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--from", f)
	}
	return args
}

// offline is env with no API reachable.
func offline(t *testing.T, srv *fakeopenai.Server) []string {
	environ := env(t, srv, t.TempDir())
	for i, e := range environ {
		if strings.HasPrefix(e, "OPENAI_BASE_URL=") {
			environ[i] = "OPENAI_BASE_URL=http://127.0.0.1:1/v1"
		}
	}
	return environ
}

// answers parses collect's "answers:" line: read, good, failed.
func answers(t *testing.T, stdout string) (read, good, failed int) {
	t.Helper()
	m := regexp.MustCompile(`answers: (\d+) read, (\d+) good, \d+ partly rejected, (\d+) failed`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no answers line in\n%s", stdout)
	}
	read, _ = strconv.Atoi(m[1])
	good, _ = strconv.Atoi(m[2])
	failed, _ = strconv.Atoi(m[3])
	return
}

// planned parses prepare's request count.
func planned(t *testing.T, stdout string) int {
	t.Helper()
	m := regexp.MustCompile(`requests: (\d+) translation, (\d+) summary`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no requests line in\n%s", stdout)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a + b
}

// TestBatchVLLMServedModel: prepare says which model the lines name; a
// vLLM serving another name fails every line with vLLM's 404, and collect
// points at --served-model-name; lines naming the served model are answered.
func TestBatchVLLMServedModel(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	environ := offline(t, srv)
	in := faultDir(t)
	job := filepath.Join(t.TempDir(), "job")
	r := runXlate(t, environ, nil, "batch", "prepare", "-o", job, in)
	if r.code != 0 || !strings.Contains(r.stdout, "model:    fake-model (every request line names it; vLLM run_batch: --served-model-name fake-model)") {
		t.Fatalf("prepare: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n := planned(t, r.stdout)
	served := "Qwen/Qwen2.5-7B-Instruct"
	from := vllmRun(t, job, fakeopenai.Options{Model: served}) // run_batch --model Qwen/... : serves that name only
	r = runXlate(t, environ, nil, append(append([]string{"batch", "collect"}, from...), job)...)
	if read, good, failed := answers(t, r.stdout); r.code == 0 || read != n || good != 0 || failed != n ||
		!strings.Contains(r.stderr, "The model `fake-model` does not exist.") ||
		!strings.Contains(r.stdout, "--served-model-name fake-model") {
		t.Errorf("collect of a run serving %s: exit %d\n%s%s", served, r.code, r.stdout, r.stderr)
	}

	job2 := filepath.Join(t.TempDir(), "job")
	r = runXlate(t, environ, nil, "batch", "prepare", "--model", served, "-o", job2, in)
	if r.code != 0 || !strings.Contains(r.stdout, "model:    "+served+" ") {
		t.Fatalf("prepare --model: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n = planned(t, r.stdout)
	from = vllmRun(t, job2, fakeopenai.Options{Models: []string{served}})
	r = runXlate(t, environ, nil, append(append([]string{"batch", "collect"}, from...), job2)...)
	if read, good, failed := answers(t, r.stdout); read != n || good != n || failed != 0 {
		t.Errorf("collect of lines naming the served model: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "does not exist") {
		t.Errorf("served model refused:\n%s", r.stderr)
	}
}

// TestBatchFromRefusesRequests: collect --from a batch input file (by
// mistake) is refused, names the file, keeps nothing and does not mark
// the job collected; the real results then go through.
func TestBatchFromRefusesRequests(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	environ := offline(t, srv)
	job := filepath.Join(t.TempDir(), "job")
	r := runXlate(t, environ, nil, "batch", "prepare", "-o", job, faultDir(t))
	if r.code != 0 {
		t.Fatalf("prepare: exit %d\n%s", r.code, r.stderr)
	}
	n := planned(t, r.stdout)
	input := filepath.Join(job, "requests-001.jsonl")
	r = runXlate(t, environ, nil, "batch", "collect", "--from", input, job)
	if r.code == 0 || !strings.Contains(r.stderr, input) || !strings.Contains(r.stderr, "not batch results") || !strings.Contains(r.stderr, "batch input file") {
		t.Errorf("collect --from the input file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if kept, _ := filepath.Glob(filepath.Join(job, "results", "*")); len(kept) != 0 {
		t.Errorf("kept in results/: %v", kept)
	}
	data, _ := os.ReadFile(filepath.Join(job, "job.json"))
	if strings.Contains(string(data), `"collected"`) {
		t.Errorf("the job is marked collected:\n%s", data)
	}
	// A file of request lines and garbage only is refused too.
	mixed := filepath.Join(t.TempDir(), "mixed.jsonl")
	in, _ := os.ReadFile(input)
	if err := os.WriteFile(mixed, append(in, "not json\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = runXlate(t, environ, nil, "batch", "collect", "--from", mixed, job); r.code == 0 || !strings.Contains(r.stderr, mixed) {
		t.Errorf("collect --from requests and garbage: exit %d\n%s", r.code, r.stderr)
	}
	from := vllmRun(t, job, fakeopenai.Options{})
	r = runXlate(t, environ, nil, append(append([]string{"batch", "collect"}, from...), job)...)
	if read, good, _ := answers(t, r.stdout); read != n || good != n || strings.Contains(r.stderr, "not a batch result") {
		t.Errorf("collect of the real results: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestBatchLimitFlags: the Batch API's file limits are 50,000 requests and
// 200 MB, decimal; limits over them are refused (exit 2) unless
// --no-limit-check.
func TestBatchLimitFlags(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	environ := offline(t, srv)
	in := faultDir(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--max-requests", "50001"}, 2, "--max-requests 50001 is over the Batch API's 50000 requests"},
		{[]string{"--max-bytes", "200000001"}, 2, "--max-bytes 200000001 is over the Batch API's 200 MB (200000000 bytes)"},
		{[]string{"--max-bytes", "209715200"}, 2, "over the Batch API's 200 MB"}, // 200 MiB
		{[]string{"--max-requests", "0"}, 2, "--max-requests 0"},
		{[]string{"--max-requests", "50000", "--max-bytes", "200000000"}, 0, ""},
		{[]string{"--max-requests", "100000", "--max-bytes", "500000000", "--no-limit-check"}, 0, ""},
	} {
		job := filepath.Join(t.TempDir(), "job")
		r := runXlate(t, environ, nil, append(append([]string{"batch", "prepare", "-o", job}, tc.args...), in)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("prepare %v: exit %d, want %d with %q\n%s", tc.args, r.code, tc.code, tc.msg, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(job, "job.json")); (err == nil) != (tc.code == 0) {
			t.Errorf("prepare %v: job.json: %v", tc.args, err)
		}
	}
	r := runXlate(t, environ, nil, "batch", "prepare", "--help")
	if !strings.Contains(r.stdout, "(default: 200000000)") || !strings.Contains(r.stdout, "--no-limit-check") {
		t.Errorf("prepare --help:\n%s", r.stdout)
	}
}

// TestBatchCountsOncePerRequest: results given twice (overlapping files)
// count once per custom_id; in the next round, round 1's results count
// apart from the round's own.
func TestBatchCountsOncePerRequest(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	environ := offline(t, srv)
	job := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	r := runXlate(t, environ, nil, "batch", "prepare", "-o", job, faultDir(t))
	if r.code != 0 {
		t.Fatalf("prepare: exit %d\n%s", r.code, r.stderr)
	}
	n := planned(t, r.stdout)
	round1 := vllmRun(t, job, fakeopenai.Options{})
	// The same results again, in another file: its first line dropped.
	first, _ := os.ReadFile(round1[1])
	again := filepath.Join(t.TempDir(), "again.jsonl")
	if err := os.WriteFile(again, first[strings.IndexByte(string(first), '\n')+1:], 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"batch", "collect", "-o", out}, round1...), "--from", again, job)
	r = runXlate(t, environ, nil, args...)
	if read, good, failed := answers(t, r.stdout); read != n || good != n || failed != 0 || !strings.Contains(r.stdout, "repeated lines counted once") {
		t.Errorf("round 1, %d requests, results given twice: exit %d\n%s%s", n, r.code, r.stdout, r.stderr)
	}
	r = runXlate(t, environ, nil, "batch", "prepare", "-o", job)
	if r.code != 0 || !strings.Contains(r.stdout, "round 2:") {
		t.Fatalf("round 2 prepare: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n2 := planned(t, r.stdout)
	round2 := vllmRun(t, job, fakeopenai.Options{})
	r = runXlate(t, environ, nil, append(append(append([]string{"batch", "collect", "-o", out}, round1...), round2...), job)...)
	if read, good, _ := answers(t, r.stdout); read != n2 || good != n2 || !strings.Contains(r.stdout, fmt.Sprintf(", %d of earlier rounds", n)) {
		t.Errorf("round 2, %d requests, with round 1's %d results: exit %d\n%s%s", n2, n, r.code, r.stdout, r.stderr)
	}
}

// jobParts reads the parts of a job.json.
func jobParts(t *testing.T, job string) []struct {
	Name    string `json:"name"`
	Tokens  int64  `json:"tokens"`
	BatchID string `json:"batch_id"`
	Status  string `json:"status"`
} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(job, "job.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Parts []struct {
			Name    string `json:"name"`
			Tokens  int64  `json:"tokens"`
			BatchID string `json:"batch_id"`
			Status  string `json:"status"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	return j.Parts
}

// TestBatchEnqueuedTokens: the fake fails a batch over its enqueued token
// limit (token_limit_exceeded) as OpenAI does; submit
// --max-enqueued-tokens keeps the job's queued batches under it, status
// submits nothing, submit --wait submits the rest as batches end, and
// every request is answered.
func TestBatchEnqueuedTokens(t *testing.T) {
	prepare := func(t *testing.T, environ []string) (string, int64, int) {
		job := filepath.Join(t.TempDir(), "job")
		r := runXlate(t, environ, nil, "batch", "prepare", "--max-requests", "20", "-o", job, filepath.Join("testdata", "corpus"))
		if r.code != 0 {
			t.Fatalf("prepare: exit %d\n%s", r.code, r.stderr)
		}
		var most int64
		parts := jobParts(t, job)
		for _, p := range parts {
			most = max(most, p.Tokens)
		}
		if len(parts) < 4 || most == 0 {
			t.Fatalf("%d parts, largest %d tokens: the test needs more", len(parts), most)
		}
		return job, 2 * most, planned(t, r.stdout)
	}

	t.Run("no limit given", func(t *testing.T) {
		srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: 2})
		environ := env(t, srv, t.TempDir())
		job, limit, _ := prepare(t, environ)
		srv.LimitEnqueuedTokens(limit)
		if r := runXlate(t, environ, nil, "batch", "submit", job); r.code != 0 {
			t.Fatalf("submit: exit %d\n%s", r.code, r.stderr)
		}
		var r result
		for range 4 { // each status is one poll; validation ends at the third
			if r = runXlate(t, environ, nil, "batch", "status", job); strings.Contains(r.stderr, "Enqueued token limit reached") {
				break
			}
		}
		if !strings.Contains(r.stderr, "Enqueued token limit reached") || !strings.Contains(r.stdout, "failed") {
			t.Errorf("no batch over the fake's limit failed:\n%s%s", r.stdout, r.stderr)
		}
	})

	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: 2})
	environ := env(t, srv, t.TempDir())
	job, limit, n := prepare(t, environ)
	srv.LimitEnqueuedTokens(limit)
	lim := strconv.FormatInt(limit, 10)

	if r := runXlate(t, environ, nil, "batch", "submit", "--max-enqueued-tokens", "10", job); r.code != 2 || !strings.Contains(r.stderr, "requests-001.jsonl holds") {
		t.Errorf("submit under a limit smaller than a file: exit %d\n%s", r.code, r.stderr)
	}
	r := runXlate(t, environ, nil, "batch", "submit", "--max-enqueued-tokens", lim, job)
	submitted := func() (n int, queued int64) {
		for _, p := range jobParts(t, job) {
			if p.BatchID != "" {
				n++
				queued += p.Tokens
			}
		}
		return
	}
	parts := len(jobParts(t, job))
	k, queued := submitted()
	if r.code != 0 || k == 0 || k == parts || queued > limit || !strings.Contains(r.stdout, "wait for room under --max-enqueued-tokens "+lim) {
		t.Fatalf("submit --max-enqueued-tokens %d: exit %d, %d of %d parts submitted (%d tokens)\n%s%s", limit, r.code, k, parts, queued, r.stdout, r.stderr)
	}
	// status only looks.
	if r = runXlate(t, environ, nil, "batch", "status", job); r.code != 0 {
		t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
	}
	if k2, _ := submitted(); k2 != k {
		t.Errorf("status submitted %d parts", k2-k)
	}
	r = runXlate(t, environ, nil, "batch", "submit", "--max-enqueued-tokens", lim, "--wait", "--poll", "10ms", job)
	if k, _ = submitted(); r.code != 0 || k != parts || strings.Contains(r.stdout, "wait for room") {
		t.Fatalf("submit --wait: exit %d, %d of %d parts submitted\n%s%s", r.code, k, parts, r.stdout, r.stderr)
	}
	r = runXlate(t, environ, nil, "batch", "collect", "--wait", "--poll", "10ms", job)
	if read, good, failed := answers(t, r.stdout); read != n || good != n || failed != 0 || strings.Contains(r.stderr, "token_limit_exceeded") {
		t.Errorf("collect: exit %d, want %d answers\n%s%s", r.code, n, r.stdout, r.stderr)
	}
	for _, p := range jobParts(t, job) {
		if p.Status != "completed" {
			t.Errorf("%s: %s", p.Name, p.Status)
		}
	}
}
