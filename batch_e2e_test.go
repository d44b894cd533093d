package main_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

var reference struct {
	once     sync.Once
	dir      string
	report   string         // the run's --report (TestDryRunPlansADirectory)
	requests map[string]int // the requests the fake got, by kind (TestTwoProcessesPayOnce)
	err      error
}

// onlineReference translates testdata/corpus online (chat completions, a
// fault-free fake of its own, a new cache, -q) once per test binary and
// returns the output directory; reference.report is the run's report,
// reference.requests the requests it made.
func onlineReference(t *testing.T) string {
	t.Helper()
	reference.once.Do(func() {
		srv, err := fakeopenai.Start(fakeopenai.Options{})
		if err != nil {
			reference.err = err
			return
		}
		defer srv.Close()
		reference.dir = filepath.Join(filepath.Dir(xlateBin), "online-reference")
		reference.report = filepath.Join(filepath.Dir(xlateBin), "online-report.json")
		r := runXlate(t, env(t, srv, filepath.Join(filepath.Dir(xlateBin), "online-cache")), nil, "-q", "--report", reference.report, "-o", reference.dir, filepath.Join("testdata", "corpus"))
		if r.code != 0 {
			reference.err = fmt.Errorf("online run: exit %d: %s", r.code, r.stderr)
		}
		reference.requests = map[string]int{}
		for _, q := range srv.Requests() {
			reference.requests[q.Kind]++
		}
	})
	if reference.err != nil {
		t.Fatal(reference.err)
	}
	return reference.dir
}

// chatCount counts the chat completion requests srv got.
func chatCount(srv *fakeopenai.Server) int {
	return srv.CountKind(fakeopenai.KindTranslate) + srv.CountKind(fakeopenai.KindSummary) + srv.CountKind(fakeopenai.KindOther)
}

// sameTrees reports the differences between two output trees, compared
// after norm.
func sameTrees(t *testing.T, want, got string, norm func([]byte) []byte) {
	t.Helper()
	n := 0
	err := filepath.Walk(want, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, path)
		w, _ := os.ReadFile(path)
		g, err := os.ReadFile(filepath.Join(got, rel))
		switch {
		case err != nil:
			t.Errorf("%s: missing from the batch outputs", rel)
		case !bytes.Equal(norm(w), norm(g)):
			t.Errorf("%s: batch output differs from the online output", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 40 {
		t.Fatalf("only %d reference outputs", n)
	}
}

func same(b []byte) []byte { return b }

// withoutSummary drops an output's summary (the front matter's summary
// line, and the TL;DR paragraph with its list of points).
func withoutSummary(t *testing.T) func([]byte) []byte {
	return func(b []byte) []byte {
		s := string(b)
		i := strings.Index(s, "**TL;DR:**")
		if i < 0 {
			return b // no summary: compared whole
		}
		j := i + strings.Index(s[i:]+"\n\n", "\n\n") + 2 // the end of the TL;DR paragraph
		if strings.HasPrefix(s[min(j, len(s)):], "- ") {
			j += strings.Index(s[j:]+"\n\n", "\n\n") + 2 // and of its points
		}
		s = s[:i] + s[min(j, len(s)):]
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "summary: ") {
				keep = append(keep, l)
			}
		}
		return []byte(strings.Join(keep, "\n"))
	}
}

// firstSight returns a FaultFunc that gives fault to batch lines picked by
// pick, on their first sight only, and counts them.
func firstSight(pick func(n int, r *fakeopenai.Recorded) (fakeopenai.Fault, bool)) (fakeopenai.FaultFunc, func() int) {
	var mu sync.Mutex
	seen := map[string]bool{}
	hit := 0
	fn := fakeopenai.ForBatch(func(n int, r *fakeopenai.Recorded) fakeopenai.Fault {
		mu.Lock()
		defer mu.Unlock()
		if seen[r.CustomID] {
			return fakeopenai.Fault{}
		}
		seen[r.CustomID] = true
		f, ok := pick(n, r)
		if ok {
			hit++
		}
		return f
	})
	return fn, func() int { mu.Lock(); defer mu.Unlock(); return hit }
}

