package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// completeFlag is urfave/cli's shell completion protocol: a command line
// ending in it prints the candidates for the word being completed, one a
// line, and does nothing else.
const completeFlag = "--generate-bash-completion"

// flagValues are the candidates for the values of flags that take one of a
// few words.
var flagValues = map[string][]string{
	"provider": providerOrder,
	"layout":   {"bilingual", "english"},
	"format":   {"auto", "html", "markdown", "text"},
}

// shells are the arguments of "xlate completion".
var shells = []string{"bash", "zsh", "fish", "man"}

// complete answers a completion request. words are the command line's
// words up to and including the one being completed (cur, possibly empty):
// xlate's own scripts always pass cur, so that "--provider <TAB>" (complete
// a value) and "--prov<TAB>" (complete a flag) differ; urfave's scripts pass
// it only when it starts with "-", which works as well, short of flag
// values. It never runs a command, whatever the words are.
func complete(w io.Writer, app *cli.App, words []string) {
	cur, before := "", words
	if n := len(words); n > 0 {
		cur, before = words[n-1], words[:n-1]
	}
	prev := ""
	if len(before) > 0 {
		prev = before[len(before)-1]
	}
	commands := commandNames(app)
	set := commandSet(app)
	cmdName, cmdArgs := firstCommand(reorder(before, app.Flags, set), app.Flags, set)
	var cmd *cli.Command
	if cmdName != "" {
		cmd = app.Command(cmdName)
	}
	var out []string
	takesValue, _ := flagArity(app.Flags)
	switch {
	case strings.HasPrefix(cur, "-"):
		// A flag: the root's, and the command's.
		defs := append([]cli.Flag(nil), app.Flags...)
		if cmd != nil {
			defs = append(defs, cmd.Flags...)
			if len(cmdArgs) > 0 {
				if sc := cmd.Command(cmdArgs[0]); sc != nil {
					defs = append(defs, sc.Flags...)
				}
			}
		}
		var names []string // --help and -h are in app.Flags
		if cmd == nil {
			names = append(names, "--version", "-v")
		}
		for _, f := range defs {
			for _, n := range f.Names() {
				if len(n) == 1 {
					names = append(names, "-"+n)
				} else {
					names = append(names, "--"+n)
				}
			}
		}
		sort.Strings(names)
		out = names
	case strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") && takesValue[strings.TrimLeft(prev, "-")]:
		// The value of a root flag: a few words, or none (a file name).
		out = flagValues[strings.TrimLeft(prev, "-")]
	case cmdName == "":
		if !hasPositional(before, app.Flags) {
			out = commands
		}
	case cmdName == "completion" && len(cmdArgs) == 0:
		out = shells
	case cmdName == "help" && len(cmdArgs) == 0:
		out = commands
	case cmd != nil && len(cmdArgs) == 0:
		for _, sc := range cmd.Subcommands {
			out = append(out, sc.Name)
		}
	}
	for _, o := range out {
		if strings.HasPrefix(o, cur) {
			fmt.Fprintln(w, o)
		}
	}
}

// hasPositional reports whether args already hold a path (then commands are
// no longer candidates).
func hasPositional(args []string, defs []cli.Flag) bool {
	takesValue, _ := flagArity(defs)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return true
		}
		if len(a) > 1 && a[0] == '-' {
			if !strings.Contains(a, "=") && takesValue[strings.TrimLeft(a, "-")] {
				i++
			}
			continue
		}
		return true
	}
	return false
}

func commandNames(app *cli.App) []string {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// bashScript is "xlate completion bash". It passes the word being completed
// even when empty (see complete); with no candidates, bash completes file
// names.
const bashScript = `# bash completion for xlate. Load it with:  source <(xlate completion bash)
# or save it as /etc/bash_completion.d/xlate (or ~/.local/share/bash-completion/completions/xlate).
_xlate_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
    COMPREPLY=($("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" ` + completeFlag + ` 2>/dev/null))
}
complete -o bashdefault -o default -F _xlate_complete xlate
`

// zshScript is "xlate completion zsh", on the same protocol as bashScript;
// with no candidates, zsh completes file names.
const zshScript = `#compdef xlate
# zsh completion for xlate. Load it with:  source <(xlate completion zsh)
# or save it as _xlate in a directory of your $fpath.
_xlate() {
    local -a opts
    opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} "${words[CURRENT]}" ` + completeFlag + ` 2>/dev/null)}")
    if [[ -n "${opts[1]}" ]]; then
        _describe 'xlate' opts
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == "_xlate" ]]; then
    _xlate "$@"
else
    compdef _xlate xlate
fi
`

// completionScript returns the completion script for shell, or the man page
// for "man".
func completionScript(app *cli.App, shell string) (string, error) {
	switch shell {
	case "bash":
		return bashScript, nil
	case "zsh":
		return zshScript, nil
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return "", fmt.Errorf("fish completion: %w", err)
		}
		return tidyFish(s), nil
	case "man":
		desc, usage := app.Description, app.UsageText
		app.Description, app.UsageText = markdown(desc), markdown(usage)
		s, err := app.ToManWithSection(1)
		app.Description, app.UsageText = desc, usage
		if err != nil {
			return "", fmt.Errorf("man page: %w", err)
		}
		return s, nil
	}
	return "", usageError{fmt.Errorf("completion: unknown shell %q: use %s", shell, strings.Join(shells, ", "))}
}

func completionCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh, fish) or the man page (man)",
		ArgsUsage: "bash|zsh|fish|man",
		Description: `Examples:
   source <(xlate completion bash)                  bash, this shell; add it to ~/.bashrc to keep it
   xlate completion zsh > "${fpath[1]}/_xlate"      zsh
   xlate completion fish > ~/.config/fish/completions/xlate.fish
   xlate completion man > xlate.1 && man ./xlate.1`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError{fmt.Errorf("completion: name one of %s", strings.Join(shells, ", "))}
			}
			out, err := completionScript(c.App, c.Args().First())
			if err != nil {
				return err
			}
			_, err = io.WriteString(s.Out, out)
			return err
		},
	}
}

// tidyFish drops the lines urfave/cli writes twice (--help and --version:
// app.Flags holds them, and it adds them again) and the backticks of the
// usage texts' placeholders.
func tidyFish(s string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "complete ") {
			if seen[line] {
				continue
			}
			seen[line] = true
		}
		b.WriteString(line)
	}
	return strings.ReplaceAll(b.String(), "`", "")
}

// markdown turns a help text into the markdown that ToMan expects: lines
// indented for the terminal become preformatted blocks (kept as they are,
// "<name>" included), other lines stay paragraphs.
func markdown(text string) string {
	var b strings.Builder
	pre := false
	for _, line := range strings.Split(text, "\n") {
		indented := strings.HasPrefix(line, "   ")
		if indented && !pre {
			b.WriteString("\n") // a code block cannot interrupt a paragraph
		}
		if !indented && pre && line != "" {
			b.WriteString("\n")
		}
		if indented {
			b.WriteString(" ")
		}
		b.WriteString(line)
		b.WriteString("\n")
		if line != "" {
			pre = indented
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
