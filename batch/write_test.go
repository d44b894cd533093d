package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xlate/xlate/translate"
)

// requestLine is a line of a batch input file, its body decoded.
type requestLine struct {
	CustomID string `json:"custom_id"`
	Method   string `json:"method"`
	URL      string `json:"url"`
	Body     struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	} `json:"body"`
}

// readParts reads the job's batch input files, checking each against its
// Part.
func readParts(t *testing.T, job *Job) [][]requestLine {
	t.Helper()
	var parts [][]requestLine
	for i, p := range job.Parts {
		if want := fmt.Sprintf("requests-%03d.jsonl", i+1); p.Name != want {
			t.Errorf("part %d is %s, want %s", i, p.Name, want)
		}
		data, err := os.ReadFile(filepath.Join(job.dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != p.Bytes {
			t.Errorf("%s: %d bytes, the job says %d", p.Name, len(data), p.Bytes)
		}
		var lines []requestLine
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var l requestLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			lines = append(lines, l)
		}
		if len(lines) != p.Requests {
			t.Errorf("%s: %d lines, the job says %d", p.Name, len(lines), p.Requests)
		}
		parts = append(parts, lines)
	}
	return parts
}

// TestWriterSplits: the requests go into as many batch input files as the
// limits on requests and bytes ask for, in the order given, each Part
// telling its requests, bytes and prompt tokens.
func TestWriterSplits(t *testing.T) {
	var texts []string
	for i := range 7 {
		texts = append(texts, strings.Repeat("很长的段落", i+1)+"。")
	}
	whole := newJobTexts(t, 0, 0, texts)
	if len(whole.Parts) != 1 {
		t.Fatalf("%d parts without limits", len(whole.Parts))
	}
	line := whole.Parts[0].Bytes / 7 // about one request's bytes
	tests := []struct {
		name        string
		maxRequests int
		maxBytes    int64
		requests    []int
	}{
		{"requests", 3, 0, []int{3, 3, 1}},
		{"one a file", 1, 0, []int{1, 1, 1, 1, 1, 1, 1}},
		{"bytes", 0, 3 * line, nil},
		{"both", 2, 3 * line, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := newJobTexts(t, tc.maxRequests, tc.maxBytes, texts)
			parts := readParts(t, job)
			if len(parts) < 2 {
				t.Fatalf("%d parts", len(parts))
			}
			var ids, requests []int
			for i, p := range job.Parts {
				if tc.maxRequests > 0 && p.Requests > tc.maxRequests || tc.maxBytes > 0 && p.Bytes > tc.maxBytes {
					t.Errorf("%s: %d requests, %d bytes: over the limits", p.Name, p.Requests, p.Bytes)
				}
				// Each request's prompt tokens: its messages, as the
				// counter counts them, and the chat format's overhead.
				var tokens int64
				for _, l := range parts[i] {
					for _, m := range l.Body.Messages {
						tokens += int64(len(m.Content))
					}
					tokens += 2*tokensPerMessage + tokensPerPrompt
					ids = append(ids, slices.IndexFunc(texts, func(s string) bool { return idOf(s) == l.CustomID }))
				}
				if p.Tokens != tokens {
					t.Errorf("%s: %d tokens, want %d", p.Name, p.Tokens, tokens)
				}
				requests = append(requests, p.Requests)
			}
			if !slices.Equal(ids, []int{0, 1, 2, 3, 4, 5, 6}) {
				t.Errorf("requests in the order %v", ids)
			}
			if tc.requests != nil && !slices.Equal(requests, tc.requests) {
				t.Errorf("requests a file %v, want %v", requests, tc.requests)
			}
			if tmp, _ := filepath.Glob(filepath.Join(job.dir, ".*.tmp")); len(tmp) > 0 {
				t.Errorf("temporary files left: %q", tmp)
			}
		})
	}
}

