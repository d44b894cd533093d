package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/internal/fakeopenai"
)

// failingStore fails every Put with err.
type failingStore struct {
	cache.Nop
	err error
}

func (f failingStore) Put(string, []byte) error { return f.err }

func TestWarnStoreWarnsOnce(t *testing.T) {
	full := fmt.Errorf("cache: put ab12: %w", &os.PathError{Op: "write", Path: "/c/ab/.tmp-ab12-1", Err: errors.New("no space left on device")})
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{"disk full", full, []string{"warning: cache /c: cannot write (no space left on device): translations are not being cached"}},
		{"rename", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: errors.New("read-only file system")},
			[]string{"warning: cache /c: cannot write (read-only file system): translations are not being cached"}},
		{"bad key", fmt.Errorf("cache: put %q: %w", "x", cache.ErrInvalidKey), nil},
		{"fine", nil, nil},
	} {
		var (
			mu    sync.Mutex
			lines []string
		)
		w := &warnStore{Store: failingStore{err: tt.err}, dir: "/c"}
		warnCacheWrites(w, func(format string, args ...any) {
			mu.Lock()
			lines = append(lines, fmt.Sprintf(format, args...))
			mu.Unlock()
		})
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if err := w.Put("ab12", []byte("v")); err != tt.err {
					t.Errorf("%s: Put = %v, want %v", tt.name, err, tt.err)
				}
			})
		}
		wg.Wait()
		if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: warned %q, want %q", tt.name, lines, tt.want)
		}
	}
}

// A cache whose shards cannot be made (files in their place) warns once
// and the run goes on.
func TestRunWarnsUnwritableCache(t *testing.T) {
	isolate(t)
	srv := fakeopenai.New(t, fakeopenai.Options{})
	dir := t.TempDir()
	t.Setenv("XLATE_CACHE_DIR", dir)
	for i := range 256 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02x", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	code, out, errs := runMain(t, "# 标题\n\n第一段。\n\n第二段。\n")
	if code != 0 || !strings.Contains(out, "第二段") {
		t.Fatalf("exit %d, output %q: %s", code, out, errs)
	}
	want := "xlate: warning: cache " + dir + ": cannot write (not a directory): translations are not being cached\n"
	if errs != want {
		t.Errorf("stderr %q, want %q", errs, want)
	}
}
