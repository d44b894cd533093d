package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOutputDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		jobs []Job
		want string // "" for no error
	}{
		{"stdout", []Job{{In: "a.md", Out: Stdio}}, ""},
		{"existing directory", []Job{{In: "a.md", Out: filepath.Join(root, "a.md")}}, ""},
		{"directory to create", []Job{{In: "a.md", Out: filepath.Join(root, "new", "deep", "a.md")}, {In: "b.md", Out: filepath.Join(root, "new", "b.md")}}, ""},
		{"file under a file", []Job{{In: "a.md", Out: filepath.Join(file, "a.md")}},
			"output directory " + file + ": not a directory"},
		{"tree under a file", []Job{{In: "a.md", Out: filepath.Join(file, "out", "a.md")}, {In: "b.md", Out: filepath.Join(file, "out", "sub", "b.md")}},
			"output directory " + filepath.Join(file, "out") + ": cannot be created: " + file + " is not a directory"},
	}
	for _, tt := range tests {
		err := CheckOutputDir(tt.jobs)
		var de *OutputDirError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &de) || err.Error() != tt.want):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// The check leaves nothing behind.
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left in %s: %v", root, entries)
	}

	if os.Geteuid() == 0 {
		t.Log("root: permission bits do not stop writes; the read-only case is not tested")
		return
	}
	ro := filepath.Join(root, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o700) })
	for _, out := range []string{filepath.Join(ro, "a.md"), filepath.Join(ro, "out", "a.md")} {
		err := CheckOutputDir([]Job{{In: "a.md", Out: out}})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("-o %s in a read-only directory: err = %v", out, err)
		}
	}
}

func TestOutputRoot(t *testing.T) {
	sep := string(filepath.Separator)
	j := func(outs ...string) []Job {
		var jobs []Job
		for _, o := range outs {
			jobs = append(jobs, Job{In: "x", Out: filepath.FromSlash(o)})
		}
		return jobs
	}
	for _, tt := range []struct {
		jobs []Job
		want string
	}{
		{j("-"), ""},
		{j("a.md"), "."},
		{j("out/a.md", "out/sub/b.md", "out/sub/deeper/c.md"), "out"},
		{j("out/sub/b.md", "out/other/c.md"), "out"},
		{j("out/sub/b.md", "outer/c.md"), "."},
		{j("/x/out/a.md", "/x/out2/b.md"), sep + "x"},
		{j("/a.md", "/x/b.md"), sep},
	} {
		if got := outputRoot(tt.jobs); got != tt.want {
			t.Errorf("outputRoot(%v) = %q, want %q", tt.jobs, got, tt.want)
		}
	}
}
