package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/batch"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/llm"
)

var jobSettings = batch.Settings{Model: "fake-model", Lang: "English", Layout: "bilingual", Summary: true}

// corpus copies a few corpus files into a fresh directory.
func corpus(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var names = []string{"DockerHub_国内镜像解决方案.md", "KEGG数据库.md", "TikTok案判决书全文翻译.md", "ChatGPT_Excel_效率飞起.md"}

func store(t *testing.T) cache.Store {
	t.Helper()
	d, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func api(t *testing.T, srv *fakeopenai.Server) *llm.BatchAPI {
	t.Helper()
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: "k", Model: jobSettings.Model})
	if err != nil {
		t.Fatal(err)
	}
	return c.Batches()
}

// line is a request line of a batch input file.
type line struct {
	CustomID string `json:"custom_id"`
	Method   string `json:"method"`
	URL      string `json:"url"`
}

// requestLines reads every line of the job's batch files.
func requestLines(t *testing.T, job *batch.Job) (lines []line) {
	t.Helper()
	for _, p := range job.Parts {
		data, err := os.ReadFile(filepath.Join(job.Dir(), p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != p.Bytes {
			t.Errorf("%s: %d bytes, job says %d", p.Name, len(data), p.Bytes)
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			lines = append(lines, l)
			n++
		}
		if n != p.Requests {
			t.Errorf("%s: %d lines, job says %d", p.Name, n, p.Requests)
		}
	}
	return lines
}

func TestPrepareSplitsWithinLimits(t *testing.T) {
	in := corpus(t, names...)
	all, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "all"), BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := requestLines(t, all)
	if len(all.Parts) != 1 || len(want) < 6 {
		t.Fatalf("one file expected with the default limits: %d parts, %d lines", len(all.Parts), len(want))
	}
	ids := map[string]bool{}
	for _, l := range want {
		if ids[l.CustomID] || l.Method != "POST" || l.URL != batch.Endpoint {
			t.Errorf("line %+v: duplicate id or wrong method/url", l)
		}
		ids[l.CustomID] = true
	}
	tests := []struct {
		name        string
		maxRequests int
		maxBytes    int64
	}{
		{"requests", 2, 0},
		{"bytes", 0, all.Parts[0].Bytes / 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "job"), BatchPrepareOptions{
				Inputs: []string{in}, Settings: jobSettings, Store: store(t), MaxRequests: tc.maxRequests, MaxBytes: tc.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			if len(job.Parts) < 2 {
				t.Fatalf("%d parts", len(job.Parts))
			}
			for _, p := range job.Parts {
				if tc.maxRequests > 0 && p.Requests > tc.maxRequests || tc.maxBytes > 0 && p.Bytes > tc.maxBytes {
					t.Errorf("%s: %d requests, %d bytes: over the limit", p.Name, p.Requests, p.Bytes)
				}
			}
			got := requestLines(t, job)
			if len(got) != len(want) {
				t.Fatalf("%d lines split, %d whole", len(got), len(want))
			}
			for i := range got {
				if got[i].CustomID != want[i].CustomID {
					t.Errorf("line %d: %s, want %s (same requests, same order)", i, got[i].CustomID, want[i].CustomID)
				}
			}
		})
	}
	if _, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "tiny"), BatchPrepareOptions{
		Inputs: []string{in}, Settings: jobSettings, Store: store(t), MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "over --max-bytes 100") || !strings.Contains(err.Error(), ".md: ") {
		t.Errorf("a request larger than --max-bytes: %v", err)
	}
}

