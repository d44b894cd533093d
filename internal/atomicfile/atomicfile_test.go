package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "x.md")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("read %q, %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("leftover temp files: %v", entries)
	}
}

func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.md")
	old := time.Now().Add(-2 * StaleAge)
	files := map[string]bool{ // name -> removed by writing x.md
		".x.md.123456.tmp":   true,  // a killed run's temp file of x.md
		".x.md.98.tmp":       true,  //
		".x.md.777.tmp.keep": false, // not the pattern
		".x.md.abc.tmp":      false, // not os.CreateTemp's digits
		".y.md.123.tmp":      false, // another output's
		"x.md.123.tmp":       false, // not hidden
		".x.md.555.tmp/":     false, // a directory
		".x.md.999.tmp!":     false, // fresh: a concurrent run may be writing it
	}
	for name := range files {
		p := filepath.Join(dir, strings.TrimRight(name, "/!"))
		var err error
		if strings.HasSuffix(name, "/") {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("partial"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(name, "!") {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := Write(out, []byte("done")); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Lstat(filepath.Join(dir, strings.TrimRight(name, "/!")))
		if gone := errors.Is(err, os.ErrNotExist); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "done" {
		t.Errorf("output = %q, %v", b, err)
	}
}
