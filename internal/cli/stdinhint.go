package cli

import (
	"io"
	"os"

	"github.com/xlate/xlate/pipeline"
)

// stdinHintLine is printed when xlate waits for a terminal's input.
const stdinHintLine = "reading stdin; Ctrl-D to end, or see xlate --help"

// stdinHint reports whether a run with o waits for input typed on a
// terminal, which deserves one line saying so: stdin is a terminal, the
// input is stdin, and --quiet is not set.
func stdinHint(o options, stdinTerminal bool) bool {
	if !stdinTerminal || o.quiet {
		return false
	}
	return len(o.inputs) == 0 || len(o.inputs) == 1 && o.inputs[0] == pipeline.Stdio
}

// isTerminalReader reports whether r is a terminal: a character device
// other than the null device (which a command run from cron, CI or a test
// often has as stdin).
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}
