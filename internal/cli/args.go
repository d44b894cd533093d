package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorder moves flags that follow positional arguments in front of them, so
// that "xlate article.md -o out.md" works like "xlate -o out.md article.md"
// (urfave/cli v2 stops parsing flags at the first argument). Everything after
// "--" stays as it is.
func reorder(args []string, defs []cli.Flag) []string {
	takesValue := map[string]bool{}
	for _, f := range defs {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}
