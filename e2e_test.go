package main_test

// End-to-end tests: build the real xlate binary and run it against the
// in-repo fake OpenAI server over every corpus file in testdata/corpus.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/lang"
)

var xlateBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xlate-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	xlateBin = filepath.Join(dir, "xlate")
	if runtime.GOOS == "windows" {
		xlateBin += ".exe"
	}
	// The binary is built without -race even under go test -race: a race
	// build runs several times slower and these tests start it hundreds of
	// times. The same concurrent code runs in-process under the race
	// detector in internal/cli's tests.
	// -buildvcs=true: the binary's version names its commit even where
	// GOFLAGS=-buildvcs=false (TestVersionNamesCommit).
	build := exec.Command("go", "build", "-buildvcs=true", "-ldflags", worktreeCommit(), "-o", xlateBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building xlate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testKey = "sk-test-e2e-0123456789"

// env is a clean environment pointing xlate at srv with its own cache.
func env(t *testing.T, srv *fakeopenai.Server, cacheDir string) []string {
	t.Helper()
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"OPENAI_BASE_URL=" + srv.URL(),
		"OPENAI_API_KEY=" + testKey,
		"XLATE_CACHE_DIR=" + cacheDir,
		// The memory goes with the cache: runs that share a cache share
		// it, as one user's runs do.
		"XLATE_MEMORY_DIR=" + cacheDir + "-memory",
		"XLATE_MODEL=fake-model",
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func runXlate(t *testing.T, environ []string, stdin []byte, args ...string) result {
	t.Helper()
	r := runXlateIn(t, "", environ, stdin, args...)
	if strings.Contains(r.stdout+r.stderr, testKey) {
		t.Errorf("the API key leaked into xlate's output")
	}
	return r
}

// runXlateIn runs the binary in the working directory dir ("" = this one).
func runXlateIn(t *testing.T, dir string, environ []string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(xlateBin, args...)
	cmd.Env, cmd.Dir = environ, dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil || len(files) < 40 {
		t.Fatalf("testdata/corpus has %d files (%v)", len(files), err)
	}
	return files
}

// contentLines strips markdown quote and list prefixes from every line of
// rendered output, leaving the text.
func contentLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		for {
			t := strings.TrimPrefix(l, ">")
			if t == l {
				break
			}
			l = strings.TrimSpace(t)
		}
		lines = append(lines, unescape(l))
	}
	return lines
}

// codeSpanRE finds the simple code spans of a segment.
var codeSpanRE = regexp.MustCompile("`[^`\n]+`")

// fakeTranslation is the fake server's translation of a segment as xlate
// sends it: code spans travel as placeholders and come back verbatim.
func fakeTranslation(s string) string {
	var spans []string
	masked := codeSpanRE.ReplaceAllStringFunc(s, func(m string) string {
		spans = append(spans, m)
		return fmt.Sprintf("`C%d`", len(spans))
	})
	out := fakeopenai.Translate(masked)
	for i, sp := range spans {
		out = strings.Replace(out, fmt.Sprintf("`C%d`", i+1), sp, 1)
	}
	return out
}

// unescape drops backslashes (markdown escapes and hard breaks) and trims.
func unescape(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\\", ""))
}

// checkOutput verifies one rendered article against its source: one
// translation per source segment in source order, images and the source
// link kept, a summary, and the front matter preserved.
func checkOutput(t *testing.T, name string, src []byte, out string) {
	t.Helper()
	a, err := article.Parse(src, article.SyntaxAuto)
	if err != nil {
		t.Fatalf("%s: parse source: %v", name, err)
	}
	// Translations, in order, line by line.
	lines := contentLines(out)
	pos, col := 0, 0
	for i, seg := range a.Segments(false) {
		want := seg.Text
		if lang.NeedsTranslation(want) {
			want = fakeTranslation(want)
		}
		for _, wl := range strings.Split(want, "\n") {
			wl = unescape(wl)
			if wl == "" {
				continue
			}
			// Several segments can share a line (table cells): search from
			// the end of the previous match.
			found := false
			for ; pos < len(lines); pos, col = pos+1, 0 {
				if k := strings.Index(lines[pos][col:], wl); k >= 0 {
					found = true
					col += k + len(wl)
					break
				}
			}
			if !found {
				t.Fatalf("%s: translation of segment %d (%.40q) missing or out of order: %.60q", name, i+1, seg.Text, wl)
			}
		}
	}
	// Images and the source link, untouched.
	for _, b := range a.Blocks {
		if (b.Kind == article.Image || b.Kind == article.SourceLink) && !strings.Contains(out, "("+b.Src) {
			t.Errorf("%s: %s %s missing", name, b.Kind, b.Src)
		}
	}
	if len(a.Segments(false)) > 0 && !strings.Contains(out, "**TL;DR:**") {
		t.Errorf("%s: no summary in the output", name)
	}
	// Front matter: every original key kept with its value; title English.
	o, err := article.Parse([]byte(out), article.SyntaxAuto)
	if err != nil || o.Meta.Format != max(a.Meta.Format, article.YAML) {
		t.Fatalf("%s: output front matter does not parse: %v (format %v)", name, err, o.Meta.Format)
	}
	got := o.Meta.Fields
	for k, v := range a.Meta.Fields {
		if k == "title" {
			continue
		}
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: front matter %s = %#v, want %#v", name, k, got[k], v)
		}
	}
	if a.Title != "" {
		if got["original_title"] != a.Title {
			t.Errorf("%s: original_title = %v, want %q", name, got["original_title"], a.Title)
		}
		if title, _ := got["title"].(string); lang.NeedsTranslation(a.Title) && title != fakeopenai.Translate(a.Title) {
			t.Errorf("%s: title = %q, want %q", name, title, fakeopenai.Translate(a.Title))
		}
	}
	if len(a.Segments(false)) > 0 && got["summary"] == nil {
		t.Errorf("%s: no summary in the front matter", name)
	}
	checkEveryBlockOnce(t, name, a, out)
}

