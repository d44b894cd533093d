package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/translate"
)

// judgment is one call of a recording Judge.
type judgment struct {
	round   int
	id      string
	files   []int
	failure string
	content string
}

// judge is a Judge that records its calls. An answer is Good when it is
// what the fake model answers to the request of the entry's piece (so an
// answer given to the wrong entry fails; the manifest does not keep the
// messages), unless outcomes names another outcome for its custom_id; a
// failed request is Failed.
type judge struct {
	mu       sync.Mutex
	calls    []judgment
	outcomes map[string]Outcome
}

func (j *judge) judge(job *Job, e *Entry, r Result) Outcome {
	c := judgment{round: job.Round, id: e.CustomID, files: e.Files, failure: r.Failure()}
	out := Failed
	if c.failure == "" {
		resp, err := llm.ParseChatCompletion(r.Response.Body)
		if err == nil {
			c.content = resp.Content
		}
		if o, ok := j.outcomes[e.CustomID]; ok {
			out = o
		} else if e.Translate != nil && len(e.Translate.Pieces) == 1 && err == nil &&
			resp.Content == fakeopenai.TranslateSegments(request(e.Translate.Pieces[0].Source).User) {
			out = Good
		}
	}
	j.mu.Lock()
	j.calls = append(j.calls, c)
	j.mu.Unlock()
	return out
}

func (j *judge) ids() []string {
	var ids []string
	for _, c := range j.calls {
		ids = append(ids, c.id)
	}
	return ids
}

// request is the translation request newJob and planRound make for text.
func request(text string) translate.Request {
	return translate.Request{System: "Translate into English.", User: `<seg id="1">` + text + `</seg>`, Pieces: []translate.Piece{{Source: text, Text: text}}}
}

