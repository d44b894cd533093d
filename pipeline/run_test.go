package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadInputSizeLimit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		size int64
		want string // error; "" for none
	}{
		{0, ""},
		{MaxInputBytes, ""},
		{MaxInputBytes + 1, "file too large (16.1 MiB; the limit is 16 MiB)"},
		{50 << 20, "file too large (50 MiB; the limit is 16 MiB)"},
		{1 << 40, "file too large (1048576 MiB; the limit is 16 MiB)"},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, "f.txt")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		err = f.Truncate(tt.size) // sparse: no disk space used
		f.Close()
		if err != nil {
			t.Skip("sparse files not supported:", err)
		}
		data, err := readInput(p, nil)
		switch {
		case tt.want == "" && (err != nil || int64(len(data)) != tt.size):
			t.Errorf("size %d: read %d bytes, %v", tt.size, len(data), err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("size %d: err = %v, want %q", tt.size, err, tt.want)
		}
	}

	// A stream is cut at the limit.
	big := strings.NewReader(strings.Repeat("x", MaxInputBytes+1))
	if _, err := readInput(Stdio, big); err == nil || err.Error() != "input too large (over the 16 MiB limit)" {
		t.Errorf("stdin over the limit: err = %v", err)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"a: b": "a: b",
		"yaml: unmarshal errors:\n  line 3: x\n  line 4: y\n": "yaml: unmarshal errors:; line 3: x; line 4: y",
		"a\r\nb": "a; b",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRunReportsOneLinePerFailure runs a batch with bad inputs through Run
// (no model needed: every input fails before translation) and checks that
// each failure is one line naming its file.
func TestRunReportsOneLinePerFailure(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jobs := []Job{
		{In: write("empty.md", ""), Out: filepath.Join(dir, "out", "empty.md")},
		{In: write("dup.md", "---\na: 1\na: 2\nb: 1\nb: 2\n---\n"), Out: filepath.Join(dir, "out", "dup.md")},
		{In: filepath.Join(dir, "missing.md"), Out: filepath.Join(dir, "out", "missing.md")},
	}
	var lines []string
	rep := (&Pipeline{}).Run(t.Context(), jobs, RunOptions{Errorf: func(format string, args ...any) {
		lines = append(lines, strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\\n")))
	}, Files: 1})
	if rep.Failed != 3 || rep.Done != 0 {
		t.Errorf("report = %+v, want 3 failed", rep)
	}
	slices.Sort(lines)
	want := []string{
		filepath.Join(dir, "dup.md") + `: front matter: yaml: line 3: mapping key "a" already defined at line 2; line 5: mapping key "b" already defined at line 4`,
		filepath.Join(dir, "empty.md") + ": empty file",
		filepath.Join(dir, "missing.md") + ": no such file or directory",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed files left output: %v", err)
	}
}