// newJobTexts is newJob with the texts given and a limit on bytes.
func newJobTexts(t *testing.T, maxRequests int, maxBytes int64, texts []string) *Job {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "job")
	job, err := NewRound(dir, []string{"in"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWriter(maxRequests, maxBytes, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, text := range texts {
		job.Files = append(job.Files, File{In: fmt.Sprintf("/in/%d.md", i), Out: fmt.Sprintf("%d.md", i)})
		if err := w.AddTranslation(i, request(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(0); err != nil {
		t.Fatal(err)
	}
	return job
}

func TestWriterRefusesARequestOverMaxBytes(t *testing.T) {
	job, err := NewRound(t.TempDir(), []string{"in"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWriter(0, 100, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	job.Files = []File{{In: "/in/a.md", Out: "a.md"}}
	if err := w.AddTranslation(0, request(strings.Repeat("长", 50))); err == nil || !strings.Contains(err.Error(), "over --max-bytes 100") {
		t.Errorf("a request over --max-bytes: %v", err)
	}
}

// TestWriterManifest: every request is written once, with the files that
// need it; the manifest, read back, gives each request's entry as it was
// added, and the batch file its messages.
func TestWriterManifest(t *testing.T) {
	dir := t.TempDir()
	job, err := NewRound(dir, []string{"in"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	job.Files = []File{{In: "/in/a.md", Out: "a.md"}, {In: "/in/b.md", Out: "b.md"}, {In: "/in/c.md", Out: "c.md"}}
	w, err := job.NewWriter(0, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	tr := translate.Request{
		System: "Translate <seg> elements & keep them.",
		User:   `<seg id="1">第一段</seg>` + "\n" + `<seg id="2">见[链接](URL1)</seg>`,
		Brief:  "note",
		Pieces: []translate.Piece{
			{Source: "第一段", Text: "第一段"},
			{Source: "见[链接](https://example.com/a)", Text: "见[链接](URL1)"},
			{Source: "很长的一段", Text: "很长的", Part: 1, Parts: 2},
		},
		Tokens: 40, Answer: 30,
	}
	sumSystem, sumUser := "Summarise in English.", "Notes: a, b & c."
	adds := []struct {
		file    int
		summary bool
	}{{0, false}, {1, false}, {1, false}, {2, true}, {0, true}, {2, true}}
	for _, a := range adds {
		if a.summary {
			err = w.AddSummary(a.file, sumSystem, sumUser)
		} else {
			err = w.AddTranslation(a.file, tr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := Planned{Translations: 1, Summaries: 1, InputTokens: 40 + int64(len(sumSystem)+len(sumUser)), OutputTokens: 30 + summaryAnswer}
	if got := w.Planned(); got != want {
		t.Errorf("Planned() = %+v, want %+v", got, want)
	}
	if err := w.Commit(5); err != nil {
		t.Fatal(err)
	}
	if job.Translations != 1 || job.Summaries != 1 || job.Ready != 5 || len(job.Parts) != 1 {
		t.Errorf("job: %d translations, %d summaries, %d ready, %d parts", job.Translations, job.Summaries, job.Ready, len(job.Parts))
	}
	trID, sumID := translateID(settings.Model, tr), customID(settings.Model, sumSystem, sumUser)

	lines := readParts(t, job)[0]
	if len(lines) != 2 {
		t.Fatalf("%d request lines, want 2", len(lines))
	}
	for i, want := range []struct{ id, system, user string }{{trID, tr.System, tr.User}, {sumID, sumSystem, sumUser}} {
		l := lines[i]
		if l.CustomID != want.id || l.Method != "POST" || l.URL != Endpoint || l.Body.Model != settings.Model || len(l.Body.Messages) != 2 ||
			l.Body.Messages[0].Role != "system" || l.Body.Messages[0].Content != want.system ||
			l.Body.Messages[1].Role != "user" || l.Body.Messages[1].Content != want.user {
			t.Errorf("line %d: %+v", i+1, l)
		}
	}

	// The manifest keeps a piece's source only where it is not the text
	// sent, and no messages.
	manifest, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(manifest, []byte(`"source":`)); n != 2 || bytes.Contains(manifest, []byte(tr.System)) {
		t.Errorf("manifest keeps %d sources or the messages:\n%s", n, manifest)
	}
	m, err := job.openManifest()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e, err := m.get(trID)
	if err != nil {
		t.Fatal(err)
	}
	if e.CustomID != trID || !slices.Equal(e.Files, []int{0, 1}) || e.Summary != nil || e.Translate == nil ||
		e.Translate.Brief != "note" || !slices.Equal(e.Translate.Pieces, tr.Pieces) || e.Translate.System != "" {
		t.Errorf("translation entry %+v, %+v", e, e.Translate)
	}
	e, err = m.get(sumID)
	if err != nil {
		t.Fatal(err)
	}
	if e.CustomID != sumID || !slices.Equal(e.Files, []int{2, 0}) || e.Translate != nil || e.Summary == nil ||
		*e.Summary != (SummaryRequest{System: sumSystem, User: sumUser}) {
		t.Errorf("summary entry %+v", e)
	}
	if e, err := m.get("xlate-none"); e != nil || err != nil {
		t.Errorf("an id not in the manifest: %+v, %v", e, err)
	}

	// An entry damaged after the manifest was indexed is an error.
	if err := os.WriteFile(filepath.Join(dir, manifestFile), bytes.Repeat([]byte("x"), len(manifest)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.get(trID); err == nil || !strings.Contains(err.Error(), "manifest entry "+trID) {
		t.Errorf("a damaged entry: %v", err)
	}
}

// TestWriterAbort: an aborted Writer leaves the job directory as it was:
// no temporary file, the earlier round's files untouched; Abort after
// Commit does nothing.
func TestWriterAbort(t *testing.T) {
	job := newJob(t, 3, 1)
	before := map[string]string{}
	for _, name := range list(t, job.dir) {
		data, _ := os.ReadFile(filepath.Join(job.dir, name))
		before[name] = string(data)
	}
	again, err := NewRound(job.dir, nil, settings)
	if err != nil {
		t.Fatal(err)
	}
	again.Files = job.Files
	w, err := again.NewWriter(1, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"另一段。", "又一段。"} {
		if err := w.AddTranslation(i, request(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddSummary(2, "s", "u"); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(job.dir, ".*.tmp")); len(tmp) != 4 {
		t.Errorf("temporary files while writing: %q", tmp)
	}
	w.Abort()
	after := list(t, job.dir)
	if len(after) != len(before) {
		t.Errorf("after Abort the directory holds %q", after)
	}
	for _, name := range after {
		data, _ := os.ReadFile(filepath.Join(job.dir, name))
		if before[name] != string(data) {
			t.Errorf("%s changed by an aborted Writer", name)
		}
	}

	w, err = again.NewWriter(0, 0, func(s string) int { return len(s) })
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTranslation(0, request("另一段。")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(0); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if got, want := list(t, job.dir), []string{jobFile, manifestFile, "requests-001.jsonl"}; !slices.Equal(got, want) {
		t.Errorf("after Commit and Abort the directory holds %q, want %q (the earlier prepare's batch files removed)", got, want)
	}
	if again.Round != 1 || len(again.Parts) != 1 || again.Parts[0].Requests != 1 {
		t.Errorf("round %d, parts %+v", again.Round, again.Parts)
	}
}

func TestOpenManifestRejects(t *testing.T) {
	tests := []struct {
		name, manifest, want string
	}{
		{"not JSON", "{\"custom_id\":\"a\",\"files\":[0],\"summary\":{}}\nnot json\n", "manifest.jsonl:2: not a manifest line"},
		{"no custom_id", `{"files":[0],"summary":{}}`, "manifest.jsonl:1: not a manifest line"},
		{"file not in the job", `{"custom_id":"a","files":[2],"summary":{}}`, "manifest.jsonl:1: file 2 is not in the job"},
		{"negative file", "{\"custom_id\":\"a\",\"files\":[0],\"summary\":{}}\n{\"custom_id\":\"a\",\"files\":[-1]}\n", "manifest.jsonl:2: file -1 is not in the job"},
		{"absent", "", "manifest.jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := &Job{dir: t.TempDir(), Files: []File{{}, {}}}
			if tc.manifest != "" {
				if err := os.WriteFile(filepath.Join(j.dir, manifestFile), []byte(tc.manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if m, err := j.openManifest(); err == nil || !strings.Contains(err.Error(), tc.want) {
				if m != nil {
					m.Close()
				}
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestOpenManifestLastLine: a last line without its newline is read, and
// extra lines add files to an entry.
func TestOpenManifestLastLine(t *testing.T) {
	j := &Job{dir: t.TempDir(), Files: []File{{}, {}, {}}}
	data := `{"custom_id":"a","files":[1],"summary":{"system":"s","user":"u"}}` + "\n" +
		`{"custom_id":"b","files":[0],"translate":{"pieces":[{"text":"t"}]}}` + "\n" +
		`{"custom_id":"a","files":[2,0]}`
	if err := os.WriteFile(filepath.Join(j.dir, manifestFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := j.openManifest()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := m.get("a")
	if err != nil || !slices.Equal(a.Files, []int{1, 2, 0}) || a.Summary.User != "u" {
		t.Errorf("a: %+v, %v", a, err)
	}
	b, err := m.get("b")
	if err != nil || !slices.Equal(b.Files, []int{0}) || b.Translate.Pieces[0].Source != "t" {
		t.Errorf("b: %+v, %v", b, err)
	}
}