// batchFault spreads faults over the lines: a failed request, a dropped
// segment, Chinese left untranslated, a truncated answer.
func batchFault(n int, _ *fakeopenai.Recorded) (fakeopenai.Fault, bool) {
	switch n % 9 {
	case 1:
		return fakeopenai.Fault{Status: 500}, true
	case 3:
		return fakeopenai.Fault{DropSegment: fakeopenai.FirstSegment}, true
	case 5:
		return fakeopenai.Fault{LeaveChinese: fakeopenai.FirstSegment}, true
	case 7:
		return fakeopenai.Fault{Truncate: true}, true
	}
	return fakeopenai.Fault{}, false
}

// TestBatchMatchesOnline runs the corpus through prepare → submit → status
// → collect, round after round, against the fake Batch API, and checks
// that the outputs are byte for byte those of an online run, that no chat
// completion was requested, and that each round asks only for what is
// still missing.
func TestBatchMatchesOnline(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: 1})
	rounds, _ := batchRounds(t, srv, same)
	if rounds > 3 {
		t.Errorf("%d rounds; a fault-free job takes at most 3 (translations, summaries from notes, the combining summary of a very long article)", rounds)
	}
}

// TestBatchRecoversFromFailedRequests injects faults into the first answer
// to a fifth of the requests (failed requests in the error file, dropped
// segments, Chinese left, truncated answers): collect reports them, the
// next rounds ask for exactly what they lost, and in the end every
// paragraph is translated as online. Summaries may differ: an article
// whose one request failed gets its summary from its translation rather
// than from that request, as the online path would after such a failure.
func TestBatchRecoversFromFailedRequests(t *testing.T) {
	fault, hits := firstSight(batchFault)
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fault, BatchSteps: 1})
	_, reported := batchRounds(t, srv, withoutSummary(t))
	if !reported {
		t.Errorf("collect reported no failed request or rejected answer")
	}
	if hits() < 5 {
		t.Errorf("only %d faults injected", hits())
	}
}

