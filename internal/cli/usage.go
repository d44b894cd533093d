package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/pipeline"
)

// flagNameRE is a flag named in the flag package's style, "flag -name".
var flagNameRE = regexp.MustCompile(`flag -[A-Za-z0-9][A-Za-z0-9-]*`)

// hinter is a usage error that knows the hint line printed after it ("" =
// none: the message already says what to do, "did you mean" included).
type hinter interface {
	error
	hint() string
}

// flagError is a flag parsing error of urfave/cli (the standard flag
// package's, untyped), typed by onUsageError: a command line with it exits 2.
type flagError struct {
	err     error  // urfave/cli's error
	command string // "xlate", "xlate cache prune": whose --help explains the flags
	name    string // the undefined flag, as "--modle" or "-x" ("" = another error)
	guess   string // the defined flag closest to name ("" = none is close)
}

func (e *flagError) Error() string {
	if e.name != "" {
		if e.guess != "" {
			return fmt.Sprintf("unknown flag %s (did you mean %q?)", e.name, e.guess)
		}
		return "unknown flag " + e.name
	}
	msg := e.err.Error()
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Sprintf("flag %s needs a value", dashes(strings.TrimLeft(name, "-")))
	}
	// invalid value "x" for flag -concurrency: parse error
	return flagNameRE.ReplaceAllStringFunc(msg, func(m string) string {
		return dashes(strings.TrimPrefix(m, "flag -"))
	})
}

func (e *flagError) Unwrap() error { return e.err }

func (e *flagError) hint() string {
	if e.guess != "" {
		return ""
	}
	return fmt.Sprintf("hint: run '%s --help' for usage", e.command)
}

// unknownCommandError is a first argument that is neither a command nor an
// existing file, but close to a command's name.
type unknownCommandError struct {
	parent string // "" for the root ("command or file"), else "cache", "batch"…
	name   string
	guess  string // "" = none is close
}

func (e *unknownCommandError) Error() string {
	var msg string
	if e.parent == "" {
		msg = fmt.Sprintf("unknown command or file %q", e.name)
	} else {
		msg = fmt.Sprintf("%s: unknown command %q", e.parent, e.name)
	}
	if e.guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.guess)
	}
	return msg
}

func (e *unknownCommandError) hint() string {
	if e.guess != "" {
		return ""
	}
	if e.parent == "" {
		return "hint: run 'xlate --help' for usage"
	}
	return fmt.Sprintf("hint: run 'xlate %s --help' for usage", e.parent)
}

// undefinedFlag is the prefix of the flag package's error for a flag that is
// not defined: the one place where urfave/cli's errors are read as text,
// since neither package types them.
const undefinedFlag = "flag provided but not defined: "

// onUsageError types urfave/cli's flag errors (every error it passes to
// OnUsageError is one) as a *flagError, with the closest flag of the
// command and its parents when the flag is undefined.
func onUsageError(c *cli.Context, err error, _ bool) error {
	fe := &flagError{err: err, command: "xlate"}
	if c.Command != nil && c.Command.HelpName != "" {
		fe.command = c.Command.HelpName
	}
	if name, ok := strings.CutPrefix(err.Error(), undefinedFlag); ok {
		name = strings.TrimLeft(name, "-")
		fe.name = dashes(name)
		if len(name) > 1 {
			if g := closest(name, flagNames(c)); g != "" {
				fe.guess = "--" + g
			}
		}
	}
	return fe
}

// dashes writes a flag name as typed on a command line: -o, --output.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagNames are the long flag names that c's command line accepts: its
// command's, its parents' (reorder moves the root's anywhere), help and,
// at the root, version.
func flagNames(c *cli.Context) []string {
	names := []string{"help"}
	for _, ctx := range c.Lineage() {
		cmd := ctx.Command
		if cmd == nil {
			continue
		}
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				if len(n) > 1 {
					names = append(names, n)
				}
			}
		}
	}
	if c.Command == nil || c.Command.HelpName == c.App.HelpName {
		names = append(names, "version") // the root's
	}
	return names
}

