package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorder moves flags that follow positional arguments in front of them, so
// that "xlate article.md -o out.md" works like "xlate -o out.md article.md"
// (urfave/cli v2 stops parsing flags at the first argument). Everything after
// "--" stays as it is.
//
// When the first positional argument names a command ("config", "cache",
// ...), only the root's own flags are moved in front of it, so that
// "xlate config --provider deepseek" means "xlate --provider deepseek
// config", while the command's flags ("--older-than") stay with it.
func reorder(args []string, defs []cli.Flag, commands map[string]bool) []string {
	takesValue, known := flagArity(defs)
	var flags, rest []string
	command := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if command && (!known[name] || name == "help" || name == "h") {
				rest = append(rest, a) // the command's flag (--help is every command's)
				continue
			}
			flags = append(flags, a)
			if !strings.Contains(a, "=") && takesValue[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			if len(rest) == 0 && commands[a] {
				command = true
			}
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// flagArity returns which flag names take a value, and which are known.
func flagArity(defs []cli.Flag) (takesValue, known map[string]bool) {
	takesValue, known = map[string]bool{}, map[string]bool{}
	for _, f := range defs {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
			known[n] = true
		}
	}
	return takesValue, known
}

// firstCommand returns the command that args (already reordered) run, if
// any, and the arguments after it.
func firstCommand(args []string, defs []cli.Flag, commands map[string]bool) (string, []string) {
	takesValue, _ := flagArity(defs)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return "", nil
		case len(a) > 1 && a[0] == '-':
			if !strings.Contains(a, "=") && takesValue[strings.TrimLeft(a, "-")] {
				i++
			}
		default:
			if commands[a] {
				return a, args[i+1:]
			}
			return "", nil
		}
	}
	return "", nil
}