// batchRounds runs batch rounds over testdata/corpus until collect
// succeeds, compares the outputs with an online run's under norm, and
// returns the number of rounds and whether collect reported a failure.
func batchRounds(t *testing.T, srv *fakeopenai.Server, norm func([]byte) []byte) (int, bool) {
	t.Helper()
	want := onlineReference(t)
	chats := chatCount(srv)

	environ := env(t, srv, t.TempDir())
	job := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	var (
		lines  []int
		failed bool
		round  int
	)
	for round = 1; ; round++ {
		if round > 8 {
			t.Fatalf("not done after %d rounds", round-1)
		}
		args := []string{"batch", "prepare", "-o", job}
		if round == 1 {
			args = append(args, filepath.Join("testdata", "corpus"))
		}
		r := runXlate(t, environ, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("round %d:", round)) {
			t.Fatalf("round %d prepare: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		if r = runXlate(t, environ, nil, "batch", "submit", job); r.code != 0 {
			t.Fatalf("round %d submit: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		// A second submit changes nothing: every part has its batch.
		before := srv.CountKind(fakeopenai.KindFile)
		if r = runXlate(t, environ, nil, "batch", "submit", job); r.code != 0 || srv.CountKind(fakeopenai.KindFile) != before {
			t.Fatalf("round %d: submit again: exit %d, %d uploads", round, r.code, srv.CountKind(fakeopenai.KindFile)-before)
		}
		r = runXlate(t, environ, nil, "batch", "status", job)
		if r.code != 0 || !strings.Contains(r.stdout, "batch_") {
			t.Fatalf("round %d status: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		linesBefore := len(srv.BatchLines())
		r = runXlate(t, environ, nil, "batch", "collect", "--wait", "--poll", "10ms", "-o", out, job)
		lines = append(lines, len(srv.BatchLines())-linesBefore)
		t.Logf("round %d: %d lines\n%s", round, lines[round-1], r.stdout)
		failed = failed || strings.Contains(r.stderr, "request failed") || strings.Contains(r.stderr, "answer rejected")
		if r.code == 0 {
			break
		}
		if !strings.Contains(r.stdout, "need another round") {
			t.Fatalf("round %d collect: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] >= lines[0] {
			t.Errorf("round %d sent %d lines, round 1 %d: a later round should ask only for what is missing", i+1, lines[i], lines[0])
		}
	}
	if got := chatCount(srv); got != chats {
		t.Errorf("the batch rounds made %d chat completion requests", got-chats)
	}
	sameTrees(t, want, out, norm)

	// Done: another prepare plans nothing.
	r := runXlate(t, environ, nil, "batch", "prepare", "-o", job)
	if r.code != 0 || !strings.Contains(r.stdout, "requests: 0 translation, 0 summary") {
		t.Errorf("prepare when done: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return round, failed
}

// TestBatchCollectFromVLLM runs the rounds offline: the batch files go
// through fakeopenai.VLLMRunBatch (vLLM's run_batch output format, with a
// failed line), collect reads them with --from, and no API is reachable.
func TestBatchCollectFromVLLM(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	want := onlineReference(t)

	environ := env(t, srv, t.TempDir())
	for i, e := range environ {
		if strings.HasPrefix(e, "OPENAI_BASE_URL=") {
			environ[i] = "OPENAI_BASE_URL=http://127.0.0.1:1/v1" // nothing listens there
		}
	}
	job := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	failed := false
	for round := 1; ; round++ {
		if round > 6 {
			t.Fatalf("not done after %d rounds", round-1)
		}
		args := []string{"batch", "prepare", "-o", job}
		if round == 1 {
			args = append(args, filepath.Join("testdata", "corpus"))
		}
		if r := runXlate(t, environ, nil, args...); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("round %d:", round)) {
			t.Fatalf("round %d prepare: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		parts, _ := filepath.Glob(filepath.Join(job, "requests-*.jsonl"))
		collect := []string{"batch", "collect", "-o", out}
		for _, p := range parts {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			opts := fakeopenai.Options{}
			if round == 1 {
				// The second line fails, as vLLM reports a failed request.
				opts.Fault = func(n int, _ *fakeopenai.Recorded) fakeopenai.Fault {
					if n == 2 {
						return fakeopenai.Fault{Status: 400, ErrorMessage: "This model's maximum context length is 8192 tokens."}
					}
					return fakeopenai.Fault{}
				}
			}
			res, err := fakeopenai.VLLMRunBatch(in, opts)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "vllm-out.jsonl")
			if err := os.WriteFile(f, res, 0o644); err != nil {
				t.Fatal(err)
			}
			collect = append(collect, "--from", f)
		}
		r := runXlate(t, environ, nil, append(collect, job)...)
		t.Logf("round %d:\n%s%s", round, r.stdout, r.stderr)
		if strings.Contains(r.stderr, "maximum context length") {
			failed = true
		}
		if r.code == 0 {
			break
		}
		if !strings.Contains(r.stdout, "need another round") {
			t.Fatalf("round %d collect: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
	}
	if !failed {
		t.Errorf("the failed vLLM line was not reported")
	}
	sameTrees(t, want, out, same)
}

// TestBatchInterruptedCollectResumes: Ctrl-C while collect waits for a
// batch stops it cleanly (exit 130); a prepare then refuses to drop the
// submitted round; once the batch ends, collect picks up its results.
// (faultDir's round 1, like the corpus's, leaves a round 2 to prepare.)
func TestBatchInterruptedCollectResumes(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	environ := env(t, srv, t.TempDir())
	job := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	if r := runXlate(t, environ, nil, "batch", "prepare", "-o", job, faultDir(t)); r.code != 0 {
		t.Fatalf("prepare: exit %d\n%s", r.code, r.stderr)
	}
	if r := runXlate(t, environ, nil, "batch", "submit", job); r.code != 0 {
		t.Fatalf("submit: exit %d\n%s", r.code, r.stderr)
	}
	polls := srv.CountKind(fakeopenai.KindBatch)
	cmd, wait := startXlate(t, environ, "batch", "collect", "--wait", "--poll", "20ms", "-o", out, job)
	waitFor(t, "collect to poll", func() bool { return srv.CountKind(fakeopenai.KindBatch) >= polls+3 })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code != 130 {
		t.Fatalf("interrupted collect: exit %d, want 130\n%s", r.code, r.stderr)
	}
	r := runXlate(t, environ, nil, "batch", "prepare", "-o", job)
	if r.code == 0 || !strings.Contains(r.stderr, "not collected yet") {
		t.Errorf("prepare over an uncollected round: exit %d\n%s", r.code, r.stderr)
	}
	srv.FinishBatches()
	r = runXlate(t, environ, nil, "batch", "collect", "-o", out, job)
	m := regexp.MustCompile(`answers: (\d+) read, (\d+) good`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] != m[2] || m[1] == "0" || !strings.Contains(r.stdout, "need another round") {
		t.Errorf("collect after the batch ended: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
