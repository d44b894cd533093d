package main_test

// Quiet faults through the real binary, over every corpus file: answers
// that keep their <seg> tags right and get one segment wrong (first sentence
// only, one word, an echo, a tag opened twice, an obeyed injection, merged
// lines). At 10% of the answers every output is the fault-free one; at 100%
// the files they touch fail loudly and nothing wrong is cached.

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// quietArgs: small chunks, so that a run makes hundreds of requests.
var quietArgs = []string{"--retry-backoff", "1ms", "--chunk-tokens", "200", "--timeout", "5s", "--stall-timeout", "2s", "-q"}

var (
	quietOnce  sync.Once
	quietClean map[string]string
)

// quietBaseline is the fault-free run over the whole corpus. It asks for no
// segment twice: the validator raises no false alarm on the fake's answers.
func quietBaseline(t *testing.T) map[string]string {
	t.Helper()
	quietOnce.Do(func() {
		srv := fakeopenai.New(nil, fakeopenai.Options{})
		defer srv.Close()
		out := filepath.Join(t.TempDir(), "clean")
		r := runXlate(t, env(t, srv, t.TempDir()), nil, append(quietArgs, "-o", out, filepath.Join("testdata", "corpus"))...)
		if r.code != 0 {
			t.Fatalf("clean run: exit %d: %s", r.code, r.stderr)
		}
		if n, again := reasked(srv); again > 0 {
			t.Fatalf("clean run: %d of %d segments sent were sent before: the validator re-asked good answers", again, n)
		}
		quietClean = readOutputs(t, out)
	})
	if len(quietClean) < 40 {
		t.Fatalf("clean run wrote %d files", len(quietClean))
	}
	return quietClean
}

// reasked counts the segments the server's translation requests carried,
// and how many of them an earlier request of the same chunk had (the same
// context lines: title, previous text, glossary): a run without faults asks
// for every text of a chunk once (articles share texts through the cache),
// so each repeat is a re-ask. (Two segments whose links mask alike, "下载：
// <L1>", are two texts; in one chunk they are one request.)
func reasked(srv *fakeopenai.Server) (sent, again int) {
	seen := map[string]bool{}
	for _, rq := range srv.Requests() {
		if rq.Kind != fakeopenai.KindTranslate {
			continue
		}
		context, _, _ := strings.Cut(rq.User(), "<seg ")
		var keys []string
		for _, sg := range fakeopenai.ParseSegments(rq.User()) {
			sent++
			k := context + "\x00" + sg.Text
			if seen[k] {
				again++
			}
			keys = append(keys, k)
		}
		for _, k := range keys {
			seen[k] = true
		}
	}
	return sent, again
}

// sometimes gives a translation request fault f with the given probability,
// drawn from its content and how often that content was seen, as mixed
// does: reproducible, whatever the timing. It records the faulted request
// numbers.
func sometimes(percent int, f fakeopenai.Fault, hit *sync.Map) fakeopenai.FaultFunc {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(n int, req *fakeopenai.Recorded) fakeopenai.Fault {
		if req.Kind != fakeopenai.KindTranslate {
			return fakeopenai.Fault{}
		}
		mu.Lock()
		k := req.User()
		seen[k]++
		nth := seen[k]
		mu.Unlock()
		h := fnv.New32a()
		fmt.Fprintf(h, "quiet %s#%d", k, nth)
		if int(h.Sum32()%100) >= percent {
			return fakeopenai.Fault{}
		}
		hit.Store(n, true)
		return f
	}
}

// damaged counts the requests whose answer the fault changed.
func damaged(srv *fakeopenai.Server, f fakeopenai.Fault, hit *sync.Map) int {
	n := 0
	for _, rq := range srv.Requests() {
		if _, ok := hit.Load(rq.N); ok && fakeopenai.AnswerSegments(rq.User(), f) != fakeopenai.TranslateSegments(rq.User()) {
			n++
		}
	}
	return n
}