// planRound plans the next round of the job in dir (a new job if there is
// none): one translation request per text, one file per text.
func planRound(t *testing.T, dir string, inputs []string, s Settings, texts ...string) *Job {
	t.Helper()
	job, err := NewRound(dir, inputs, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWriter(0, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	job.Files = nil
	for i, text := range texts {
		job.Files = append(job.Files, File{In: fmt.Sprintf("/in/%d.md", i+1), Out: fmt.Sprintf("%d.md", i+1)})
		if err := w.AddTranslation(i, request(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(0); err != nil {
		t.Fatal(err)
	}
	return job
}

// idOf is the custom_id of the translation request of text.
func idOf(text string) string { return translateID(settings.Model, request(text)) }

// answered is a result line answering the request of id with content, in
// the batch output format.
func answered(id, content string) string {
	body, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": settings.Model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
	line, _ := json.Marshal(map[string]any{"id": "batch_req_1", "custom_id": id, "response": map[string]any{"status_code": 200, "body": json.RawMessage(body)}, "error": nil})
	return string(line)
}

// translated is a result line with the fake model's answer to text's
// request.
func translated(text string) string {
	return answered(idOf(text), fakeopenai.TranslateSegments(request(text).User))
}

// failedLine is a result line of a request that failed, as vLLM writes it.
func failedLine(id string) string {
	return fmt.Sprintf(`{"id":"vllm-1","custom_id":%q,"response":null,"error":"model crashed"}`, id)
}

// writeFile writes lines into a new file and returns its path.
func writeFile(t *testing.T, lines ...string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "results-*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestCollectFromServer: Collect downloads the output and error files of
// the job's finished batches into results/ and gives each result, matched
// by custom_id, to the Judge with its entry; a request that failed
// reaches the Judge too, and every request is counted once.
func TestCollectFromServer(t *testing.T) {
	failing := idOf("第2段。")
	partial := idOf("第4段。")
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.ByCustomID(map[string]fakeopenai.Fault{
		failing: {Status: 500, ErrorMessage: "the model fell over"},
	})})
	job := newJob(t, 5, 2)
	if len(job.Parts) != 3 {
		t.Fatalf("%d parts, want 3", len(job.Parts))
	}
	a := api(t, srv, nil)
	if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	j := &judge{outcomes: map[string]Outcome{partial: Partial}}
	var problems []string
	rep, err := Collect(context.Background(), job, CollectOptions{API: a, Errorf: func(f string, args ...any) { problems = append(problems, fmt.Sprintf(f, args...)) }}, j.judge)
	if err != nil {
		t.Fatal(err)
	}
	want := CollectReport{Lines: 5, Good: 3, Partial: 1, Failed: 1}
	if rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	if len(problems) > 0 {
		t.Errorf("problems reported: %q", problems)
	}
	if len(j.calls) != 5 {
		t.Fatalf("judge called %d times, want 5: %v", len(j.calls), j.ids())
	}
	for _, c := range j.calls {
		i := slices.IndexFunc(job.Files, func(f File) bool { return idOf(fmt.Sprintf("第%s段。", strings.TrimSuffix(f.Out, ".md"))) == c.id })
		if i < 0 || !slices.Equal(c.files, []int{i}) || c.round != 1 {
			t.Errorf("%s judged for files %v in round %d, want [%d] in round 1", c.id, c.files, c.round, i)
		}
		if c.id == failing && !strings.Contains(c.failure, "status 500") {
			t.Errorf("the failed request was judged with failure %q", c.failure)
		}
		if c.id != failing && c.failure != "" {
			t.Errorf("%s: failure %q", c.id, c.failure)
		}
	}
	for _, p := range job.Parts {
		if !p.Downloaded || p.Status != "completed" {
			t.Errorf("%s: status %q, downloaded %v", p.Name, p.Status, p.Downloaded)
		}
		for _, id := range []string{p.OutputFileID, p.ErrorFileID} {
			if id == "" {
				continue
			}
			got, err := os.ReadFile(filepath.Join(job.dir, resultsDir, p.BatchID+"-"+id+".jsonl"))
			want, _ := srv.FileContent(id)
			if err != nil || string(got) != string(want) {
				t.Errorf("%s: results of file %s not kept as downloaded: %v", p.Name, id, err)
			}
		}
	}
	if errorFiles := slices.IndexFunc(job.Parts, func(p *Part) bool { return p.ErrorFileID != "" }); errorFiles < 0 {
		t.Error("no part has an error file: the failing request did not fail")
	}
	saved, err := Open(job.dir)
	if err != nil || !saved.Collected || !saved.Parts[0].Downloaded {
		t.Errorf("job.json after collect: collected %v, %v", saved != nil && saved.Collected, err)
	}

	// Collected again, the results are read from results/ and nothing is
	// downloaded again.
	files := srv.CountKind(fakeopenai.KindFile)
	j2 := &judge{outcomes: j.outcomes}
	rep2, err := Collect(context.Background(), job, CollectOptions{API: a}, j2.judge)
	if err != nil || rep2 != want {
		t.Errorf("second collect: %+v, %v", rep2, err)
	}
	if n := srv.CountKind(fakeopenai.KindFile); n != files {
		t.Errorf("second collect made %d Files API calls", n-files)
	}
}

// TestCollectWhileRunning: batches not finished are counted as running,
// nothing is counted missing and the round stays uncollected; once they
// end, a collect reads everything and marks the round collected.
func TestCollectWhileRunning(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1}) // batches move only when told
	job := newJob(t, 3, 2)
	a := api(t, srv, nil)
	if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	j := &judge{}
	rep, err := Collect(context.Background(), job, CollectOptions{API: a}, j.judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (CollectReport{Running: 2}) || len(j.calls) != 0 || job.Collected {
		t.Errorf("running: %+v, %d judged, collected %v", rep, len(j.calls), job.Collected)
	}
	srv.FinishBatches()
	rep, err = Collect(context.Background(), job, CollectOptions{API: a}, j.judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (CollectReport{Lines: 3, Good: 3}) || !job.Collected {
		t.Errorf("finished: %+v, collected %v", rep, job.Collected)
	}
}

// TestCollectWaits: with Wait, Collect polls until every batch has ended
// and says what it waits for.
func TestCollectWaits(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{BatchSteps: 2}) // each state seen by two polls
	job := newJob(t, 4, 2)
	a := api(t, srv, nil)
	if _, err := Submit(context.Background(), job, a, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	var logs []string
	j := &judge{}
	rep, err := Collect(context.Background(), job, CollectOptions{API: a, Wait: true, Poll: 1, Logf: func(f string, args ...any) {
		logs = append(logs, fmt.Sprintf(f, args...))
	}}, j.judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (CollectReport{Lines: 4, Good: 4}) {
		t.Errorf("report %+v", rep)
	}
	if len(logs) == 0 || !strings.Contains(logs[0], "2 of 2 batches still running") {
		t.Errorf("progress: %q", logs)
	}

	// A cancelled wait returns what is still running.
	job2 := newJob(t, 2, 0)
	slow := fakeopenai.New(t, fakeopenai.Options{BatchSteps: -1})
	a2 := api(t, slow, nil)
	if _, err := Submit(context.Background(), job2, a2, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Collect(ctx, job2, CollectOptions{API: a2, Wait: true, Poll: 1 << 40, Logf: func(string, ...any) { cancel() }}, j.judge)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// refuse is a transport that answers the requests match picks with status
// and an OpenAI error body, and passes the others to the server.
type refuse struct {
	match  func(*http.Request) bool
	status int
}

func (f refuse) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.match(r) {
		return &http.Response{StatusCode: f.status, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
			Body: http.NoBody}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestCollectAPIErrors: a batch that cannot be retrieved or a file that
// cannot be downloaded stops Collect, and a part whose files were not all
// downloaded is not marked downloaded.
func TestCollectAPIErrors(t *testing.T) {
	tests := []struct {
		name  string
		match func(*http.Request) bool
		want  string
	}{
		{"retrieve", func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/batches/")
		}, "batch batch_fake0001"},
		{"download", func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/content") }, "download file-fake"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeopenai.New(t, fakeopenai.Options{})
			job := newJob(t, 2, 0)
			if _, err := Submit(context.Background(), job, api(t, srv, nil), SubmitOptions{}); err != nil {
				t.Fatal(err)
			}
			j := &judge{}
			_, err := Collect(context.Background(), job, CollectOptions{API: api(t, srv, refuse{tc.match, http.StatusNotFound})}, j.judge)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to name %q", err, tc.want)
			}
			if job.Parts[0].Downloaded || job.Collected || len(j.calls) > 0 {
				t.Errorf("after the failure: downloaded %v, collected %v, %d judged", job.Parts[0].Downloaded, job.Collected, len(j.calls))
			}
		})
	}
}

// TestCollectNotSubmitted: a job none of whose batch files went to the
// provider has nothing to collect unless results are given; one partly
// submitted is collected, and its parts not submitted are counted.
func TestCollectNotSubmitted(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	job := newJob(t, 3, 1)
	j := &judge{}
	if _, err := Collect(context.Background(), job, CollectOptions{API: api(t, srv, nil)}, j.judge); err == nil || !strings.Contains(err.Error(), "is not submitted") {
		t.Errorf("collect of a job not submitted: %v", err)
	}
	if _, err := Submit(context.Background(), job, api(t, srv, &failSecondCreate{}), SubmitOptions{}); err == nil {
		t.Fatal("submit did not fail")
	}
	rep, err := Collect(context.Background(), job, CollectOptions{API: api(t, srv, nil)}, j.judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (CollectReport{Lines: 1, Good: 1, Unsubmitted: 2, Missing: 2}) {
		t.Errorf("partly submitted: %+v", rep)
	}
}

// TestCollectCounts: results given with From, each request counted once
// by its best outcome, whatever else the files hold.
func TestCollectCounts(t *testing.T) {
	a, b, c := "第1段。", "第2段。", "第3段。"
	tests := []struct {
		name      string
		files     [][]string
		want      CollectReport
		judged    []string // custom_ids, in the order judged
		malformed []string // what Errorf got
	}{
		{
			name:   "all good",
			files:  [][]string{{translated(a), translated(b), translated(c)}},
			want:   CollectReport{Lines: 3, Good: 3},
			judged: []string{idOf(a), idOf(b), idOf(c)},
		},
		{
			name:   "missing",
			files:  [][]string{{translated(c)}},
			want:   CollectReport{Lines: 1, Good: 1, Missing: 2},
			judged: []string{idOf(c)},
		},
		{
			name:   "failed, then good, then good again",
			files:  [][]string{{failedLine(idOf(a)), translated(a), translated(a), translated(b), translated(c)}},
			want:   CollectReport{Lines: 3, Good: 3, Repeated: 2},
			judged: []string{idOf(a), idOf(a), idOf(b), idOf(c)},
		},
		{
			name:   "good, then failed",
			files:  [][]string{{translated(a), failedLine(idOf(a)), failedLine(idOf(b))}},
			want:   CollectReport{Lines: 2, Good: 1, Failed: 1, Repeated: 1, Missing: 1},
			judged: []string{idOf(a), idOf(b)},
		},
		{
			name:   "failed twice",
			files:  [][]string{{failedLine(idOf(a)), failedLine(idOf(a))}},
			want:   CollectReport{Lines: 1, Failed: 1, Repeated: 1, Missing: 2},
			judged: []string{idOf(a), idOf(a)},
		},
		{
			name:   "wrong answer",
			files:  [][]string{{answered(idOf(a), "<seg id=\"1\">something else</seg>"), translated(b), translated(c)}},
			want:   CollectReport{Lines: 3, Good: 2, Failed: 1},
			judged: []string{idOf(a), idOf(b), idOf(c)},
		},
		{
			name:   "unknown ids, once each",
			files:  [][]string{{translated(a), translated("第9段。"), translated("第9段。"), failedLine("xlate-other")}},
			want:   CollectReport{Lines: 1, Good: 1, Unknown: 2, Missing: 2},
			judged: []string{idOf(a)},
		},
		{
			name:      "malformed lines",
			files:     [][]string{{translated(a), "not json", `{"custom_id":"x"}`, "", translated(b), translated(c)}},
			want:      CollectReport{Lines: 3, Good: 3, Malformed: 2},
			judged:    []string{idOf(a), idOf(b), idOf(c)},
			malformed: []string{":2: not a batch result line; skipped", ":3: not a batch result line; skipped"},
		},
		{
			name:   "the same file twice",
			files:  [][]string{{translated(a), translated(b)}, {translated(a), translated(b)}},
			want:   CollectReport{Lines: 2, Good: 2, Missing: 1},
			judged: []string{idOf(a), idOf(b)},
		},
		{
			name:   "a request in two files",
			files:  [][]string{{translated(a), translated(b)}, {translated(c), translated(b)}},
			want:   CollectReport{Lines: 3, Good: 3, Repeated: 1},
			judged: nil, // the files' order is their names'
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := planRound(t, filepath.Join(t.TempDir(), "job"), []string{"in"}, settings, a, b, c)
			var from []string
			for _, lines := range tc.files {
				from = append(from, writeFile(t, lines...))
			}
			var errs []string
			j := &judge{}
			rep, err := Collect(context.Background(), job, CollectOptions{From: from, Errorf: func(f string, args ...any) {
				errs = append(errs, fmt.Sprintf(f, args...))
			}}, j.judge)
			if err != nil {
				t.Fatal(err)
			}
			if rep != tc.want {
				t.Errorf("report %+v, want %+v", rep, tc.want)
			}
			if tc.judged != nil && !slices.Equal(j.ids(), tc.judged) {
				t.Errorf("judged %v, want %v", j.ids(), tc.judged)
			}
			if len(errs) != len(tc.malformed) {
				t.Errorf("errors %q, want %q", errs, tc.malformed)
			}
			for i := range min(len(errs), len(tc.malformed)) {
				if !strings.HasSuffix(errs[i], tc.malformed[i]) || !strings.Contains(errs[i], filepath.Join(job.dir, resultsDir, "from-")) {
					t.Errorf("error %q, want one about results/from-…%s", errs[i], tc.malformed[i])
				}
			}
			if !job.Collected {
				t.Error("a round collected from files is not marked collected")
			}
			kept, _ := filepath.Glob(filepath.Join(job.dir, resultsDir, "from-*.jsonl"))
			distinct := map[string]bool{}
			for _, lines := range tc.files {
				distinct[strings.Join(lines, "\n")] = true
			}
			if len(kept) != len(distinct) {
				t.Errorf("%d files kept in results/, want %d", len(kept), len(distinct))
			}
			for _, k := range kept {
				data, _ := os.ReadFile(k)
				if !distinct[strings.TrimSuffix(string(data), "\n")] {
					t.Errorf("%s is not a copy of a file given", k)
				}
			}
		})
	}
}

// TestCollectRefusesOtherFiles: a From file that holds no batch result
// (a batch input file, say) is refused before any file given is kept.
func TestCollectRefusesOtherFiles(t *testing.T) {
	job := newJob(t, 2, 0)
	requests := filepath.Join(job.dir, job.Parts[0].Name)
	good := writeFile(t, translated("第1段。"))
	tests := []struct {
		name string
		from []string
		want []string
	}{
		{"input file", []string{good, requests}, []string{"not batch results", "looks like a batch input file"}},
		{"garbage", []string{good, writeFile(t, "hello", `{"custom_id":"a"}`)}, []string{"not batch results", "the file is not kept"}},
		{"empty", []string{writeFile(t)}, []string{"not batch results"}},
		{"absent", []string{good, filepath.Join(t.TempDir(), "none.jsonl")}, []string{"none.jsonl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := &judge{}
			_, err := Collect(context.Background(), job, CollectOptions{From: tc.from}, j.judge)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.name == "garbage" && strings.Contains(err.Error(), "input file") {
				t.Errorf("garbage taken for a batch input file: %v", err)
			}
			if kept, _ := filepath.Glob(filepath.Join(job.dir, resultsDir, "*")); len(kept) > 0 || len(j.calls) > 0 || job.Collected {
				t.Errorf("kept %v, judged %d, collected %v", kept, len(j.calls), job.Collected)
			}
		})
	}
}

// TestCollectEarlierRounds: a result of an earlier round's request, given
// after the next round was prepared, is judged with that round's job and
// counted apart; only rounds with the job's settings are looked in.
func TestCollectEarlierRounds(t *testing.T) {
	old, cur := "第1段。", "第2段。"
	french := settings
	french.Lang = "French"
	tests := []struct {
		name   string
		next   Settings
		inputs []string
		want   CollectReport
		rounds []int // rounds of the judged results, in order
	}{
		{"same settings", settings, nil, CollectReport{Lines: 1, Good: 1, Earlier: 1, Unknown: 1}, []int{2, 1, 1}},
		{"other settings", french, []string{"in"}, CollectReport{Lines: 1, Good: 1, Unknown: 2}, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "job")
			first := planRound(t, dir, []string{"in"}, settings, old)
			j := &judge{}
			// Round 1 gets no answer: its results come late.
			if _, err := Collect(context.Background(), first, CollectOptions{From: []string{writeFile(t, failedLine(idOf(old)))}}, j.judge); err != nil {
				t.Fatal(err)
			}
			second := planRound(t, dir, tc.inputs, tc.next, cur)
			if second.Round != 2 || second.Settings.Lang != tc.next.Lang {
				t.Fatalf("round %d, settings %+v", second.Round, second.Settings)
			}
			j = &judge{}
			late := translated(old)
			rep, err := Collect(context.Background(), second, CollectOptions{From: []string{writeFile(t,
				translated(cur), late, late, translated("第7段。"))}}, j.judge)
			if err != nil {
				t.Fatal(err)
			}
			if rep != tc.want {
				t.Errorf("report %+v, want %+v", rep, tc.want)
			}
			var rounds []int
			for _, c := range j.calls {
				rounds = append(rounds, c.round)
				if c.round == 1 && (c.id != idOf(old) || !slices.Equal(c.files, []int{0}) || c.failure != "") {
					t.Errorf("round 1 judged %+v", c)
				}
			}
			if !slices.Equal(rounds, tc.rounds) {
				t.Errorf("judged in rounds %v, want %v", rounds, tc.rounds)
			}
		})
	}
}

// TestEarlierRoundsSkipsBrokenRounds: an archived round that cannot be
// read, or whose manifest is gone, is left out, not an error.
func TestEarlierRoundsSkipsBrokenRounds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job")
	first := planRound(t, dir, []string{"in"}, settings, "第1段。")
	if _, err := Collect(context.Background(), first, CollectOptions{From: []string{writeFile(t, translated("第1段。"))}}, (&judge{}).judge); err != nil {
		t.Fatal(err)
	}
	second := planRound(t, dir, nil, settings, "第2段。")
	if _, err := Collect(context.Background(), second, CollectOptions{From: []string{writeFile(t, translated("第2段。"))}}, (&judge{}).judge); err != nil {
		t.Fatal(err)
	}
	third := planRound(t, dir, nil, settings, "第3段。")
	if r := third.earlierRounds(); len(r) != 2 || r[0].job.Round != 1 || r[1].job.Round != 2 {
		t.Fatalf("%d earlier rounds", len(r))
	} else {
		for _, x := range r {
			x.m.Close()
		}
	}
	if err := os.Remove(filepath.Join(dir, "rounds", "1", manifestFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rounds", "2", jobFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := third.earlierRounds(); r == nil || len(r) != 0 {
		t.Errorf("broken rounds opened: %d", len(r))
	}
}

func TestResultFailure(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"answered", answered("a", "hi"), ""},
		{"vLLM string error", `{"custom_id":"a","response":null,"error":"model crashed"}`, "model crashed"},
		{"OpenAI expired", `{"custom_id":"a","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}`,
			"batch_expired: This request could not be executed before the completion window expired."},
		{"OpenAI error status", `{"custom_id":"a","response":{"status_code":400,"body":{"error":{"message":"bad request","type":"invalid_request_error","param":null,"code":"invalid_value"}}},"error":null}`,
			"status 400: invalid_value: bad request"},
		{"vLLM error status", `{"custom_id":"a","response":{"status_code":400,"body":{"error":{"message":"too long","type":"BadRequestError","param":null,"code":400}}},"error":null}`,
			"status 400: 400: too long"},
		{"status without a message", `{"custom_id":"a","response":{"status_code":500,"body":"oops"},"error":null}`, "status 500"},
		{"200 with no body", `{"custom_id":"a","response":{"status_code":200,"body":null},"error":null}`, "status 200"},
		{"200 and an error", `{"custom_id":"a","response":{"status_code":200,"body":null},"error":{"code":"server_error","message":"lost"}}`, "server_error: lost"},
		{"nothing", `{"custom_id":"a","response":null,"error":null}`, "no response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			if err := json.Unmarshal([]byte(tc.line), &r); err != nil {
				t.Fatal(err)
			}
			if got := r.Failure(); got != tc.want {
				t.Errorf("Failure() = %q, want %q", got, tc.want)
			}
		})
	}
}
