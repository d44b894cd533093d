package main_test

// End-to-end checks of small fixes, through the real binary.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// A short dummy key, as a local server is given, is no secret: the words of
// an error message that happen to hold it stay whole.
func TestShortKeyMessageIntact(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Status: 200, ErrorBody: "data: [DONE]\n\n"})})
	environ := append(env(t, srv, t.TempDir()), "OPENAI_API_KEY=k")
	r := runXlate(t, environ, nil, "--retry-backoff", "1ms", "--retries", "1", "testdata/corpus/plain-seed-cnbeta.txt")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "redacted") || !strings.Contains(r.stderr, "(0 chunks)") {
		t.Errorf("stderr mangled by redaction, want the message whole:\n%s", r.stderr)
	}
}

// The same input named twice, under one name or two, is one job: exit 0,
// no error line, one output and one file's requests.
func TestSameFileTwice(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	dir := t.TempDir()
	src, err := os.ReadFile(goodSrc)
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.md")
	if err := os.WriteFile(a, src, 0o644); err != nil {
		t.Fatal(err)
	}
	sep := string(filepath.Separator)
	names := []string{a, a, dir + sep + "." + sep + "a.md"}
	if err := os.Symlink("a.md", filepath.Join(dir, "b.md")); err == nil {
		names = append(names, filepath.Join(dir, "b.md"))
	}
	out := filepath.Join(t.TempDir(), "out")
	r := runXlate(t, env(t, srv, t.TempDir()), nil, append([]string{"-q", "-o", out}, names...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, want 0 and nothing on stderr:\n%s", r.code, r.stderr)
	}
	if got := readOutputs(t, out); len(got) != 1 || got["a.md"] == "" {
		t.Errorf("outputs %v, want a.md alone", slices.Sorted(maps.Keys(got)))
	}
	once := srv.Count()
	srv.Reset()
	r = runXlate(t, env(t, srv, t.TempDir()), nil, "-q", "-o", t.TempDir(), a)
	if r.code != 0 || srv.Count() != once {
		t.Errorf("the file named %d times cost %d requests, once %d (exit %d)", len(names), once, srv.Count(), r.code)
	}
}

// An output directory that cannot be written is found before any request
// is paid for: exit 2 and one line naming it.
func TestUnwritableOutputDir(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	for _, name := range []string{"a.md", "b.md"} {
		src, err := os.ReadFile(goodSrc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type run struct {
		args []string
		dir  string // the directory the error line must name
	}
	runs := []run{
		{[]string{"-o", filepath.Join(file, "out"), in}, filepath.Join(file, "out")},
		{[]string{"-o", filepath.Join(file, "x.md"), filepath.Join(in, "a.md")}, file},
		{[]string{"-o", filepath.Join(file, "out"), filepath.Join(in, "a.md"), filepath.Join(in, "b.md")}, filepath.Join(file, "out")},
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(tmp, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ro, 0o700) })
		runs = append(runs, run{[]string{"-o", ro, in}, ro}, run{[]string{"-o", filepath.Join(ro, "x.md"), filepath.Join(in, "a.md")}, ro})
	} else {
		t.Log("root: the read-only directory case is not run")
	}
	for _, rn := range runs {
		r := runXlate(t, env(t, srv, t.TempDir()), nil, rn.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "xlate: output directory "+rn.dir+": ") {
			t.Errorf("%q: exit %d, want 2 and one line naming %s:\n%s", rn.args, r.code, rn.dir, r.stderr)
		}
		if srv.Count() != 0 {
			t.Fatalf("%q: %d requests before the output directory was found unwritable", rn.args, srv.Count())
		}
	}
	// A dry run writes nothing: it is not refused.
	if r := runXlate(t, env(t, srv, t.TempDir()), nil, "--dry-run", "-o", filepath.Join(file, "out"), in); r.code != 0 {
		t.Errorf("dry run: exit %d:\n%s", r.code, r.stderr)
	}
}

// A cache that cannot be written (here: files where its shard directories
// go, as a full disk would fail every write) is reported once, in one
// line, and the run goes on uncached.
func TestUnwritableCacheWarnsOnce(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	cacheDir := t.TempDir()
	for i := range 256 {
		if err := os.WriteFile(filepath.Join(cacheDir, fmt.Sprintf("%02x", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in := faultDir(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runXlate(t, env(t, srv, cacheDir), nil, "-o", out, in)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", r.code, r.stderr)
	}
	if got := readOutputs(t, out); len(got) != len(faultFiles) {
		t.Errorf("%d outputs, want %d", len(got), len(faultFiles))
	}
	want := "xlate: warning: cache " + cacheDir + ": cannot write (not a directory): translations are not being cached"
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 2 || lines[0] != want || !summaryLineRE.MatchString(lines[1]) {
		t.Errorf("stderr:\n%s\nwant the line %q once, then the summary", r.stderr, want)
	}
}

// xlate cache prune removes the temporary files a killed run left (with
// the default --older-than), but not a live writer's.
func TestCachePruneRemovesOrphanedTemps(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	cacheDir := t.TempDir()
	shard := filepath.Join(cacheDir, "ab")
	if err := os.Mkdir(shard, 0o700); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(shard, ".tmp-ab12345678901234-1")
	live := filepath.Join(shard, ".tmp-ab12345678901234-2")
	now := time.Now()
	for path, age := range map[string]time.Duration{orphan: 10 * time.Minute, live: 0} {
		if err := os.WriteFile(path, []byte("xlate-cache 1 ab"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	r := runXlate(t, env(t, srv, cacheDir), nil, "cache", "prune")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("prune left a killed run's temporary file (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("prune removed a live writer's temporary file: %v", err)
	}
}

// A file name holding control characters reaches no terminal raw: every
// error line escapes them (as \x1b), and keeps Chinese as is.
func TestControlCharactersInPathsEscaped(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	in := t.TempDir()
	src, err := os.ReadFile(goodSrc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "good.txt"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	const bad = "坏\x1b]0;pwned\x07\x1b[2J\x1b[31m名字.md"
	const shown = `坏\x1b]0;pwned\x07\x1b[2J\x1b[31m名字.md`
	if err := os.WriteFile(filepath.Join(in, bad), []byte("---\ntitle: x\n正文。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rawFree := func(name, s string) {
		t.Helper()
		for _, c := range []byte(s) {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Errorf("%s: raw control byte %#x on stderr:\n%q", name, c, s)
				return
			}
		}
	}

	r := runXlate(t, env(t, srv, t.TempDir()), nil, "-q", "-o", t.TempDir(), in)
	want := "xlate: " + filepath.Join(in, shown) + `: unterminated front matter: "---" on line 1 is never closed` + "\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("directory: exit %d, stderr\n%q\nwant\n%q", r.code, r.stderr, want)
	}
	rawFree("directory", r.stderr)

	// A single input's error, and one that is not found.
	r = runXlate(t, env(t, srv, t.TempDir()), nil, filepath.Join(in, bad))
	if r.code != 1 || !strings.HasPrefix(r.stderr, "xlate: "+filepath.Join(in, shown)+": ") {
		t.Errorf("single: exit %d, stderr %q", r.code, r.stderr)
	}
	rawFree("single", r.stderr)
	r = runXlate(t, env(t, srv, t.TempDir()), nil, filepath.Join(in, "gone\x1b[31m.md"))
	if r.code == 0 || !strings.HasPrefix(r.stderr, "xlate: "+filepath.Join(in, `gone\x1b[31m.md`)+": ") {
		t.Errorf("missing: exit %d, stderr %q", r.code, r.stderr)
	}
	rawFree("missing", r.stderr)
}

// A cache directory that cannot be made is named once, with one "cache:".
func TestCacheDirErrorPrefix(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "cache")
	for _, args := range [][]string{
		{"--cache-dir", dir, goodSrc},
		{"--cache-dir", dir, "-o", t.TempDir(), goodSrc, "testdata/corpus/mdbody-dockerhub.md"},
	} {
		r := runXlate(t, env(t, srv, t.TempDir()), nil, args...)
		first, _, _ := strings.Cut(r.stderr, "\n")
		if want := "xlate: cache: open " + dir + ": mkdir " + file + ": not a directory"; r.code != 2 || first != want {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 2 and first line %q", args, r.code, r.stderr, want)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests", srv.Count())
	}
}

// A YAML title holding an unescaped '"' is an error (Hugo rejects it too)
// that gives the file's line, in one line; the rest of the batch goes on.
func TestYAMLQuoteErrorHasLine(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	in := t.TempDir()
	src, err := os.ReadFile(goodSrc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "good.txt"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		text string
		line int
	}{
		"first.md":  {"---\ntitle: \"他说\"你好\"\"\ndate: 2024-05-01\n---\n\n正文第一段。\n", 2},
		"later.md":  {"\n---\ndate: 2024-05-01\ndraft: false\ntitle: \"他说\"你好\"\"\n---\n\n正文第一段。\n", 5},
		"nested.md": {"---\ntitle: 标题\nparams:\n  author: 张三\n  quote: \"他说\"你好\"\"\n---\n\n正文第一段。\n", 5},
	} {
		path := filepath.Join(in, name)
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("xlate: %s: front matter: yaml: line %d: did not find expected key\n", path, tc.line)
		r := runXlate(t, env(t, srv, t.TempDir()), nil, path)
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant first line %q", name, r.code, r.stderr, want)
		}
		if strings.Count(r.stderr, name) != 1 {
			t.Errorf("%s: more than one line about it:\n%s", name, r.stderr)
		}
	}
	out := t.TempDir()
	r := runXlate(t, env(t, srv, t.TempDir()), nil, "-q", "-o", out, in)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 3 || !strings.Contains(r.stderr, "first.md: front matter: yaml: line 2: did not find expected key\n") {
		t.Errorf("batch: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if got := readOutputs(t, out); len(got) != 1 || got["good.md"] == "" {
		t.Errorf("batch: outputs %v, want good.md", slices.Sorted(maps.Keys(got)))
	}
}