func TestPrepareIsRepeatableAndGuardsSubmittedJobs(t *testing.T) {
	in := corpus(t, names[:2]...)
	dir := filepath.Join(t.TempDir(), "job")
	st := store(t)
	prep := func() (*batch.Job, error) {
		j, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st})
		return j, err
	}
	first, err := prep()
	if err != nil {
		t.Fatal(err)
	}
	firstBytes := mustRead(t, filepath.Join(dir, first.Parts[0].Name))
	again, err := prep()
	if err != nil {
		t.Fatal(err)
	}
	if again.Round != 1 || len(first.Parts) != len(again.Parts) {
		t.Fatalf("prepare again before submit: round %d, %d parts (was %d)", again.Round, len(again.Parts), len(first.Parts))
	}
	if !bytes.Equal(firstBytes, mustRead(t, filepath.Join(dir, again.Parts[0].Name))) {
		t.Errorf("%s differs between two prepares: the plan is not repeatable", again.Parts[0].Name)
	}

	// Interrupted before it is done, a prepare leaves the job as it was
	// and no temporary file.
	before := mustRead(t, filepath.Join(dir, "job.json"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := PrepareBatch(ctx, dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prepare: %v", err)
	}
	if !bytes.Equal(before, mustRead(t, filepath.Join(dir, "job.json"))) {
		t.Errorf("a cancelled prepare changed job.json")
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	if _, err := batch.Submit(context.Background(), again, api(t, srv), batch.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := prep(); err == nil || !strings.Contains(err.Error(), "not collected yet") {
		t.Errorf("prepare over a submitted job: %v", err)
	}
	if _, err := batch.Open(filepath.Join(t.TempDir(), "nothing")); err == nil || !strings.Contains(err.Error(), "not a batch job directory") {
		t.Errorf("Open of an empty directory: %v", err)
	}
}

// TestCollectExpiredAndFailedBatches: an expired batch's answered lines
// are used and the rest come back in the next round; a batch that failed
// validation is reported and its requests are planned again.
func TestCollectExpiredAndFailedBatches(t *testing.T) {
	in := corpus(t, names...)
	srv := fakeopenai.New(t, fakeopenai.Options{BatchFault: func(n int, _ string) fakeopenai.BatchFault {
		switch n {
		case 1:
			return fakeopenai.BatchFault{Expire: true, Answered: 1}
		case 2:
			return fakeopenai.BatchFault{FailCode: "token_limit_exceeded", FailMessage: "Enqueued token limit reached."}
		}
		return fakeopenai.BatchFault{}
	}})
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	job, first, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st, MaxRequests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Submit(context.Background(), job, api(t, srv), batch.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	var problems []string
	rep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{API: api(t, srv), Wait: true, Poll: time.Millisecond,
		Errorf: func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }}})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	if !strings.Contains(all, "Enqueued token limit reached") || !strings.Contains(all, "batch_expired") {
		t.Errorf("problems reported:\n%s", all)
	}
	if rep.Good == 0 || rep.Failed < 2 || rep.Incomplete == 0 {
		t.Errorf("report %+v", rep)
	}
	// A prepare interrupted right after moving round 1 away leaves no
	// job.json: the next prepare finds the job in rounds/1.
	moveRound(t, job)
	_, next, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if next.Round != 2 || next.Translations == 0 || next.Translations >= first.Translations {
		t.Errorf("round 2 plans %d translation requests (round 1: %d)", next.Translations, first.Translations)
	}
}

// TestDuplicateArticlesShareRequests: two copies of an article (and a
// third file sharing nothing) make one set of requests; the manifest lists
// both copies for them and collect writes both.
func TestDuplicateArticlesShareRequests(t *testing.T) {
	long := names[2] // a long article: its summary is a second round
	in := corpus(t, long, names[1])
	data, err := os.ReadFile(filepath.Join(in, long))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "copy.md"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	single, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "single"), BatchPrepareOptions{
		Inputs: []string{filepath.Join(in, long)}, Settings: jobSettings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "other"), BatchPrepareOptions{
		Inputs: []string{filepath.Join(in, names[1])}, Settings: jobSettings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	for round := 1; round <= 3; round++ {
		job, rep, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		switch round {
		case 1:
			want := len(requestLines(t, single)) + len(requestLines(t, other))
			if got := len(requestLines(t, job)); got != want {
				t.Errorf("3 files, one a copy: %d requests, want %d", got, want)
			}
		case 2:
			// Both copies need the same summary request(s): written
			// once, listed for both files.
			entries, more := map[string]batch.Entry{}, map[string][]int{}
			for _, b := range bytes.Split(bytes.TrimSpace(mustRead(t, filepath.Join(job.Dir(), "manifest.jsonl"))), []byte("\n")) {
				var e batch.Entry
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
				if e.Translate == nil && e.Summary == nil {
					more[e.CustomID] = append(more[e.CustomID], e.Files...) // a request more files need
				} else {
					entries[e.CustomID] = e
				}
			}
			shared := 0
			for id, files := range more {
				if e := entries[id]; e.Summary == nil || len(e.Files)+len(files) != 2 {
					t.Errorf("shared request %s: %+v, and files %v", id, e, files)
				}
				shared++
			}
			if shared == 0 || shared > rep.Summaries {
				t.Errorf("round 2: %d summary requests, %d shared by the copies", rep.Summaries, shared)
			}
		}
		crep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: vllmResults(t, job)}, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if crep.Incomplete == 0 {
			a, b := mustRead(t, filepath.Join(out, long)), mustRead(t, filepath.Join(out, "copy.md"))
			if crep.Written != 3 || !bytes.Equal(a, b) {
				t.Errorf("%d written; the copies' outputs equal: %v", crep.Written, bytes.Equal(a, b))
			}
			if round != 2 {
				t.Errorf("done in round %d, want 2", round)
			}
			return
		}
	}
	t.Fatal("not done in 3 rounds")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLinksAreNotConfused: two paragraphs that read the same once their
// URLs are masked are two requests, and each file keeps its own link.
func TestLinksAreNotConfused(t *testing.T) {
	in := t.TempDir()
	for _, h := range []string{"a", "b"} {
		// Untitled, so that the two requests differ only in the URL.
		doc := "请看[这篇文章](https://" + h + ".example.com/x)了解更多。\n"
		if err := os.WriteFile(filepath.Join(in, h+".md"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	written, rounds := runRounds(t, in, out, 3)
	if written != 2 || rounds != 1 {
		t.Fatalf("%d outputs written in %d rounds, want 2 in 1", written, rounds)
	}
	for _, h := range []string{"a", "b"} {
		if b := mustRead(t, filepath.Join(out, h+".md")); !bytes.Contains(b, []byte("https://"+h+".example.com/x")) {
			t.Errorf("%s.md lost its link:\n%s", h, b)
		}
	}
}

// runRounds runs prepare and an offline collect (vLLM-style results) until
// every output is written, at most max rounds, and returns the outputs
// written and the rounds taken.
func runRounds(t *testing.T, in, out string, max int) (written, rounds int) {
	t.Helper()
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	for round := 1; round <= max; round++ {
		opts := BatchPrepareOptions{Store: st}
		if round == 1 {
			opts.Inputs, opts.Settings = []string{in}, jobSettings
		}
		job, _, err := PrepareBatch(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: vllmResults(t, job)}, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Incomplete == 0 {
			return rep.Written, round
		}
	}
	t.Fatalf("not done in %d rounds", max)
	return 0, 0
}

// vllmResults answers the job's batch files as vLLM's run_batch would.
func vllmResults(t *testing.T, job *batch.Job) []string {
	t.Helper()
	var from []string
	for _, p := range job.Parts {
		res, err := fakeopenai.VLLMRunBatch(mustRead(t, filepath.Join(job.Dir(), p.Name)), fakeopenai.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "res.jsonl")
		if err := os.WriteFile(f, res, 0o644); err != nil {
			t.Fatal(err)
		}
		from = append(from, f)
	}
	return from
}

// TestEditedBetweenPrepareAndCollect: a file edited after prepare does not
// get the summary of its old text; the next round gives it its own.
func TestEditedBetweenPrepareAndCollect(t *testing.T) {
	in := t.TempDir()
	path := filepath.Join(in, "a.md")
	if err := os.WriteFile(path, []byte("---\ntitle: 猫的故事\n---\n<p>猫在院子里睡觉。</p><p>狗在门口看着它。</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	job, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	from := vllmResults(t, job)
	edited := []byte("---\ntitle: 猫的故事\n---\n<p>猫在院子里睡觉。</p><p>狗在门口叫了起来。</p>")
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	var problems []string
	if _, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: from,
		Errorf: func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(problems, "\n"), "changed since prepare") {
		t.Errorf("no warning about the edited file: %q", problems)
	}
	out := t.TempDir()
	// Finish from here: the output must be what a fresh job makes of the
	// edited file.
	for round := 2; round <= 4; round++ {
		job, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: vllmResults(t, job)}, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Incomplete == 0 {
			break
		}
	}
	fresh := t.TempDir()
	runRounds(t, in, fresh, 3)
	if a, b := mustRead(t, filepath.Join(out, "a.md")), mustRead(t, filepath.Join(fresh, "a.md")); !bytes.Equal(a, b) {
		t.Errorf("edited file's output differs from a fresh job's:\n%s\n---\n%s", a, b)
	}
}

// TestBadFromFile: a --from file with no result in it is refused, named,
// and not kept: a later collect is not blocked by it.
func TestBadFromFile(t *testing.T) {
	st := store(t)
	job, _, err := PrepareBatch(context.Background(), filepath.Join(t.TempDir(), "job"), BatchPrepareOptions{Inputs: []string{corpus(t, names[0])}, Settings: jobSettings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: []string{bad}}})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("collect --from a file of garbage: %v", err)
	}
	rep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: vllmResults(t, job)}})
	if err != nil || rep.Malformed != 0 || rep.Good == 0 {
		t.Errorf("the next collect: %+v, %v", rep, err)
	}
}