// checkEveryBlockOnce scans a bilingual output: no line is followed by
// itself one quote level deeper (a block with nothing to translate shown
// again as its own "translation"), and there are exactly as many headings
// as the source has (a heading's translation is no second heading).
func checkEveryBlockOnce(t *testing.T, name string, a *article.Article, out string) {
	t.Helper()
	want := 0
	for _, b := range a.Blocks {
		if b.Kind == article.Heading && strings.TrimSpace(b.Text) != "" {
			want++
		}
	}
	_, body, _ := strings.Cut(strings.TrimPrefix(out, "---\n"), "\n---\n")
	headings, fence := 0, ""
	prev, prevDepth := "", 0
	for _, l := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(l)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if trimmed == "" || trimmed == ">" {
			continue
		}
		if strings.HasPrefix(l, "#") {
			headings++
		}
		depth := 0
		text := trimmed
		for strings.HasPrefix(text, ">") {
			depth++
			text = strings.TrimSpace(text[1:])
		}
		text = strings.TrimSpace(strings.TrimLeft(text, "#-*+0123456789.) "))
		if depth > prevDepth && text == prev && text != "" {
			t.Errorf("%s: %.60q is followed by itself as its translation", name, text)
		}
		prev, prevDepth = text, depth
	}
	if headings != want {
		t.Errorf("%s: %d headings in the output, want %d (one per source heading)", name, headings, want)
	}
}

func TestEveryCorpusFileStdinAndDirectory(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	cacheDir := t.TempDir()
	environ := env(t, srv, cacheDir)

	outputs := map[string]string{}
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := runXlate(t, environ, nil, f)
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", name, r.code, r.stderr)
			continue
		}
		checkOutput(t, name, src, r.stdout)
		outputs[name] = r.stdout
	}
	first := srv.Count()
	if first == 0 {
		t.Fatal("no requests reached the fake server")
	}

	// Stdin gives the same as the file, for each input shape.
	for _, name := range []string{"华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持.md", "mdbody-dockerhub.md", "plain-seed-cnbeta.txt", "plain-gb18030-seed-cnbeta.txt", "plain-singlenl-tiktok.txt"} {
		src, _ := os.ReadFile(filepath.Join("testdata", "corpus", name))
		r := runXlate(t, environ, src)
		if r.code != 0 || r.stdout != outputs[name] {
			t.Errorf("stdin %s: exit %d, same as file: %v\n%s", name, r.code, r.stdout == outputs[name], r.stderr)
		}
	}

	// A directory: the tree mirrored, each output the same as the file's.
	out := filepath.Join(t.TempDir(), "out")
	r := runXlate(t, environ, nil, "-o", out, filepath.Join("testdata", "corpus"))
	if r.code != 0 {
		t.Fatalf("directory run: exit %d: %s", r.code, r.stderr)
	}
	for name, want := range outputs {
		got, err := os.ReadFile(filepath.Join(out, strings.TrimSuffix(name, filepath.Ext(name))+".md"))
		if err != nil {
			t.Errorf("directory run: %v", err)
			continue
		}
		if string(got) != want {
			t.Errorf("directory run: %s differs from the single-file output", name)
		}
	}
	if srv.Count() != first {
		t.Errorf("stdin and directory runs made %d requests; the cache should have served them all", srv.Count()-first)
	}
}

