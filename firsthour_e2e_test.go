package main_test

// The first hour: every mistake a newcomer makes on the command line gets
// one clear line (and a suggestion where one is close), through the real
// binary.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// withoutKey is environ without OPENAI_API_KEY.
func withoutKey(environ []string) []string {
	var out []string
	for _, e := range environ {
		if !strings.HasPrefix(e, "OPENAI_API_KEY=") {
			out = append(out, e)
		}
	}
	return out
}

func TestFirstHourMistypedFlagsAndCommands(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // the whole of stderr
	}{
		{"root flag", []string{"--modle", "gpt-4o", "a.md"}, 2,
			"xlate: unknown flag --modle (did you mean \"--model\"?)\n"},
		{"root flag after the path", []string{"a.md", "--concurency", "2"}, 2,
			"xlate: unknown flag --concurency (did you mean \"--concurrency\"?)\n"},
		{"root flag after a command", []string{"config", "--provder", "deepseek"}, 2,
			"xlate: unknown flag --provder (did you mean \"--provider\"?)\n"},
		{"subcommand flag, a prefix", []string{"cache", "prune", "--older", "3d"}, 2,
			"xlate: unknown flag --older (did you mean \"--older-than\"?)\n"},
		{"root flag under a subcommand", []string{"cache", "stats", "--cache-dri", "x"}, 2,
			"xlate: unknown flag --cache-dri (did you mean \"--cache-dir\"?)\n"},
		{"nothing close", []string{"--zzz", "a.md"}, 2,
			"xlate: unknown flag --zzz\nhint: run 'xlate --help' for usage\n"},
		{"nothing close under a command", []string{"cache", "prune", "--zzz"}, 2,
			"xlate: unknown flag --zzz\nhint: run 'xlate cache prune --help' for usage\n"},
		{"value missing", []string{"--price-in"}, 2,
			"xlate: flag --price-in needs a value\nhint: run 'xlate --help' for usage\n"},
		{"bad value", []string{"--concurrency", "x", "a.md"}, 2,
			"xlate: invalid value \"x\" for --concurrency: parse error\nhint: run 'xlate --help' for usage\n"},
		{"command", []string{"confg"}, 2,
			"xlate: unknown command or file \"confg\" (did you mean \"config\"?)\n"},
		{"command with flags", []string{"-q", "cahce", "stats"}, 2,
			"xlate: unknown command or file \"cahce\" (did you mean \"cache\"?)\n"},
		{"subcommand", []string{"cache", "stat"}, 2,
			"xlate: cache: unknown command \"stat\" (did you mean \"stats\"?)\n"},
		{"help topic", []string{"help", "confg"}, 2,
			"xlate: help: unknown command \"confg\" (did you mean \"config\"?)\n"},
		{"version with an argument", []string{"version", "a.md"}, 2,
			"xlate: version takes no arguments (to translate a file named a.md, run: xlate ./a.md)\nhint: run 'xlate --help' for usage\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runXlateIn(t, dir, e, nil, tt.args...)
			if r.code != tt.code || r.stderr != tt.stderr || r.stdout != "" {
				t.Errorf("xlate %s: exit %d, stdout %q, stderr\n%s\nwant exit %d, stderr\n%s", strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestFirstHourHelpAndVersionCommands(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	dir := t.TempDir()

	help := runXlateIn(t, dir, e, nil, "--help")
	for _, args := range [][]string{{"help"}, {"-q", "help"}} {
		r := runXlateIn(t, dir, e, nil, args...)
		if r.code != 0 || r.stdout != help.stdout || r.stderr != "" {
			t.Errorf("xlate %v: exit %d, stderr %q; want --help's text", args, r.code, r.stderr)
		}
	}
	for _, tc := range []struct{ help, flag []string }{
		{[]string{"help", "cache"}, []string{"cache", "--help"}},
		{[]string{"help", "cache", "prune"}, []string{"cache", "prune", "--help"}},
		{[]string{"help", "config"}, []string{"config", "--help"}},
	} {
		want := runXlateIn(t, dir, e, nil, tc.flag...)
		r := runXlateIn(t, dir, e, nil, tc.help...)
		if r.code != 0 || r.stdout != want.stdout || !strings.Contains(r.stdout, "xlate "+tc.help[1]) {
			t.Errorf("xlate %v: exit %d, stdout\n%s\nwant xlate %v's", tc.help, r.code, r.stdout, tc.flag)
		}
	}

	version := runXlateIn(t, dir, e, nil, "--version")
	r := runXlateIn(t, dir, e, nil, "version")
	if r.code != 0 || r.stdout != version.stdout || !strings.HasPrefix(r.stdout, "xlate version ") {
		t.Errorf("xlate version: exit %d, %q; --version: %q", r.code, r.stdout, version.stdout)
	}
}

// TestFirstHourCommandNamedFile: a command wins over a file of its name
// (with a note), ./name translates the file, and a mistyped command that is
// an existing file is translated as before.
func TestFirstHourCommandNamedFile(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	dir := t.TempDir()
	for _, name := range []string{"version", "confg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("你好。\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runXlateIn(t, dir, e, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "xlate version ") ||
		!strings.Contains(r.stderr, `"version" is a command; to translate ./version, run: xlate ./version`) {
		t.Errorf("xlate version with a file version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, arg := range []string{"./version", "confg"} {
		r := runXlateIn(t, dir, e, nil, "--no-summary", arg)
		if r.code != 0 || !strings.Contains(r.stdout, fakeopenai.Translate("你好。")) {
			t.Errorf("xlate %s: exit %d, stdout %q, stderr %q; want it translated", arg, r.code, r.stdout, r.stderr)
		}
	}
}

// TestFirstHourMissingInputFirst: a missing input is reported before a
// missing key or a bad setting.
func TestFirstHourMissingInputFirst(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	noKey := append(withoutKey(env(t, srv, t.TempDir())), "OPENAI_BASE_URL=https://api.example.com/v1")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte("你好。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runXlateIn(t, dir, noKey, nil, "nonexist.md")
	if want := "xlate: nonexist.md: no such file or directory\n"; r.code != 1 || r.stderr != want {
		t.Errorf("no key, missing file: exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
	r = runXlateIn(t, dir, noKey, nil, "--layout", "x", "nonexist.md", "other.md")
	if r.code != 1 || strings.Contains(r.stderr, "layout") || !strings.Contains(r.stderr, "nonexist.md: no such file") ||
		!strings.Contains(r.stderr, "other.md: no such file") {
		t.Errorf("bad setting, missing files: exit %d, stderr %q", r.code, r.stderr)
	}
	// Some inputs exist: the missing one comes first, then the key.
	r = runXlateIn(t, dir, noKey, nil, "-o", "out", "nonexist.md", "a.md")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 2 || len(lines) < 2 || lines[0] != "xlate: nonexist.md: no such file or directory" ||
		!strings.HasPrefix(lines[1], "xlate: no API key for https://api.example.com/v1") {
		t.Errorf("no key, one file missing: exit %d, stderr %q", r.code, r.stderr)
	}
	// With a key, as before: the missing file fails, the other is translated.
	r = runXlateIn(t, dir, env(t, srv, t.TempDir()), nil, "--no-summary", "-o", "out", "nonexist.md", "a.md")
	if _, err := os.Stat(filepath.Join(dir, "out", "a.md")); r.code != 1 || err != nil || strings.Count(r.stderr, "nonexist.md: no such file") != 1 {
		t.Errorf("with a key: exit %d, stderr %q, out/a.md: %v", r.code, r.stderr, err)
	}
}

// TestFirstHourStdinHintOnTerminal runs xlate on a pseudo-terminal (util-linux
// script): bare xlate says it reads stdin, once; with a file, with -q or with
// stdin not a terminal it says nothing.
func TestFirstHourStdinHintOnTerminal(t *testing.T) {
	const hint = "reading stdin; Ctrl-D to end, or see xlate --help"
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte("你好。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runXlateIn(t, dir, e, []byte("你好。"), "--no-summary"); r.code != 0 || strings.Contains(r.stderr, "reading stdin") {
		t.Errorf("stdin a pipe: exit %d, stderr %q", r.code, r.stderr)
	}
	script, err := exec.LookPath("script")
	if err != nil || exec.Command(script, "-qec", "true", os.DevNull).Run() != nil {
		t.Skip("no util-linux script for a pseudo-terminal")
	}
	onTerminal := func(args string) string {
		t.Helper()
		// script gives xlate a terminal as stdin, stdout and stderr, and
		// sends it end-of-file when its own (empty) stdin ends.
		cmd := exec.Command(script, "-qec", "'"+xlateBin+"' "+args, os.DevNull)
		cmd.Env, cmd.Dir, cmd.Stdin = e, dir, strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := onTerminal("--no-summary"); strings.Count(out, hint) != 1 || !strings.Contains(out, "<stdin>: empty file") {
		t.Errorf("bare xlate on a terminal:\n%s\nwant the hint once, then the empty input", out)
	}
	if out := onTerminal("--no-summary -"); strings.Count(out, hint) != 1 {
		t.Errorf("xlate - on a terminal:\n%s\nwant the hint once", out)
	}
	for _, args := range []string{"--no-summary -q", "--no-summary a.md"} {
		if out := onTerminal(args); strings.Contains(out, "reading stdin") {
			t.Errorf("xlate %s on a terminal:\n%s\nwant no hint", args, out)
		}
	}
}

// worktreeCommit returns the -ldflags that stamp the commit into a build in
// a git worktree, where .git is a file and cmd/go stamps nothing, even with
// -buildvcs=true; "" elsewhere (a checkout stamps itself).
func worktreeCommit() string {
	fi, err := os.Stat(".git")
	if err != nil || fi.IsDir() {
		return ""
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(rev))
	if status, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(bytes.TrimSpace(status)) > 0 {
		commit += "-dirty"
	}
	return "-X github.com/xlate/xlate/internal/cli.Commit=" + commit
}

// TestVersionNamesCommit: the binary, built as README says (with
// -buildvcs=true), names its commit.
func TestVersionNamesCommit(t *testing.T) {
	if _, err := os.Stat(".git"); err != nil {
		t.Skip("not a git checkout")
	}
	rev, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Skip("no git:", err)
	}
	want := "(commit " + strings.TrimSpace(string(rev))
	srv := fakeopenai.New(t, fakeopenai.Options{})
	for _, arg := range []string{"version", "--version"} {
		r := runXlate(t, env(t, srv, t.TempDir()), nil, arg)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "xlate version ") || !strings.Contains(r.stdout, want) {
			t.Errorf("xlate %s: exit %d, %q; want it to name %s", arg, r.code, r.stdout, want)
		}
	}
}

// helpTree is every command path of the binary ("" the root, "cache prune"…)
// with the flags its --help lists, read from the help texts themselves.
func helpTree(t *testing.T, e []string, dir string) map[string][]string {
	t.Helper()
	tree := map[string][]string{}
	var walk func(path []string)
	walk = func(path []string) {
		if len(path) > 3 {
			t.Fatalf("xlate %v: commands nest too deep", path)
		}
		r := runXlateIn(t, dir, e, nil, append(append([]string(nil), path...), "--help")...)
		if r.code != 0 {
			t.Fatalf("xlate %v --help: exit %d, %s", path, r.code, r.stderr)
		}
		key := strings.Join(path, " ")
		section := ""
		var subs []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if line != "" && line[0] != ' ' {
				section = line
				continue
			}
			field := strings.Fields(line)
			if len(field) == 0 {
				continue
			}
			switch {
			case section == "COMMANDS:" && !strings.HasPrefix(field[0], "-"):
				subs = append(subs, strings.TrimSuffix(field[0], ","))
			case strings.HasSuffix(section, "OPTIONS:") && strings.HasPrefix(field[0], "-"):
				names, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
				for _, n := range strings.Split(names, ", ") {
					n, _, _ = strings.Cut(n, " ")
					tree[key] = append(tree[key], n)
				}
			}
		}
		if tree[key] == nil { // a command without flags is in the tree too
			tree[key] = []string{}
		}
		if key == "help" {
			return // its --help is xlate's: help lists the commands
		}
		for _, s := range subs {
			walk(append(append([]string(nil), path...), s))
		}
	}
	walk(nil)
	return tree
}

// TestFirstHourHelpCompletionAndManAgree: every command and flag that --help
// lists is completed (bash and zsh share the protocol; fish has its script)
// and is in the man page, help and version included; no help line states two
// defaults or "(default: false)".
func TestFirstHourHelpCompletionAndManAgree(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	dir := t.TempDir()
	tree := helpTree(t, e, dir)
	for _, want := range []string{"", "batch", "batch prepare", "cache prune", "completion", "config", "help", "version"} {
		if _, ok := tree[want]; !ok {
			t.Errorf("--help lists no command %q (found %v)", want, tree)
		}
	}
	fish := runXlateIn(t, dir, e, nil, "completion", "fish").stdout
	man := runXlateIn(t, dir, e, nil, "completion", "man").stdout
	complete := func(words ...string) []string {
		r := runXlateIn(t, dir, e, nil, append(words, "--generate-bash-completion")...)
		return strings.Fields(r.stdout)
	}
	contains := func(list []string, s string) bool {
		for _, l := range list {
			if l == s {
				return true
			}
		}
		return false
	}
	for path, flags := range tree {
		words := strings.Fields(path)
		if len(words) > 0 {
			cmd := words[len(words)-1]
			if got := complete(append(words[:len(words)-1:len(words)-1], "")...); !contains(got, cmd) {
				t.Errorf("completion after %q: %v, no %q", words[:len(words)-1], got, cmd)
			}
			if !strings.Contains(fish, "-a '"+cmd+"'") {
				t.Errorf("fish completion has no command %q", path)
			}
			if !strings.Contains(man, ".SH "+cmd+"\n") && !strings.Contains(man, ".SS "+cmd+"\n") {
				t.Errorf("man page has no section for %q", path)
			}
		}
		if path == "help" {
			continue // its --help is xlate's, checked as ""
		}
		got := complete(append(words, "-")...)
		for _, f := range flags {
			if !contains(got, f) {
				t.Errorf("completion of xlate %s -: %v, no %s", path, got, f)
			}
			long := strings.TrimLeft(f, "-")
			if !strings.Contains(fish, " -l "+long+" ") && !strings.Contains(fish, " -s "+long+" ") {
				t.Errorf("fish completion has no flag %s (xlate %s)", f, path)
			}
			if !strings.Contains(man, `\fB`+f) && !strings.Contains(man, ", "+f) && !strings.Contains(man, "["+f) && !strings.Contains(man, "|"+f) {
				t.Errorf("man page has no flag %s (xlate %s)", f, path)
			}
		}
		// The help text's lines: one default at most, never "false".
		r := runXlateIn(t, dir, e, nil, append(words, "--help")...)
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Count(line, "(default:") > 1 || strings.Contains(line, "(default: false)") {
				t.Errorf("xlate %s --help: %q", path, line)
			}
			if strings.Contains(line, "--api-key") && strings.Contains(line, "API KEY") {
				t.Errorf("xlate %s --help: %q", path, line)
			}
		}
	}
	// README's flag table names every flag of xlate's --help.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	inTable := func(f string) bool {
		for _, line := range strings.Split(string(readme), "\n") {
			if cell, _, ok := strings.Cut(strings.TrimPrefix(line, "| "), " |"); ok && strings.HasPrefix(line, "| `") &&
				(strings.Contains(cell, f+"`") || strings.Contains(cell, f+" ") || strings.Contains(cell, f+",")) {
				return true
			}
		}
		return false
	}
	for _, f := range tree[""] {
		if strings.HasPrefix(f, "--") && f != "--help" && f != "--version" && !inTable(f) {
			t.Errorf("README's flag table has no %s", f)
		}
	}
	if strings.Contains(fish, "`") {
		t.Error("fish completion holds a usage text's backticks")
	}
}