// TestFailedPrepareKeepsTheRound: a prepare that fails after a finished
// round leaves that round in place: status and collect still work on it.
func TestFailedPrepareKeepsTheRound(t *testing.T) {
	st := store(t)
	in := corpus(t, names[2])
	dir := filepath.Join(t.TempDir(), "job")
	job, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{in}, Settings: jobSettings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: vllmResults(t, job)}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st, MaxBytes: 10}); err == nil {
		t.Fatal("prepare with --max-bytes 10 succeeded")
	}
	again, err := batch.Open(dir)
	if err != nil {
		t.Fatalf("after the failed prepare: %v", err)
	}
	if again.Round != 1 || !fileExists(filepath.Join(dir, "manifest.jsonl")) {
		t.Errorf("round %d; manifest there: %v", again.Round, fileExists(filepath.Join(dir, "manifest.jsonl")))
	}
	if _, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st}); err != nil {
		t.Errorf("prepare after the failed one: %v", err)
	}
}

// moveRound moves the job's round into rounds/N/, job.json last, as a
// prepare interrupted right after it would leave it.
func moveRound(t *testing.T, job *batch.Job) {
	t.Helper()
	dst := filepath.Join(job.Dir(), "rounds", strconv.Itoa(job.Round))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"manifest.jsonl", "results"}
	for _, p := range job.Parts {
		names = append(names, p.Name)
	}
	for _, name := range append(names, "job.json") {
		if err := os.Rename(filepath.Join(job.Dir(), name), filepath.Join(dst, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestRoundNotReadIsKept: collect stopped after downloading the results
// and before reading them (here: the manifest is briefly unreadable)
// leaves a round that prepare refuses to move away; the next collect reads
// it.
func TestRoundNotReadIsKept(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	job, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{corpus(t, names[0])}, Settings: jobSettings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Submit(context.Background(), job, api(t, srv), batch.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "manifest.jsonl")
	if err := os.Rename(manifest, manifest+".away"); err != nil {
		t.Fatal(err)
	}
	if _, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{API: api(t, srv)}}); err == nil {
		t.Fatal("collect without a manifest succeeded")
	}
	if !job.Parts[0].Downloaded {
		t.Fatal("the results were not downloaded before the failure")
	}
	if err := os.Rename(manifest+".away", manifest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st}); err == nil || !strings.Contains(err.Error(), "not collected yet") {
		t.Fatalf("prepare over a round downloaded but not read: %v", err)
	}
	rep, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{API: api(t, srv)}})
	if err != nil || rep.Good == 0 {
		t.Fatalf("collect again: %+v, %v", rep, err)
	}
	if _, _, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st}); err != nil {
		t.Errorf("prepare after the round was read: %v", err)
	}
}

