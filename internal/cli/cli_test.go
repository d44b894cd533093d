package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestReorder(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.md", "a.md"},
		{"-o out a.md", "-o out a.md"},
		{"a.md -o out", "-o out a.md"},
		{"a.md --no-summary b.md --layout english", "--no-summary --layout english a.md b.md"},
		{"a.md --layout=english", "--layout=english a.md"},
		{"a.md --stream=false", "--stream=false a.md"},
		{"- -o x.md", "-o x.md -"},
		{"a.md -- -o", "a.md -- -o"},
		{"a.md -q", "-q a.md"},
		// Commands: the root's flags move in front, the command's stay.
		{"config --provider deepseek", "--provider deepseek config"},
		{"config --model=m -q", "--model=m -q config"},
		{"cache prune --older-than 30d --cache-dir d", "--cache-dir d cache prune --older-than 30d"},
		{"completion bash", "completion bash"},
		{"config --help", "config --help"},
		// A flag's value or a later argument is not a command.
		{"-o config a.md", "-o config a.md"},
		{"./config -o x.md", "-o x.md ./config"},
		{"a.md config", "a.md config"},
	}
	app := newApp(Streams{})
	for _, tt := range tests {
		got := strings.Join(reorder(strings.Fields(tt.in), app.Flags, commandSet(app)), " ")
		if got != tt.want {
			t.Errorf("reorder(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// isolate clears the environment xlate reads and points the config file and
// the cache at empty directories, so that the machine's settings cannot leak
// into a test.
func isolate(t *testing.T) {
	t.Helper()
	for _, v := range []string{"XLATE_PROVIDER", "XLATE_MODEL", "XLATE_TO", "XLATE_GLOSSARY", "XLATE_CONFIG",
		"OPENAI_BASE_URL", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "AZURE_OPENAI_API_KEY",
		"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION", "NO_COLOR"} {
		t.Setenv(v, "")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XLATE_CACHE_DIR", t.TempDir())
	t.Setenv("XLATE_MEMORY_DIR", t.TempDir())
}

// runMain runs Main in process with stdin and returns its exit code and
// output.
func runMain(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestMainOptionsAndExitCodes(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{"stdin to stdout", nil, []string{"--no-summary"}, "你好。", 0, fakeopenai.Translate("你好。"), ""},
		{"english layout", nil, []string{"--no-summary", "--layout", "english"}, "你好。", 0, fakeopenai.Translate("你好。"), ""},
		{"chunk tokens too small", nil, []string{"--chunk-tokens", "10"}, "", 2, "", "--chunk-tokens 10 is too small"},
		{"concurrency zero", nil, []string{"--concurrency", "0"}, "", 2, "", "--concurrency 0"},
		{"bad layout", nil, []string{"--layout", "x"}, "", 2, "", "--layout"},
		{"empty model", map[string]string{"XLATE_MODEL": ""}, []string{"--model", ""}, "", 2, "", "--model is empty"},
		{"remote without key", map[string]string{"OPENAI_BASE_URL": "https://api.example.com/v1"}, nil, "", 2, "", "OPENAI_API_KEY"},
		{"version", nil, []string{"--version"}, "", 0, "xlate version", ""},
		{"help", nil, []string{"--help"}, "", 0, "Exit status", ""},
		{"binary stdin", nil, nil, "\x00\x01\x02", 1, "", "<stdin>: binary file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("OPENAI_BASE_URL", srv.URL())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := Main(context.Background(), tt.args, Streams{In: strings.NewReader(tt.stdin), Out: &out, Err: &errb})
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out.String(), tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.stderr)
			}
		})
	}
}

func TestMainInterruptedExits130(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	isolate(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, nil, Streams{In: strings.NewReader("你好。"), Out: &out, Err: &errb})
	if code != ExitInterrupted || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 130 and no output", code, out.String(), errb.String())
	}
}

