package main_test

// The first hour, the run's side: a summary that cannot be made keeps the
// translation, -o says what it means, and retries stay out of sight
// without --verbose.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestFailedSummaryKeepsTheTranslation(t *testing.T) {
	src := filepath.Join("testdata", "corpus", "DockerHub_国内镜像解决方案.md")
	noSummaries := func(_ int, r *fakeopenai.Recorded) fakeopenai.Fault {
		if r.Kind == fakeopenai.KindSummary {
			return fakeopenai.Fault{Truncate: true}
		}
		return fakeopenai.Fault{}
	}
	bad := fakeopenai.New(t, fakeopenai.Options{Fault: noSummaries})
	cacheDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	// Small chunks: the summary is a request of its own, over the notes.
	r := runXlate(t, env(t, bad, cacheDir), nil, "--retry-backoff", "1ms", "--chunk-tokens", "200", "-o", out+"/", src)
	if r.code != 1 || !strings.Contains(r.stderr, "written without its summary") || !strings.Contains(r.stderr, filepath.Base(src)) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	written, err := os.ReadFile(filepath.Join(out, "DockerHub_国内镜像解决方案.md"))
	if err != nil {
		t.Fatalf("no output: %v", err)
	}
	if strings.Contains(string(written), "TL;DR") || !strings.Contains(string(written), "> ") {
		t.Errorf("want the translation without a summary:\n%.400s", written)
	}

	// The next run asks for the summary alone.
	good := fakeopenai.New(t, fakeopenai.Options{})
	r = runXlate(t, env(t, good, cacheDir), nil, "--chunk-tokens", "200", "-o", out+"/", src)
	if r.code != 0 {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	if n := good.CountKind(fakeopenai.KindTranslate); n != 0 || good.CountKind(fakeopenai.KindSummary) == 0 {
		t.Errorf("second run: %d translation requests, %d summary requests; want only the summary", n, good.CountKind(fakeopenai.KindSummary))
	}
	if again, _ := os.ReadFile(filepath.Join(out, "DockerHub_国内镜像解决方案.md")); !strings.Contains(string(again), "**TL;DR:**") {
		t.Errorf("second run wrote no summary")
	}
}

func TestRetriesAreQuietWithoutVerbose(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.FailFirst(3, fakeopenai.Fault{Status: 503})})
	src := filepath.Join("testdata", "corpus", "DockerHub_国内镜像解决方案.md")
	r := runXlate(t, env(t, srv, t.TempDir()), nil, "--retry-backoff", "1ms", src)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q: want nothing on stderr (retries count in the progress and summary lines)", r.code, r.stderr)
	}
	r = runXlate(t, env(t, srv, t.TempDir()), nil, "--retry-backoff", "1ms", "--verbose", src)
	if r.code != 0 || !strings.Contains(r.stderr, "llm retry") && !strings.Contains(r.stderr, "llm answer") {
		t.Errorf("--verbose: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestFirstHourOutputFormsAndCostInSight: -o DIR/ is a directory, a new
// -o x.md for several inputs is refused; on a terminal a one-file run ends
// with the summary line, which says how much came from the cache or was
// shared and what its cost estimate rests on; -q drops it.
func TestFirstHourOutputFormsAndCostInSight(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := append(env(t, srv, t.TempDir()), "XLATE_MODEL=gpt-4o-mini")
	a := filepath.Join("testdata", "corpus", "DockerHub_国内镜像解决方案.md")
	b := filepath.Join("testdata", "corpus", "KEGG数据库.md")
	dir := t.TempDir()

	if r := runXlate(t, e, nil, "-q", "-o", filepath.Join(dir, "o1")+"/", a); r.code != 0 {
		t.Errorf("-o o1/ a.md: exit %d: %s", r.code, r.stderr)
	} else if _, err := os.Stat(filepath.Join(dir, "o1", "DockerHub_国内镜像解决方案.md")); err != nil {
		t.Errorf("-o o1/ a.md: %v", err)
	}
	if r := runXlate(t, e, nil, "-o", filepath.Join(dir, "x.md"), a, b); r.code != 2 || !strings.Contains(r.stderr, "names a file") {
		t.Errorf("-o x.md a.md b.md: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.md")); err == nil {
		t.Errorf("-o x.md a.md b.md made x.md")
	}

	script, err := exec.LookPath("script")
	if err != nil || exec.Command(script, "-qec", "true", os.DevNull).Run() != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no util-linux script for a pseudo-terminal")
		}
		t.Skip("SKIPPED: no util-linux script for a pseudo-terminal")
	}
	onTerminal := func(args string) string {
		t.Helper()
		cmd := exec.Command(script, "-qec", "'"+xlateBin+"' "+args, os.DevNull)
		cmd.Env, cmd.Stdin = e, strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	abs, _ := filepath.Abs(b)
	out := onTerminal("-o '" + filepath.Join(dir, "one.md") + "' '" + abs + "'")
	if !strings.Contains(out, "1 done (0 from cache or shared), 0 failed") || !strings.Contains(out, "estimated at gpt-4o-mini list prices") {
		t.Errorf("one file on a terminal:\n%s\nwant the summary line with its cost basis", out)
	}
	if out := onTerminal("-q -o '" + filepath.Join(dir, "two.md") + "' '" + abs + "'"); strings.Contains(out, " done (") {
		t.Errorf("-q on a terminal:\n%s\nwant no summary line", out)
	}
}