// setupCommands gives every command and subcommand onUsageError (urfave/cli
// gives subcommands none: they would print their whole help), no help
// subcommand ("help" is xlate's command: xlate help cache prune), and
// tidied flags (tidyFlags).
func setupCommands(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = onUsageError
		}
		c.HideHelpCommand = true
		tidyFlags(c.Flags)
		setupCommands(c.Subcommands)
	}
}

// tidyFlags keeps --help from stating the obvious: a boolean flag that is
// off by default says no "(default: false)".
func tidyFlags(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok && !b.Value {
			b.DisableDefaultText = true
		}
	}
}

// closest returns the candidate that name most likely meant: the nearest by
// edit distance, at most 2 edits away and fewer than half of name's length
// (ties alphabetically), else the shortest that begins with name; "" when
// none is close.
func closest(name string, candidates []string) string {
	name = strings.ToLower(name)
	best, bestD := "", 3
	for _, c := range candidates {
		d := distance(name, c)
		if 2*d > len(name) {
			continue
		}
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	if best != "" || len(name) < 2 {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
	}
	sort.Slice(prefixed, func(i, j int) bool {
		a, b := prefixed[i], prefixed[j]
		return len(a) < len(b) || len(a) == len(b) && a < b
	})
	if len(prefixed) > 0 {
		return prefixed[0]
	}
	return ""
}

// unknownCommand returns an *unknownCommandError when arg, the first
// argument of a translation, is no file and looks like a mistyped command;
// nil otherwise (the file may still be missing: the run says so).
func unknownCommand(arg string, commands []string) error {
	if arg == "" || arg == "-" || strings.ContainsAny(arg, `/\.`) {
		return nil
	}
	if _, err := os.Lstat(arg); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if g := closest(arg, commands); g != "" {
		return &unknownCommandError{name: arg, guess: g}
	}
	return nil
}

// helpCommand is "xlate help [COMMAND...]": Main runs it as
// "xlate COMMAND... --help" (see helpArgs); its Action is reached for
// "xlate help" alone.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the help of xlate or of a command",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		Action: func(c *cli.Context) error {
			return cli.ShowAppHelp(c)
		},
	}
}

// versionCommand is "xlate version", the same line as --version.
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version: release, commit (-dirty when the tree was modified), its date, Go version",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("version takes no arguments (to translate a file named %s, run: xlate ./%s)", c.Args().First(), c.Args().First())}
			}
			cli.ShowVersion(c)
			return nil
		},
	}
}

// helpArgs rewrites "xlate [flags] help COMMAND..." (args reordered, the
// help command at index i) into "xlate [flags] COMMAND... --help", after
// checking that the words name commands.
func helpArgs(app *cli.App, args []string, i int) ([]string, error) {
	words := args[i+1:]
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			return args, nil // "xlate help --help": the help command's own
		}
	}
	cmds := app.Commands
	parent := ""
	for n, w := range words {
		var found *cli.Command
		var names []string
		for _, c := range cmds {
			if c.HasName(w) {
				found = c
			}
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		if found == nil {
			if n > 0 && len(cmds) == 0 {
				break // an argument of the command, not a subcommand
			}
			return nil, &unknownCommandError{parent: strings.TrimSpace("help " + parent), name: w, guess: closest(w, names)}
		}
		parent = strings.TrimSpace(parent + " " + w)
		cmds = found.Subcommands
	}
	out := append([]string(nil), args[:i]...)
	out = append(out, words...)
	return append(out, "--help"), nil
}

// missingInputs are the named inputs that cannot be read, each as the run
// would report it.
func missingInputs(inputs []string) []error {
	var missing []error
	for _, in := range inputs {
		if in == pipeline.Stdio {
			continue
		}
		_, _, err := pipeline.PlanWith([]string{in}, "", pipeline.PlanOptions{})
		var fe *pipeline.FileError
		if errors.As(err, &fe) {
			missing = append(missing, fe)
		}
	}
	return missing
}

// namedInputs counts the inputs that are paths (not stdin).
func namedInputs(inputs []string) int {
	n := 0
	for _, in := range inputs {
		if in != pipeline.Stdio {
			n++
		}
	}
	return n
}