// TestMainDirectoryConcurrently runs the whole concurrent pipeline in
// process, so that go test -race sees it (the end-to-end tests run a binary
// built without the race detector): several files at once, many chunks each,
// transient faults and retries.
func TestMainDirectoryConcurrently(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: func(n int, req *fakeopenai.Recorded) fakeopenai.Fault {
		mu.Lock()
		defer mu.Unlock()
		if seen[req.User()] {
			return fakeopenai.Fault{}
		}
		seen[req.User()] = true
		switch n % 4 {
		case 0:
			return fakeopenai.Fault{DropSegment: "2"}
		case 1:
			return fakeopenai.ServerError(503)
		}
		return fakeopenai.Fault{}
	}})
	isolate(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	in := t.TempDir()
	// Ten articles of a few chunks each (2 to 25 KB): the race detector
	// needs the goroutines to meet, not a long run.
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*.md"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2000 || len(b) > 25000 {
			continue
		}
		if n++; n > 10 {
			break
		}
		if err := os.WriteFile(filepath.Join(in, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"--concurrency", "4", "--chunk-tokens", "300", "--retry-backoff", "1ms", "-q", "-o", out, in},
		Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 10 {
		t.Errorf("%d outputs, want 10", len(entries))
	}
	if srv.MaxInFlight() > 4 {
		t.Errorf("%d requests in flight, --concurrency 4", srv.MaxInFlight())
	}
}

func TestDryRunAndReport(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	isolate(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	in := filepath.Join("..", "..", "testdata", "corpus", "华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持.md")
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--dry-run", "--report", plan, in}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb.String())
	}
	if srv.Count() != 0 {
		t.Fatalf("dry run made %d requests", srv.Count())
	}
	var p planReport
	if b, err := os.ReadFile(plan); err != nil || json.Unmarshal(b, &p) != nil {
		t.Fatalf("plan report: %v", err)
	}
	if !p.DryRun || p.Files != 1 || p.Requests < 1 || p.InputTokens < p.SourceTokens || p.EstimatedCostUSD == nil || !strings.Contains(out.String(), "requests:") {
		t.Errorf("plan %+v\n%s", p, out.String())
	}

	// The real run: the plan's requests are what it makes, and its report
	// adds up.
	report := filepath.Join(dir, "run.json")
	out.Reset()
	if code := Main(context.Background(), []string{"--report", report, "-o", filepath.Join(dir, "out.md"), in}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errb.String())
	}
	var r runReport
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("run report: %v", err)
	}
	if r.FilesDone != 1 || r.Requests != int64(srv.Count()) || int(r.Requests) != p.Requests || r.SourceTokens != int64(p.SourceTokens) || r.PromptTokens == 0 {
		t.Errorf("run report %+v vs plan %+v (server saw %d requests)", r, p, srv.Count())
	}

	// After the run the plan says: nothing to do.
	out.Reset()
	Main(context.Background(), []string{"--dry-run", "--report", plan, in}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	b, _ := os.ReadFile(plan)
	_ = json.Unmarshal(b, &p)
	if p.Requests != 0 || p.CachedSegments != p.Segments {
		t.Errorf("plan after the run: %+v", p)
	}
}

// TestDryRunPlansSharedParagraphs: two files that share a paragraph; the
// plan counts it once and says so, and the run makes the plan's requests.
// (Over the whole corpus, through the binary: TestDryRunPlansADirectory in
// the root package.)
func TestDryRunPlansSharedParagraphs(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	isolate(t)
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	in, dir := t.TempDir(), t.TempDir()
	for name, text := range map[string]string{
		"a.md": "# 第一篇\n\n两篇文章共有的一个段落。\n\n只在第一篇里的段落。\n",
		"b.md": "# 第二篇\n\n两篇文章共有的一个段落。\n\n只在第二篇里的段落。\n",
	} {
		if err := os.WriteFile(filepath.Join(in, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, report := filepath.Join(dir, "plan.json"), filepath.Join(dir, "run.json")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--dry-run", "--report", plan, "-o", filepath.Join(dir, "out"), in}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), ", 1 repeated from other files (asked once)") {
		t.Errorf("the plan does not say the repeated paragraph is asked once:\n%s", out.String())
	}
	if code := Main(context.Background(), []string{"-q", "--report", report, "-o", filepath.Join(dir, "out"), in}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errb.String())
	}
	var p planReport
	var r runReport
	for f, v := range map[string]any{plan: &p, report: &r} {
		if b, err := os.ReadFile(f); err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if p.SharedSegments != 1 || p.Requests != int(r.Requests) || r.Requests != int64(srv.Count()) {
		t.Errorf("plan %+v; run %d requests, server %d", p, r.Requests, srv.Count())
	}
	asked := 0
	for _, rq := range srv.Requests() {
		if rq.Kind == fakeopenai.KindTranslate {
			asked += strings.Count(rq.User(), "两篇文章共有的一个段落")
		}
	}
	if asked != 1 {
		t.Errorf("the shared paragraph was asked for %d times", asked)
	}
}
