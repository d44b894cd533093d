package main_test

// The first hour, the run's side: a summary that cannot be made keeps the
// translation, -o says what it means, and retries stay out of sight
// without --verbose.

import (
	"os"
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