func TestStreamingAndJSONGiveTheSameOutput(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	f := filepath.Join("testdata", "corpus", "99_6_的心脏病发作前都会出现这四个危险信号之一.md")
	a := runXlate(t, env(t, srv, t.TempDir()), nil, f)
	b := runXlate(t, env(t, srv, t.TempDir()), nil, "--stream=false", f)
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout {
		t.Fatalf("stream exit %d, json exit %d, equal %v\n%s%s", a.code, b.code, a.stdout == b.stdout, a.stderr, b.stderr)
	}
	var streamed, plain int
	for _, r := range srv.Requests() {
		if r.Kind == fakeopenai.KindTranslate || r.Kind == fakeopenai.KindSummary {
			if r.Stream {
				streamed++
			} else {
				plain++
			}
		}
	}
	if streamed == 0 || plain == 0 {
		t.Errorf("streamed %d, plain %d requests: want both", streamed, plain)
	}
}

func TestEnglishLayoutAndNoSummary(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	f := filepath.Join("testdata", "corpus", "plain-seed-cnbeta.txt")
	r := runXlate(t, env(t, srv, t.TempDir()), nil, "--layout", "english", "--no-summary", f)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if lang.NeedsTranslation(r.stdout) {
		t.Errorf("english layout still has Chinese:\n%.300s", r.stdout)
	}
	if strings.Contains(r.stdout, "TL;DR") || srv.CountKind(fakeopenai.KindSummary) != 0 {
		t.Errorf("--no-summary still summarised")
	}
}

func TestUsageErrors(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	base := env(t, srv, t.TempDir())
	noKey := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XLATE_CACHE_DIR=" + t.TempDir()}
	corpus := filepath.Join("testdata", "corpus")
	tests := []struct {
		name    string
		environ []string
		args    []string
		code    int
		stderr  string
	}{
		{"no key for OpenAI", noKey, []string{corpus + "/plain-seed-cnbeta.txt"}, 2, "OPENAI_API_KEY"},
		{"directory without -o", base, []string{corpus}, 2, "-o DIR"},
		{"bad layout", base, []string{"--layout", "fancy", corpus + "/plain-seed-cnbeta.txt"}, 2, "--layout"},
		{"missing file", base, []string{"nope.md"}, 1, "nope.md"},
		{"unknown flag", base, []string{"--frobnicate"}, 2, "frobnicate"},
		{"wrong key", append(base, "OPENAI_API_KEY=sk-wrong"), []string{corpus + "/plain-seed-cnbeta.txt"}, 2, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runXlate(t, tt.environ, []byte{}, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %.100q, want nothing", r.stdout)
			}
		})
	}
}

func TestLocalServerNeedsNoKey(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XLATE_CACHE_DIR=" + t.TempDir(), "OPENAI_BASE_URL=" + srv.URL()}
	r := runXlate(t, environ, []byte("第一段。\n\n第二段。\n"))
	if r.code != 0 || !strings.Contains(r.stdout, fakeopenai.Translate("第二段。")) {
		t.Errorf("exit %d: %s\n%s", r.code, r.stderr, r.stdout)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	out := filepath.Join(t.TempDir(), "x.md")
	r := runXlate(t, env(t, srv, t.TempDir()), nil, filepath.Join("testdata", "corpus", "plain-seed-cnbeta.txt"), "-o", out, "--no-summary")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(out); err != nil || len(b) == 0 || r.stdout != "" {
		t.Errorf("output file: %d bytes, %v; stdout %d bytes", len(b), err, len(r.stdout))
	}
}

// TestSeedAsTxt: the archive file this project was designed from, saved as
// .txt, is read by its content: front matter over HTML. File and stdin give
// the same bytes, the title is English with the original kept, every other
// key unchanged, every paragraph aligned, and neither front matter nor HTML
// in the body.
func TestSeedAsTxt(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	environ := env(t, srv, t.TempDir())
	src, err := os.ReadFile(filepath.Join("testdata", "corpus", "华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持.md"))
	if err != nil {
		t.Fatal(err)
	}
	seed := writeFile(t, filepath.Join(t.TempDir(), "seed.txt"), src)
	file := runXlate(t, environ, nil, seed)
	stdin := runXlate(t, environ, src)
	if file.code != 0 || stdin.code != 0 || file.stdout != stdin.stdout {
		t.Fatalf("file: exit %d, stdin: exit %d, same output: %v\n%s%s", file.code, stdin.code, file.stdout == stdin.stdout, file.stderr, stdin.stderr)
	}
	checkOutput(t, "seed.txt", src, file.stdout)
	_, body, _ := strings.Cut(strings.TrimPrefix(file.stdout, "---\n"), "\n---\n")
	for _, bad := range []string{"title:", "date:", "tags:", "<div", "<p>", "<img", "<span", "<br", "\\---"} {
		if strings.Contains(body, bad) {
			t.Errorf("the body holds %q", bad)
		}
	}
	if !strings.HasPrefix(file.stdout, "---\ntitle: \""+fakeopenai.Translate("华盛顿内幕：马斯克极其厌恶的奥尔特曼 如何赢得特朗普支持")) {
		t.Errorf("the output does not open with the English title:\n%.300s", file.stdout)
	}
}
