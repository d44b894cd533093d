package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary act as xlate itself (for the shell scripts
// under test) when XLATE_TEST_AS_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("XLATE_TEST_AS_MAIN") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
	os.Exit(m.Run())
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name  string
		words string // the words after "xlate", the last being completed ("" = empty)
		want  []string
		not   []string
	}{
		{"commands", "", []string{"cache", "completion", "config"}, []string{"--model"}},
		{"command prefix", "co", []string{"completion", "config"}, []string{"cache"}},
		{"flags", "--pro", []string{"--provider"}, []string{"--model", "cache"}},
		{"short flags", "-", []string{"-o", "-q", "--model", "--help", "--version"}, nil},
		{"provider values", "--provider ", []string{"openai", "deepseek", "ollama", "openrouter", "azure"}, []string{"cache"}},
		{"provider value prefix", "--provider o", []string{"openai", "ollama", "openrouter"}, []string{"azure"}},
		{"layout values", "--layout ", []string{"bilingual", "english"}, nil},
		{"a file flag: nothing (the shell completes files)", "-o ", nil, []string{"cache", "openai"}},
		{"after a path: nothing", "a.md ", nil, []string{"cache"}},
		{"after a bool flag", "--no-summary ", []string{"config"}, nil},
		{"cache subcommands", "cache ", []string{"stats", "clear", "prune"}, nil},
		{"after a root flag", "--cache-dir d cache ", []string{"stats", "clear", "prune"}, nil},
		{"prune flags", "cache prune --o", []string{"--older-than", "--output"}, nil},
		{"completion shells", "completion ", []string{"bash", "zsh", "fish", "man"}, nil},
		{"config flags", "config --mo", []string{"--model"}, nil},
		{"after --", "-- ", nil, []string{"cache"}},
	}
	app := newApp(Streams{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := strings.Split(tt.words, " ")
			var b bytes.Buffer
			complete(&b, app, words)
			got := strings.Fields(b.String())
			has := map[string]bool{}
			for _, g := range got {
				has[g] = true
			}
			for _, w := range tt.want {
				if !has[w] {
					t.Errorf("%q: %v lacks %q", tt.words, got, w)
				}
			}
			for _, w := range tt.not {
				if has[w] {
					t.Errorf("%q: %v has %q", tt.words, got, w)
				}
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("%q: want no candidates, got %v", tt.words, got)
			}
		})
	}
}

// TestCompletionNeverRuns checks that the completion protocol only prints
// candidates: a command line that would translate does nothing.
func TestCompletionNeverRuns(t *testing.T) {
	isolate(t)
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1") // nothing listens: a request would fail
	code, out, errs := runMain(t, "你好。", "--", "a.md", "", completeFlag)
	if code != 0 || errs != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestCompletionScripts(t *testing.T) {
	isolate(t)
	app := newApp(Streams{})
	var longFlags []string
	for _, f := range app.Flags {
		longFlags = append(longFlags, f.Names()[0])
	}
	tests := []struct {
		shell string
		want  []string
	}{
		{"bash", []string{"complete -o bashdefault -o default -F _xlate_complete xlate", completeFlag}},
		{"zsh", []string{"#compdef xlate", "compdef _xlate xlate", completeFlag}},
		{"fish", append([]string{"complete -c xlate", "-l provider", "-l model", "-l to", "__fish_seen_subcommand_from cache", "stats", "older-than"}, prefixAll("-l ", longFlags)...)},
		{"man", append([]string{".TH xlate 1", "<name>.md", "(env XLATE_TO)", "cache", "completion", "config", "older-than", "Exit status"}, prefixAll("--", longFlags)...)},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			code, out, errs := runMain(t, "", "completion", tt.shell)
			if code != 0 || strings.TrimSpace(out) == "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s output lacks %q", tt.shell, w)
				}
			}
			// Syntax check where the shell is installed.
			sh := map[string][]string{"bash": {"bash", "-n"}, "zsh": {"zsh", "-n"}, "fish": {"fish", "--no-execute"}}[tt.shell]
			if sh == nil {
				return
			}
			if _, err := exec.LookPath(sh[0]); err != nil {
				t.Logf("%s not installed: syntax not checked", sh[0])
				return
			}
			cmd := exec.Command(sh[0], sh[1:]...)
			cmd.Stdin = strings.NewReader(out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", strings.Join(sh, " "), err, b)
			}
		})
	}
	if code, _, errs := runMain(t, "", "completion", "tcsh"); code != ExitUsage || !strings.Contains(errs, `unknown shell "tcsh"`) {
		t.Errorf("tcsh: exit %d, %q", code, errs)
	}
	if code, _, errs := runMain(t, "", "completion"); code != ExitUsage || !strings.Contains(errs, "name one of bash, zsh, fish, man") {
		t.Errorf("no shell: exit %d, %q", code, errs)
	}
}

func prefixAll(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// TestBashCompletionLive loads the bash script into a real bash and
// completes with the test binary standing in for xlate.
func TestBashCompletionLive(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	isolate(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string // the words; the last is completed
		want string // COMPREPLY, one a line
	}{
		{"--prov", "--provider"},
		{"--provider o", "ollama\nopenai\nopenrouter"},
		{"cache p", "prune"},
		{"completion z", "zsh"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			words := append([]string{self}, strings.Split(tt.line, " ")...)
			script := bashScript + `
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_xlate_complete
printf '%s\n' "${COMPREPLY[@]}" | sort
`
			cmd := exec.Command("bash", append([]string{"-c", script, "bash"}, words...)...)
			cmd.Env = append(os.Environ(), "XLATE_TEST_AS_MAIN=1")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("completing %q: %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}
