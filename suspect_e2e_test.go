package main_test

// A way past false alarms: a segment whose every answer is suspect fails
// its file, with a hint; --accept-suspect takes the last answer with a
// warning, --report lists the segment and its reason, and the summary line
// counts the re-asks. The accepted answer is never cached.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestAcceptSuspect(t *testing.T) {
	src := filepath.Join("testdata", "corpus", "华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持.md")
	bad := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.QuietDamages["one-word"])})
	cacheDir := t.TempDir()
	environ := env(t, bad, cacheDir)

	r := runXlate(t, environ, nil, "--retry-backoff", "1ms", "--no-summary", src)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "--accept-suspect") {
		t.Fatalf("every answer suspect: exit %d, %d bytes out, stderr:\n%s", r.code, len(r.stdout), r.stderr)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	r = runXlate(t, environ, nil, "--retry-backoff", "1ms", "--no-summary", "--accept-suspect", "--report", report, src)
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("--accept-suspect: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "accepted a suspect answer") {
		t.Errorf("no warning for the accepted answer:\n%s", r.stderr)
	}
	var rep struct {
		Reasks   int `json:"reasks"`
		Suspects []struct {
			File, Segment, Reason, Answer string
			Accepted                      bool
		} `json:"suspects"`
	}
	data, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(data, &rep) != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	if rep.Reasks == 0 || len(rep.Suspects) == 0 {
		t.Fatalf("report lists %d re-asks and %d suspects:\n%s", rep.Reasks, len(rep.Suspects), data)
	}
	for _, s := range rep.Suspects {
		if !s.Accepted || s.Reason == "" || !strings.HasPrefix(s.Segment, "paragraph ") && s.Segment != "title" || s.File != src {
			t.Errorf("suspect %+v", s)
		}
	}

	// Nothing suspect was cached: a clean server gives the clean output.
	clean := fakeopenai.New(t, fakeopenai.Options{})
	want := runXlate(t, env(t, clean, t.TempDir()), nil, "--no-summary", src)
	got := runXlate(t, env(t, clean, cacheDir), nil, "--no-summary", src)
	if got.code != 0 || got.stdout != want.stdout {
		t.Errorf("re-run against a clean server: exit %d, same as a fresh run: %v", got.code, got.stdout == want.stdout)
	}
}