// TestLateResultsOfAnEarlierRound: results of round 1's requests given
// after round 2 was prepared (whose requests differ) are still used.
func TestLateResultsOfAnEarlierRound(t *testing.T) {
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	job, first, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Inputs: []string{corpus(t, names[2])}, Settings: jobSettings, Store: st, MaxRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first.Translations < 3 {
		t.Fatalf("%d translation requests: the test needs a long article", first.Translations)
	}
	round1 := requestLines(t, job)
	all := vllmResults(t, job) // one file per request, answered now, some given late
	// With over a third of the article translated, round 2 asks for the
	// rest without notes: other requests, other ids.
	half := len(all)/2 + 1
	if _, err := CollectBatch(context.Background(), job, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: all[:half]}}); err != nil {
		t.Fatal(err)
	}
	job2, second, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if second.Round != 2 || second.Translations == 0 {
		t.Fatalf("round 2: %+v", second)
	}
	ids := map[string]bool{}
	for _, l := range requestLines(t, job2) {
		ids[l.CustomID] = true
	}
	for _, l := range round1[half:] {
		if ids[l.CustomID] {
			t.Fatalf("round 2 repeats round 1's request %s: the test needs them to differ", l.CustomID)
		}
	}
	rep, err := CollectBatch(context.Background(), job2, BatchCollectOptions{Store: st, CollectOptions: batch.CollectOptions{From: all[half:]}})
	if err != nil {
		t.Fatal(err)
	}
	// They are cached, and counted apart from round 2's own requests.
	if rep.Unknown != 0 || rep.Earlier != len(all)-half || rep.Lines != 0 || rep.Good != 0 {
		t.Errorf("round 1's late results in round 2: %+v", rep)
	}
	_, third, err := PrepareBatch(context.Background(), dir, BatchPrepareOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if third.Translations != 0 {
		t.Errorf("round 3 still plans %d translation requests", third.Translations)
	}
}
