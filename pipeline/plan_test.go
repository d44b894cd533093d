package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// tree creates files (path -> content) under a new temp dir and returns it.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("文"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// jobsString lists jobs (whose paths are relative to the test's working
// directory) as sorted "in>out" words.
func jobsString(jobs []Job) string {
	var s []string
	for _, j := range jobs {
		s = append(s, j.In+">"+j.Out)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func TestPlan(t *testing.T) {
	root := tree(t, "in/a.md", "in/sub/b.txt", "in/sub/c.html", "in/skip.pdf", "in/.git/d.md", "one.txt", "two.MD", "a/c.md")
	tests := []struct {
		name    string
		inputs  []string
		output  string
		want    string
		usage   string // want a *UsageError containing this
		skipped int
	}{
		{name: "stdin to stdout", want: "->-"},
		{name: "stdin dash to file", inputs: []string{"-"}, output: "o.md", want: "->o.md"},
		{name: "one file to stdout", inputs: []string{"one.txt"}, want: "one.txt>-"},
		{name: "one file to file", inputs: []string{"one.txt"}, output: "x.md", want: "one.txt>x.md"},
		{name: "one file into existing dir", inputs: []string{"one.txt"}, output: "in", want: "one.txt>in/one.md"},
		{name: "directory mirrored", inputs: []string{"in"}, output: "out", want: "in/a.md>out/a.md in/sub/b.txt>out/sub/b.md in/sub/c.html>out/sub/c.md"},
		{name: "several files", inputs: []string{"one.txt", "two.MD"}, output: "out", want: "one.txt>out/one.md two.MD>out/two.md"},
		{name: "directory needs -o", inputs: []string{"in"}, usage: "add -o DIR"},
		{name: "several need -o", inputs: []string{"one.txt", "two.MD"}, usage: "add -o DIR"},
		{name: "-o is a file", inputs: []string{"in"}, output: "one.txt", usage: "is a file"},
		{name: "stdin mixed", inputs: []string{"-", "one.txt"}, output: "out", usage: "stdin"},
		{name: "same file twice", inputs: []string{"one.txt", "in/sub/b.txt", "in/sub/b.txt"}, output: "out", want: "in/sub/b.txt>out/b.md one.txt>out/one.md"},
		{name: "same file under two names", inputs: []string{"one.txt", "./one.txt", "in/../one.txt"}, output: "out", want: "one.txt>out/one.md"},
		{name: "same directory twice", inputs: []string{"in/sub", "in/sub/"}, output: "out", want: "in/sub/b.txt>out/b.md in/sub/c.html>out/c.md"},
		{name: "a file and its directory", inputs: []string{"in/sub/b.txt", "in/sub"}, output: "out", want: "in/sub/b.txt>out/b.md in/sub/c.html>out/c.md"},
		{name: "a directory and its file", inputs: []string{"in", "in/a.md"}, output: "out", want: "in/a.md>out/a.md in/sub/b.txt>out/sub/b.md in/sub/c.html>out/sub/c.md"},
		{name: "same output from two files", inputs: []string{"in/a.md", "two.MD", "in/sub/c.html", "a/c.md"}, output: "out", want: "in/a.md>out/a.md in/sub/c.html>out/c.md two.MD>out/two.md", skipped: 1},
		{name: "output onto input", inputs: []string{"two.MD"}, output: "two.MD", usage: "is the input file"},
		{name: "missing input in batch", inputs: []string{"one.txt", "nope.md"}, output: "out", want: "one.txt>out/one.md", skipped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(root)
			jobs, skipped, err := Plan(tt.inputs, tt.output)
			if tt.usage != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("err = %v, want usage error with %q", err, tt.usage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := jobsString(jobs); got != strings.ReplaceAll(tt.want, "/", string(filepath.Separator)) {
				t.Errorf("jobs = %s\nwant   %s", got, tt.want)
			}
			if len(skipped) != tt.skipped {
				t.Errorf("skipped = %v, want %d", skipped, tt.skipped)
			}
		})
	}
}

// The same file under two names (a link) is one job when both names are
// on the command line; inside a directory tree, a link next to its target
// is a page of its own.
func TestPlanSameFileLinked(t *testing.T) {
	root := tree(t, "a.md", "d/b.md")
	if err := os.Link(filepath.Join(root, "a.md"), filepath.Join(root, "hard.md")); err != nil {
		t.Skip("hard links not supported:", err)
	}
	if err := os.Symlink("a.md", filepath.Join(root, "soft.md")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.Symlink("b.md", filepath.Join(root, "d", "alias.md")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	for _, tt := range []struct {
		inputs []string
		want   string
	}{
		{[]string{"a.md", "hard.md", "soft.md"}, "a.md>out/a.md"},
		{[]string{"soft.md", "a.md"}, "soft.md>out/soft.md"},
		{[]string{"d", "d/alias.md", "d/b.md"}, "d/alias.md>out/alias.md d/b.md>out/b.md"},
	} {
		jobs, skipped, err := Plan(tt.inputs, "out")
		if err != nil || len(skipped) > 0 {
			t.Fatal(tt.inputs, err, skipped)
		}
		if got := jobsString(jobs); got != filepath.FromSlash(tt.want) {
			t.Errorf("%q: jobs = %s, want %s", tt.inputs, got, tt.want)
		}
	}
}

func TestPlanSkipsOutputInsideInput(t *testing.T) {
	root := tree(t, "a.md", "out/a.md", "out/deep/b.md")
	t.Chdir(root)
	jobs, skipped, err := Plan([]string{"."}, "out")
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	if got := jobsString(jobs); got != "a.md>out/a.md" {
		t.Errorf("jobs = %s: the output directory must not be read back", got)
	}
}

func TestPlanSymlinkLoop(t *testing.T) {
	root := tree(t, "d/a.md")
	if err := os.Symlink("..", filepath.Join(root, "d", "loop")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	t.Chdir(root)
	jobs, _, err := Plan([]string{"d"}, "out")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Errorf("jobs = %v", jobs)
	}
}

func TestPlanSymlinkProblems(t *testing.T) {
	root := tree(t, "in/a.md")
	for link, target := range map[string]string{"in/gone.md": "nowhere.md", "in/self.md": "self.md"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Skip("symlinks not supported:", err)
		}
	}
	t.Chdir(root)
	jobs, skipped, err := Plan([]string{"in"}, "out")
	if err != nil {
		t.Fatal(err)
	}
	if got := jobsString(jobs); got != filepath.FromSlash("in/a.md>out/a.md") {
		t.Errorf("jobs = %s", got)
	}
	var msgs []string
	for _, e := range skipped {
		msgs = append(msgs, e.Error())
	}
	sort.Strings(msgs)
	want := []string{
		filepath.FromSlash("in/gone.md") + ": broken symbolic link to nowhere.md: no such file or directory",
		filepath.FromSlash("in/self.md") + ": symbolic link loop: too many levels of symbolic links",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}

	// The same for a single input, which is a run error.
	if _, _, err := Plan([]string{"in/gone.md"}, ""); err == nil || err.Error() != want[0] {
		t.Errorf("single broken link: err = %v", err)
	}
}

func TestPlanSkipsOutputUnderAnotherName(t *testing.T) {
	root := tree(t, "in/a.md", "in/out/a.md")
	if err := os.Symlink(filepath.Join("in", "out"), filepath.Join(root, "alias")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	t.Chdir(root)
	jobs, skipped, err := Plan([]string{"in"}, "alias")
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	if got := jobsString(jobs); got != filepath.FromSlash("in/a.md>alias/a.md") {
		t.Errorf("jobs = %s: the output directory must not be read back", got)
	}
}

func TestPlanSuffix(t *testing.T) {
	root := tree(t, "in/a.md", "in/sub/b.txt")
	t.Chdir(root)
	jobs, _, err := PlanWith([]string{"in"}, "out", PlanOptions{Suffix: ".en"})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll("in/a.md>out/a.en.md in/sub/b.txt>out/sub/b.en.md", "/", string(filepath.Separator))
	if got := jobsString(jobs); got != want {
		t.Errorf("jobs = %s, want %s", got, want)
	}
	for _, bad := range []string{"/../x", `\x`, ".."} {
		var ue *UsageError
		if _, _, err := PlanWith([]string{"in"}, "out", PlanOptions{Suffix: bad}); !errors.As(err, &ue) {
			t.Errorf("suffix %q: err = %v, want a usage error", bad, err)
		}
	}
}

// TestPlanMultilingualInPlace: in place with a language suffix, Hugo's
// names pair up (name.zh.md gives name.en.md, a bundle's index.md gives
// index.en.md) and the outputs of an earlier run are never inputs.
func TestPlanMultilingualInPlace(t *testing.T) {
	root := tree(t, "posts/a.md", "posts/b.zh.md", "posts/c.zh-cn.md", "posts/d.old.md", "posts/bundle/index.md",
		"posts/_index.md", "posts/a.en.md", "posts/b.en.md", "posts/e.EN.md")
	t.Chdir(root)
	jobs, skipped, err := PlanWith([]string{"posts"}, "posts", PlanOptions{Suffix: ".en"})
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	want := strings.ReplaceAll("posts/_index.md>posts/_index.en.md posts/a.md>posts/a.en.md posts/b.zh.md>posts/b.en.md "+
		"posts/bundle/index.md>posts/bundle/index.en.md posts/c.zh-cn.md>posts/c.en.md posts/d.old.md>posts/d.old.en.md",
		"/", string(filepath.Separator))
	if got := jobsString(jobs); got != want {
		t.Errorf("jobs = %s\nwant   %s", got, want)
	}
	// A suffix that names no language leaves a language in the name alone.
	jobs, _, err = PlanWith([]string{"posts/b.zh.md"}, "posts", PlanOptions{Suffix: "-translated"})
	if err != nil || len(jobs) != 1 || filepath.Base(jobs[0].Out) != "b.zh-translated.md" {
		t.Errorf("suffix -translated: %v %v", jobs, err)
	}
}

func TestLangOfSuffix(t *testing.T) {
	for suffix, want := range map[string]string{".en": "en", ".EN": "en", ".pt-br": "pt-br", ".fil": "fil", "": "",
		"-en": "", ".english": "", ".en.": "", "en": ""} {
		if got := LangOfSuffix(suffix); got != want {
			t.Errorf("LangOfSuffix(%q) = %q, want %q", suffix, got, want)
		}
	}
}

// TestPlanOutputForms: -o DIR/ is a directory, existing or not; a new -o
// x.md for several inputs is a usage error, not a directory named x.md.
func TestPlanOutputForms(t *testing.T) {
	root := tree(t, "a.md", "b.md")
	t.Chdir(root)
	jobs, _, err := PlanWith([]string{"a.md"}, "o1/", PlanOptions{})
	if err != nil || len(jobs) != 1 || jobs[0].Out != filepath.Join("o1", "a.md") {
		t.Errorf("-o o1/ a.md: %v %v", jobs, err)
	}
	var ue *UsageError
	if _, _, err := PlanWith([]string{"a.md", "b.md"}, "x.md", PlanOptions{}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "names a file") {
		t.Errorf("-o x.md a.md b.md: err = %v, want a usage error", err)
	}
	if jobs, _, err := PlanWith([]string{"a.md", "b.md"}, "out.d", PlanOptions{}); err != nil || len(jobs) != 2 {
		t.Errorf("-o out.d a.md b.md: %v %v", jobs, err)
	}
}
