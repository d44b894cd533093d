package cli

import (
	"fmt"
	"io"
	"os"
)

// style colours xlate's own lines on stderr: the "xlate:" prefix of error
// lines in red, the summary line dim. The zero style adds nothing.
type style struct{ color bool }

// newStyle decides colours for stderr w from the process environment.
func newStyle(w io.Writer) style {
	noColor, _ := os.LookupEnv("NO_COLOR")
	return style{color: useColor(isTerminal(w), noColor, os.Getenv("TERM"))}
}

// useColor is the colour decision: only on a terminal, never with NO_COLOR
// set to a non-empty value (https://no-color.org), never on a dumb terminal.
func useColor(terminal bool, noColor, term string) bool {
	return terminal && noColor == "" && term != "dumb"
}

const (
	ansiRed   = "\033[31m"
	ansiDim   = "\033[2m"
	ansiReset = "\033[0m"
)

// prefix is "xlate:" for the start of an error line.
func (s style) prefix() string {
	if !s.color {
		return "xlate:"
	}
	return ansiRed + "xlate:" + ansiReset
}

// notes returns a func that writes one "xlate: ..." information line to
// w per call, uncoloured, control characters escaped.
func (s style) notes(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintln(w, "xlate: "+escapeControls(fmt.Sprintf(format, args...)))
	}
}

// lines returns a func that writes one "xlate: ..." line to w per call,
// its control characters escaped (a file name's included).
func (s style) lines(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintln(w, s.prefix()+" "+escapeControls(fmt.Sprintf(format, args...)))
	}
}

// dim renders a secondary line.
func (s style) dim(line string) string {
	if !s.color {
		return line
	}
	return ansiDim + line + ansiReset
}
