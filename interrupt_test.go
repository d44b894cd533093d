package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// requestedWork returns the segment texts of the server's translation
// requests and the user messages of its summary requests; with completed,
// only those whose answer was written to the end.
func requestedWork(srv *fakeopenai.Server, completed bool) (segs, sums map[string]bool) {
	segs, sums = map[string]bool{}, map[string]bool{}
	for _, r := range srv.Requests() {
		if completed && !r.Completed {
			continue
		}
		switch r.Kind {
		case fakeopenai.KindTranslate:
			for _, s := range fakeopenai.ParseSegments(r.User()) {
				segs[s.Text] = true
			}
		case fakeopenai.KindSummary:
			sums[r.User()] = true
		}
	}
	return segs, sums
}

// referenceRun translates faultDir with args, uninterrupted and against a
// fault-free server, and returns that server and the outputs.
func referenceRun(t *testing.T, args []string) (*fakeopenai.Server, map[string]string) {
	t.Helper()
	ref := fakeopenai.New(t, fakeopenai.Options{})
	want := filepath.Join(t.TempDir(), "want")
	if r := runXlate(t, env(t, ref, t.TempDir()), nil, append(args, "-o", want, faultDir(t))...); r.code != 0 {
		t.Fatalf("reference run: exit %d: %s", r.code, r.stderr)
	}
	return ref, readOutputs(t, want)
}

