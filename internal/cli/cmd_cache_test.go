package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/cache"
)

// fillCache puts n entries into a cache at dir, the first old ones dated
// 40 days back.
func fillCache(t *testing.T, dir string, n, old int) {
	t.Helper()
	d, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-40 * 24 * time.Hour)
	for i := range n {
		key := cache.Key("test", string(rune('a'+i)))
		if err := d.Put(key, []byte(strings.Repeat("x", 100))); err != nil {
			t.Fatal(err)
		}
		if i < old {
			file := filepath.Join(dir, key[:2], key)
			if err := os.Chtimes(file, past, past); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCacheCommands(t *testing.T) {
	tests := []struct {
		name       string
		entries    int // in the cache before
		old        int // of them, 40 days old
		args       []string
		code       int
		stdout     string // DIR is the cache directory
		left       int    // entries after
		noCacheDir bool   // the cache directory does not exist
	}{
		{"stats", 5, 0, []string{"cache", "stats"}, 0, "path:     DIR\nentries:  5\nsize:     ", 5, false},
		{"stats of no cache", 0, 0, []string{"cache", "stats"}, 0, "path:     DIR\nentries:  0\nsize:     0 B\n", 0, true},
		{"prune default 30d", 5, 2, []string{"cache", "prune"}, 0, "removed 2 entries older than 30d; 3 left", 3, false},
		{"prune 50d", 5, 2, []string{"cache", "prune", "--older-than", "50d"}, 0, "removed 0 entries older than 50d; 5 left", 5, false},
		{"prune 12h", 5, 2, []string{"cache", "prune", "--older-than=12h"}, 0, "removed 2 entries", 3, false},
		{"prune 0d", 5, 2, []string{"cache", "prune", "--older-than", "0d"}, 0, "removed 5 entries", 0, false},
		{"prune bad age", 5, 2, []string{"cache", "prune", "--older-than", "soon"}, 2, "", 5, false},
		{"prune no cache", 0, 0, []string{"cache", "prune"}, 0, "removed 0 entries (no cache at DIR)", 0, true},
		{"clear", 5, 2, []string{"cache", "clear"}, 0, "removed 5 entries (", 0, false},
		{"clear no cache", 0, 0, []string{"cache", "clear"}, 0, "removed 0 entries (no cache at DIR)", 0, true},
		{"stray argument", 5, 0, []string{"cache", "stats", "x"}, 2, "", 5, false},
		{"unknown command", 5, 0, []string{"cache", "purge"}, 2, "", 5, false},
		{"no command: help", 5, 0, []string{"cache"}, 0, "COMMANDS:", 5, false},
	}
	for _, tt := range tests {
		for _, via := range []string{"env", "flag", "config"} {
			t.Run(tt.name+" via "+via, func(t *testing.T) {
				isolate(t)
				dir := filepath.Join(t.TempDir(), "cache")
				if !tt.noCacheDir {
					fillCache(t, dir, tt.entries, tt.old)
				}
				args := tt.args
				switch via {
				case "env":
					t.Setenv("XLATE_CACHE_DIR", dir)
				case "flag":
					t.Setenv("XLATE_CACHE_DIR", "")
					args = append(append([]string(nil), args...), "--cache-dir", dir)
				case "config":
					t.Setenv("XLATE_CACHE_DIR", "")
					writeConfig(t, "cache-dir: "+dir+"\n")
				}
				code, out, errs := runMain(t, "", args...)
				if code != tt.code || !strings.Contains(out, strings.ReplaceAll(tt.stdout, "DIR", dir)) {
					t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q", code, out, errs, tt.code, tt.stdout)
				}
				if tt.noCacheDir {
					if _, err := os.Stat(dir); err == nil {
						t.Error("the command created the cache directory")
					}
					return
				}
				d, err := cache.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				if n, _, _ := d.Entries(); n != tt.left {
					t.Errorf("%d entries left, want %d", n, tt.left)
				}
			})
		}
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, false},
		{" 7d ", 7 * 24 * time.Hour, false},
		{"", 0, true},
		{"d", 0, true},
		{"-1d", 0, true},
		{"-2h", 0, true},
		{"30", 0, true},
		{"30days", 0, true},
		{"1d1d", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := parseAge(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
