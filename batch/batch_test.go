package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/fakeopenai"
)

var settings = Settings{Model: "fake-model", Lang: "English", Layout: "bilingual", Summary: true}

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

func api(srv *fakeopenai.Server) *openai.Client {
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = srv.URL()
	return openai.NewClientWithConfig(cfg)
}

// requestLines reads every line of the job's batch files.
func requestLines(t *testing.T, job *Job) (lines []line) {
	t.Helper()
	for _, p := range job.Parts {
		data, err := os.ReadFile(filepath.Join(job.dir, p.Name))
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
	all, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "all"), PrepareOptions{Inputs: []string{in}, Settings: settings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := requestLines(t, all)
	if len(all.Parts) != 1 || len(want) < 6 {
		t.Fatalf("one file expected with the default limits: %d parts, %d lines", len(all.Parts), len(want))
	}
	ids := map[string]bool{}
	for _, l := range want {
		if ids[l.CustomID] || l.Method != "POST" || l.URL != Endpoint {
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
			job, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "job"), PrepareOptions{
				Inputs: []string{in}, Settings: settings, Store: store(t), MaxRequests: tc.maxRequests, MaxBytes: tc.maxBytes})
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
	if _, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "tiny"), PrepareOptions{
		Inputs: []string{in}, Settings: settings, Store: store(t), MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "over --max-bytes 100") || !strings.Contains(err.Error(), ".md: ") {
		t.Errorf("a request larger than --max-bytes: %v", err)
	}
}