// startXlate starts the binary and returns a func that waits for it.
func startXlate(t *testing.T, environ []string, args ...string) (*exec.Cmd, func() result) {
	t.Helper()
	cmd := exec.Command(xlateBin, args...)
	cmd.Env = environ
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return cmd, func() result {
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("xlate did not stop; stderr:\n%s", errb.String())
		}
		return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
	}
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestInterruptThenResume(t *testing.T) {
	args := []string{"--concurrency", "2", "--chunk-tokens", "300", "-q"}

	// The uninterrupted run, for reference.
	ref, wantOut := referenceRun(t, args)
	// Summaries may take another route after an interrupt (from the English
	// text rather than with the translation), so only segments are compared
	// with the reference; the outputs, summaries included, are compared below.
	allSegs, _ := requestedWork(ref, false)

	// Run 1: the first requests are answered, the rest hang until xlate
	// gives up on them; Ctrl-C arrives while two hang.
	const answered = 8
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: func(n int, _ *fakeopenai.Recorded) fakeopenai.Fault {
		if n > answered {
			return fakeopenai.Fault{Delay: time.Hour}
		}
		return fakeopenai.Fault{}
	}})
	cacheDir, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	cmd, wait := startXlate(t, env(t, srv, cacheDir), append(args, "-o", out, faultDir(t))...)
	waitFor(t, "two hanging requests", func() bool { return srv.Count() >= answered+2 })
	time.Sleep(300 * time.Millisecond) // let xlate take in the answers it has
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r := wait()
	if r.code != 130 || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("interrupted run: exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	// Only complete outputs, no temp files.
	got := readOutputs(t, out)
	for name, body := range got {
		if body != wantOut[name] {
			t.Errorf("interrupted run left %s, which is not the complete output", name)
		}
	}
	if len(got) == len(wantOut) {
		t.Fatalf("the run was not interrupted before the end: %d outputs", len(got))
	}
	doneSegs, doneSums := requestedWork(srv, true)
	if len(doneSegs) == 0 {
		t.Fatal("no request was answered before the interrupt")
	}

	// Run 2: the same command asks only for what is missing.
	resume := fakeopenai.New(t, fakeopenai.Options{})
	r = runXlate(t, env(t, resume, cacheDir), nil, append(args, "-o", out, faultDir(t))...)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
	}
	againSegs, againSums := requestedWork(resume, false)
	for s := range againSegs {
		if doneSegs[s] {
			t.Errorf("resumed run asked again for a segment answered before the interrupt: %.40q", s)
		}
	}
	for s := range againSums {
		if doneSums[s] {
			t.Errorf("resumed run asked again for a summary answered before the interrupt")
		}
	}
	for s := range allSegs {
		if !doneSegs[s] && !againSegs[s] {
			t.Errorf("segment never requested: %.40q", s)
		}
	}
	if len(againSegs) >= len(allSegs) {
		t.Errorf("resumed run asked for %d segments, the whole job is %d", len(againSegs), len(allSegs))
	}
	final := readOutputs(t, out)
	if len(final) != len(wantOut) {
		t.Errorf("%d outputs after resuming, want %d", len(final), len(wantOut))
	}
	for name, w := range wantOut {
		if final[name] != w {
			t.Errorf("%s after resuming differs from the uninterrupted run's", name)
		}
	}
	t.Logf("reference %d segments; answered before Ctrl-C %d; resumed run asked %d", len(allSegs), len(doneSegs), len(againSegs))
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.Always(fakeopenai.Fault{Delay: time.Hour})})
	out := filepath.Join(t.TempDir(), "out.md")
	cmd, wait := startXlate(t, env(t, srv, t.TempDir()), "-o", out, filepath.Join("testdata", "corpus", "plain-seed-cnbeta.txt"))
	waitFor(t, "a hanging request", func() bool { return srv.Count() >= 1 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := wait()
	if r.code != 130 {
		t.Errorf("exit %d, want 130: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an output was written for an interrupted file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestKill9LeavesCompleteOrNoOutputs(t *testing.T) {
	args := []string{"--concurrency", "2", "--chunk-tokens", "300", "-q"}
	_, wantOut := referenceRun(t, args)

	// Slow answers; kill -9 once some files are written.
	srv := fakeopenai.New(t, fakeopenai.Options{TTFT: 20 * time.Millisecond, TokensPerSecond: 20000})
	cacheDir, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	cmd, wait := startXlate(t, env(t, srv, cacheDir), append(args, "-o", out, faultDir(t))...)
	waitFor(t, "a written output", func() bool {
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wait()
	for name, body := range readOutputs(t, out) {
		if !strings.HasPrefix(name, ".") && body != wantOut[name] {
			t.Errorf("after kill -9, %s is not a complete output", name)
		}
	}

	// Tear some cache entries as a crash mid-write could: truncate every
	// third one. They must be ignored, not served.
	n := 0
	_ = filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if n++; n%3 == 0 {
				fi, _ := d.Info()
				_ = os.Truncate(p, fi.Size()/2)
			}
		}
		return nil
	})
	if n == 0 {
		t.Fatal("nothing was cached before the kill")
	}
	resume := fakeopenai.New(t, fakeopenai.Options{})
	if r := runXlate(t, env(t, resume, cacheDir), nil, append(args, "-o", out, faultDir(t))...); r.code != 0 {
		t.Fatalf("re-run: exit %d: %s", r.code, r.stderr)
	}
	final := readOutputs(t, out)
	for name, w := range wantOut {
		if final[name] != w {
			t.Errorf("%s after the re-run differs from the reference: a torn cache entry was served?", name)
		}
	}
	if resume.Count() == 0 {
		t.Error("the re-run made no request although entries were torn")
	}
}

func TestTwoProcessesShareOneCache(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{TTFT: 5 * time.Millisecond})
	cacheDir := t.TempDir()
	outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	var waits []func() result
	for _, out := range outs {
		_, wait := startXlate(t, env(t, srv, cacheDir), "--chunk-tokens", "300", "-q", "-o", out, faultDir(t))
		waits = append(waits, wait)
	}
	for i, wait := range waits {
		if r := wait(); r.code != 0 {
			t.Fatalf("process %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	a, b := readOutputs(t, outs[0]), readOutputs(t, outs[1])
	for name, body := range a {
		if b[name] != body {
			t.Errorf("%s differs between the two processes", name)
		}
	}
	// The shared cache is sound: a third run is served entirely from it.
	srv.Reset()
	if r := runXlate(t, env(t, srv, cacheDir), nil, "-q", "--chunk-tokens", "300", "-o", filepath.Join(t.TempDir(), "c"), faultDir(t)); r.code != 0 || srv.Count() != 0 {
		t.Errorf("third run: exit %d, %d requests; want 0", r.code, srv.Count())
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInterruptWhileBlockedOnInput: Ctrl-C while xlate waits for input that
// never comes (a pipe whose writer stays silent, a FIFO nobody opens)
// stops it at once with exit 130, not at EOF and not with "empty file".
func TestInterruptWhileBlockedOnInput(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{{"stdin", nil}, {"fifo", []string{fifo}}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(xlateBin, append([]string{"--verbose"}, tc.args...)...)
			cmd.Env = env(t, srv, t.TempDir())
			stdin, err := cmd.StdinPipe() // held open, never written
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var errb lockedBuffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The settings line comes after the signal handler is set.
			waitFor(t, "xlate to start", func() bool { return strings.Contains(errb.String(), "settings") })
			time.Sleep(100 * time.Millisecond) // into the blocking read
			start := time.Now()
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("xlate ignored Ctrl-C while blocked on its input; stderr:\n%s", errb.String())
			}
			t.Logf("exited %v after Ctrl-C", time.Since(start).Round(time.Millisecond))
			if code := cmd.ProcessState.ExitCode(); code != 130 || strings.Contains(errb.String(), "empty file") {
				t.Errorf("exit %d, want 130; stderr:\n%s", code, errb.String())
			}
		})
	}
}

// TestTwoProcessesPayOnce: two runs over the same tree at once, on one
// cache (cron overlap, two terminals), ask for each paragraph once between
// them: a process waits for what the other has claimed in the cache.
func TestTwoProcessesPayOnce(t *testing.T) {
	for _, args := range [][]string{{"-q"}, {"-q", "--no-summary"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) { twoProcessesPayOnce(t, args) })
	}
}

func twoProcessesPayOnce(t *testing.T, args []string) {
	opts := fakeopenai.Options{TTFT: 30 * time.Millisecond, TokensPerSecond: 3000}
	corpus := filepath.Join("testdata", "corpus")
	kinds := func(s *fakeopenai.Server) map[string]int {
		m := map[string]int{}
		for _, r := range s.Requests() {
			m[r.Kind]++
		}
		return m
	}
	// One run's requests: with -q alone, those of onlineReference's run,
	// which is that command on a new cache (its fake is not paced: pacing
	// only makes the two processes below overlap).
	var oneKinds map[string]int
	if slices.Equal(args, []string{"-q"}) {
		onlineReference(t)
		oneKinds = reference.requests
	} else {
		one := fakeopenai.New(t, opts)
		if r := runXlate(t, env(t, one, t.TempDir()), nil, append(args, "-o", filepath.Join(t.TempDir(), "one"), corpus)...); r.code != 0 {
			t.Fatalf("one run: exit %d: %s", r.code, r.stderr)
		}
		oneKinds = kinds(one)
	}
	single := 0
	for _, n := range oneKinds {
		single += n
	}

	srv := fakeopenai.New(t, opts)
	cacheDir := t.TempDir()
	var waits []func() result
	for _, name := range []string{"a", "b"} {
		_, wait := startXlate(t, env(t, srv, cacheDir), append(args, "-o", filepath.Join(t.TempDir(), name), corpus)...)
		waits = append(waits, wait)
	}
	for i, wait := range waits {
		if r := wait(); r.code != 0 {
			t.Fatalf("process %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	both := srv.Count()
	t.Logf("one run: %d requests %v; two at once: %d %v (%.2fx)", single, oneKinds, both, kinds(srv), float64(both)/float64(single))
	if float64(both) > 1.1*float64(single) {
		t.Errorf("two processes made %d requests, one run %d: more than 1.1 times", both, single)
	}
}