func quietKinds() []string {
	var kinds []string
	for k := range fakeopenai.QuietDamages {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

func TestFaultsQuietDamageSometimes(t *testing.T) {
	want := quietBaseline(t)
	corpus := filepath.Join("testdata", "corpus")
	for _, kind := range quietKinds() {
		t.Run(kind, func(t *testing.T) {
			f := fakeopenai.QuietDamages[kind]
			var hit sync.Map
			srv := fakeopenai.New(t, fakeopenai.Options{Fault: sometimes(10, f, &hit)})
			cacheDir, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			r := runXlate(t, env(t, srv, cacheDir), nil, append(quietArgs, "-o", out, corpus)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			n := damaged(srv, f, &hit)
			sent, again := reasked(srv)
			t.Logf("%s at 10%%: %d requests, %d answers damaged, %d of %d segments sent again", kind, srv.CountKind(fakeopenai.KindTranslate), n, again, sent)
			if n == 0 {
				t.Fatal("no answer was damaged")
			}
			got := readOutputs(t, out)
			if len(got) != len(want) {
				t.Errorf("%d outputs, want %d", len(got), len(want))
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("%s differs from the fault-free output", name)
				}
			}
			// Nothing damaged reached the cache.
			clean := fakeopenai.New(t, fakeopenai.Options{})
			again2 := filepath.Join(t.TempDir(), "again")
			r = runXlate(t, env(t, clean, cacheDir), nil, append(quietArgs, "-o", again2, corpus)...)
			if r.code != 0 || clean.Count() != 0 {
				t.Errorf("cached re-run: exit %d, %d requests, want 0: %s", r.code, clean.Count(), r.stderr)
			}
			againOut := readOutputs(t, again2)
			for name, w := range want {
				if againOut[name] != w {
					t.Errorf("cached re-run: %s differs: a damaged answer reached the cache", name)
				}
			}
		})
	}
}

func TestFaultsQuietDamageAlways(t *testing.T) {
	want := quietBaseline(t)
	corpus := filepath.Join("testdata", "corpus")
	for _, kind := range quietKinds() {
		t.Run(kind, func(t *testing.T) {
			f := fakeopenai.QuietDamages[kind]
			srv := fakeopenai.New(t, fakeopenai.Options{Fault: fakeopenai.ForKind(fakeopenai.KindTranslate, fakeopenai.Always(f))})
			cacheDir, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			r := runXlate(t, env(t, srv, cacheDir), nil, append(quietArgs, "-o", out, corpus)...)
			got := readOutputs(t, out)
			var failed []string
			for name, w := range want {
				g, ok := got[name]
				switch {
				case !ok:
					failed = append(failed, name)
				case g != w:
					t.Errorf("%s written with damaged text", name)
				}
			}
			t.Logf("%s at 100%%: %d requests, %d of %d files failed, exit %d", kind, srv.CountKind(fakeopenai.KindTranslate), len(failed), len(want), r.code)
			if len(failed) == 0 {
				t.Fatal("no file failed")
			}
			if r.code == 0 {
				t.Errorf("exit 0 with %d files failed", len(failed))
			}
			for _, name := range failed {
				stem := strings.TrimSuffix(name, ".md")
				if !strings.Contains(r.stderr, stem) {
					t.Errorf("stderr does not name the failed %s", name)
				}
			}
			// A clean re-run with the same cache gives the fault-free outputs.
			clean := fakeopenai.New(t, fakeopenai.Options{})
			again := filepath.Join(t.TempDir(), "again")
			r = runXlate(t, env(t, clean, cacheDir), nil, append(quietArgs, "-o", again, corpus)...)
			if r.code != 0 {
				t.Fatalf("clean re-run: exit %d: %s", r.code, r.stderr)
			}
			againOut := readOutputs(t, again)
			for name, w := range want {
				if againOut[name] != w {
					t.Errorf("clean re-run: %s differs: a damaged answer reached the cache", name)
				}
			}
		})
	}
}