func TestPrepareIsRepeatableAndGuardsSubmittedJobs(t *testing.T) {
	in := corpus(t, names[:2]...)
	dir := filepath.Join(t.TempDir(), "job")
	st := store(t)
	prep := func() (*Job, error) {
		j, _, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st})
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
	before := mustRead(t, filepath.Join(dir, jobFile))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Prepare(ctx, dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prepare: %v", err)
	}
	if !bytes.Equal(before, mustRead(t, filepath.Join(dir, jobFile))) {
		t.Errorf("a cancelled prepare changed job.json")
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	if _, err := Submit(context.Background(), again, api(srv), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := prep(); err == nil || !strings.Contains(err.Error(), "not collected yet") {
		t.Errorf("prepare over a submitted job: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "nothing")); err == nil || !strings.Contains(err.Error(), "not a batch job directory") {
		t.Errorf("Open of an empty directory: %v", err)
	}
}

// failSecondCreate is a transport that refuses the second batch
// creation, as an interrupted or rejected submit would leave it: its file
// uploaded, its batch not created.
type failSecondCreate struct{ creates int }

func (f *failSecondCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batches") {
		f.creates++
		if f.creates == 2 {
			return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"error":{"message":"refused for the test","type":"invalid_request_error"}}`))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestSubmitResumes(t *testing.T) {
	in := corpus(t, names...)
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "job"), PrepareOptions{Inputs: []string{in}, Settings: settings, Store: store(t), MaxRequests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Parts) < 3 {
		t.Fatalf("%d parts", len(job.Parts))
	}
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = &http.Client{Transport: &failSecondCreate{}}
	if _, err := Submit(context.Background(), job, openai.NewClientWithConfig(cfg), SubmitOptions{}); err == nil || !strings.Contains(err.Error(), "refused for the test") {
		t.Fatalf("first submit: %v", err)
	}
	reopened, err := Open(job.dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := reopened.Parts[1]; p.FileID == "" || p.BatchID != "" {
		t.Fatalf("after the failed create: part 2 file %q batch %q", p.FileID, p.BatchID)
	}
	if _, err := Submit(context.Background(), reopened, api(srv), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if uploads := srv.CountKind(fakeopenai.KindFile); uploads != len(job.Parts) {
		t.Errorf("%d uploads for %d parts: a resumed submit uploaded a part again", uploads, len(job.Parts))
	}
	seen := map[string]bool{}
	for _, p := range reopened.Parts {
		if p.FileID == "" || p.BatchID == "" || seen[p.BatchID] {
			t.Errorf("%s: file %q batch %q", p.Name, p.FileID, p.BatchID)
		}
		seen[p.BatchID] = true
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
	job, first, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st, MaxRequests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Submit(context.Background(), job, api(srv), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	var problems []string
	rep, err := Collect(context.Background(), job, CollectOptions{Store: st, API: api(srv), Wait: true, Poll: time.Millisecond,
		Errorf: func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }})
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
	if err := job.archive(); err != nil {
		t.Fatal(err)
	}
	_, next, err := Prepare(context.Background(), dir, PrepareOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if next.Round != 2 || next.Translations == 0 || next.Translations >= first.Translations {
		t.Errorf("round 2 plans %d translation requests (round 1: %d)", next.Translations, first.Translations)
	}
}

// TestReadResultsSkipsGarbage: a line that is not a batch result (a
// truncated last line of a crashed run, say) is reported by number and
// skipped; the good lines are still read.
func TestReadResultsSkipsGarbage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "out.jsonl")
	data := "{\"custom_id\":\"a\",\"response\":null,\"error\":\"x\"}\nnot json\n" +
		"{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\"}}\n" +
		"{\"custom_id\":\"d\",\"response\":null,\"error\":null}\n{\"custom_id\":\"b\",\"resp"
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var good []string
	var bad []int
	var requests int
	err := readResults(f, func(r result) { good = append(good, r.CustomID) }, func(n int, req bool) {
		bad = append(bad, n)
		if req {
			requests++
		}
	})
	if err != nil || len(good) != 1 || good[0] != "a" || !slices.Equal(bad, []int{2, 3, 4, 5}) || requests != 1 {
		t.Errorf("err %v, good %v, bad lines %v, %d request lines", err, good, bad, requests)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`null`, ""},
		{`"boom"`, "boom"},
		{`{"code":"batch_expired","message":"not answered in time"}`, "batch_expired: not answered in time"},
		{`{"error":{"message":"too long","type":"BadRequestError","param":null,"code":400}}`, "400: too long"},
		{`{"message":"only a message"}`, "only a message"},
	}
	for _, tc := range tests {
		if got := errorMessage(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tc.raw, got, tc.want)
		}
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
	single, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "single"), PrepareOptions{
		Inputs: []string{filepath.Join(in, long)}, Settings: settings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "other"), PrepareOptions{
		Inputs: []string{filepath.Join(in, names[1])}, Settings: settings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	out := filepath.Join(t.TempDir(), "out")
	for round := 1; round <= 3; round++ {
		job, rep, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st})
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
			m, err := job.openManifest()
			if err != nil {
				t.Fatal(err)
			}
			shared := 0
			for id := range m.more {
				e, err := m.get(id)
				if err != nil {
					t.Fatal(err)
				}
				if e.Summary == nil || len(e.Files) != 2 {
					t.Errorf("shared request %s: %+v", id, e)
				}
				shared++
			}
			if shared == 0 || shared > rep.Summaries {
				t.Errorf("round 2: %d summary requests, %d shared by the copies", rep.Summaries, shared)
			}
			m.Close()
		}
		crep, err := Collect(context.Background(), job, CollectOptions{Store: st, From: vllmResults(t, job), Output: out})
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

// loseCreateAnswer is a transport that lets the first batch creation
// reach the server and then reports a network error, as a timeout after
// the server acted would.
type loseCreateAnswer struct{ lost bool }

func (l *loseCreateAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && !l.lost && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batches") {
		l.lost = true
		resp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return resp, err
}

// TestSubmitNeverCreatesABatchTwice: a create whose answer is lost is not
// repeated: the batch it made is found and recorded.
func TestSubmitNeverCreatesABatchTwice(t *testing.T) {
	old := retryWaits
	retryWaits = []time.Duration{time.Millisecond, time.Millisecond}
	defer func() { retryWaits = old }()
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "job"), PrepareOptions{Inputs: []string{corpus(t, names[:2]...)}, Settings: settings, Store: store(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = &http.Client{Transport: &loseCreateAnswer{}}
	if _, err := Submit(context.Background(), job, openai.NewClientWithConfig(cfg), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := api(srv).ListBatch(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Data) != len(job.Parts) || job.Parts[0].BatchID != l.Data[0].ID {
		t.Errorf("%d batches on the server for %d parts; recorded %q", len(l.Data), len(job.Parts), job.Parts[0].BatchID)
	}
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
		opts := PrepareOptions{Store: st}
		if round == 1 {
			opts.Inputs, opts.Settings = []string{in}, settings
		}
		job, _, err := Prepare(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Collect(context.Background(), job, CollectOptions{Store: st, From: vllmResults(t, job), Output: out})
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
func vllmResults(t *testing.T, job *Job) []string {
	t.Helper()
	var from []string
	for _, p := range job.Parts {
		res, err := fakeopenai.VLLMRunBatch(mustRead(t, filepath.Join(job.dir, p.Name)), fakeopenai.Options{})
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
	job, _, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	from := vllmResults(t, job)
	edited := []byte("---\ntitle: 猫的故事\n---\n<p>猫在院子里睡觉。</p><p>狗在门口叫了起来。</p>")
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	var problems []string
	if _, err := Collect(context.Background(), job, CollectOptions{Store: st, From: from,
		Errorf: func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(problems, "\n"), "changed since prepare") {
		t.Errorf("no warning about the edited file: %q", problems)
	}
	out := t.TempDir()
	// Finish from here: the output must be what a fresh job makes of the
	// edited file.
	for round := 2; round <= 4; round++ {
		job, _, err := Prepare(context.Background(), dir, PrepareOptions{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Collect(context.Background(), job, CollectOptions{Store: st, From: vllmResults(t, job), Output: out})
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
	job, _, err := Prepare(context.Background(), filepath.Join(t.TempDir(), "job"), PrepareOptions{Inputs: []string{corpus(t, names[0])}, Settings: settings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Collect(context.Background(), job, CollectOptions{Store: st, From: []string{bad}})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("collect --from a file of garbage: %v", err)
	}
	rep, err := Collect(context.Background(), job, CollectOptions{Store: st, From: vllmResults(t, job)})
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
	job, _, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{in}, Settings: settings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(context.Background(), job, CollectOptions{Store: st, From: vllmResults(t, job)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Prepare(context.Background(), dir, PrepareOptions{Store: st, MaxBytes: 10}); err == nil {
		t.Fatal("prepare with --max-bytes 10 succeeded")
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatalf("after the failed prepare: %v", err)
	}
	if again.Round != 1 || !fileExists(filepath.Join(dir, manifestFile)) {
		t.Errorf("round %d; manifest there: %v", again.Round, fileExists(filepath.Join(dir, manifestFile)))
	}
	if _, _, err := Prepare(context.Background(), dir, PrepareOptions{Store: st}); err != nil {
		t.Errorf("prepare after the failed one: %v", err)
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
	job, _, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{corpus(t, names[0])}, Settings: settings, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Submit(context.Background(), job, api(srv), SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, manifestFile)
	if err := os.Rename(manifest, manifest+".away"); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(context.Background(), job, CollectOptions{Store: st, API: api(srv)}); err == nil {
		t.Fatal("collect without a manifest succeeded")
	}
	if !job.Parts[0].Downloaded {
		t.Fatal("the results were not downloaded before the failure")
	}
	if err := os.Rename(manifest+".away", manifest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Prepare(context.Background(), dir, PrepareOptions{Store: st}); err == nil || !strings.Contains(err.Error(), "not collected yet") {
		t.Fatalf("prepare over a round downloaded but not read: %v", err)
	}
	rep, err := Collect(context.Background(), job, CollectOptions{Store: st, API: api(srv)})
	if err != nil || rep.Good == 0 {
		t.Fatalf("collect again: %+v, %v", rep, err)
	}
	if _, _, err := Prepare(context.Background(), dir, PrepareOptions{Store: st}); err != nil {
		t.Errorf("prepare after the round was read: %v", err)
	}
}

// TestLateResultsOfAnEarlierRound: results of round 1's requests given
// after round 2 was prepared (whose requests differ) are still used.
func TestLateResultsOfAnEarlierRound(t *testing.T) {
	st := store(t)
	dir := filepath.Join(t.TempDir(), "job")
	job, first, err := Prepare(context.Background(), dir, PrepareOptions{Inputs: []string{corpus(t, names[2])}, Settings: settings, Store: st, MaxRequests: 1})
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
	if _, err := Collect(context.Background(), job, CollectOptions{Store: st, From: all[:half]}); err != nil {
		t.Fatal(err)
	}
	job2, second, err := Prepare(context.Background(), dir, PrepareOptions{Store: st})
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
	rep, err := Collect(context.Background(), job2, CollectOptions{Store: st, From: all[half:]})
	if err != nil {
		t.Fatal(err)
	}
	// They are cached, and counted apart from round 2's own requests.
	if rep.Unknown != 0 || rep.Earlier != len(all)-half || rep.Lines != 0 || rep.Good != 0 {
		t.Errorf("round 1's late results in round 2: %+v", rep)
	}
	_, third, err := Prepare(context.Background(), dir, PrepareOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if third.Translations != 0 {
		t.Errorf("round 3 still plans %d translation requests", third.Translations)
	}
}
