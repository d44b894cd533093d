package cli

import (
	"bytes"
	"errors"
	"testing"
)

func TestUseColor(t *testing.T) {
	tests := []struct {
		terminal      bool
		noColor, term string
		want          bool
	}{
		{true, "", "xterm-256color", true},
		{true, "1", "xterm-256color", false},
		{true, "0", "xterm", false}, // any non-empty value
		{true, "", "dumb", false},
		{true, "", "", true},
		{false, "", "xterm", false},
		{false, "1", "xterm", false},
	}
	for _, tt := range tests {
		if got := useColor(tt.terminal, tt.noColor, tt.term); got != tt.want {
			t.Errorf("useColor(terminal=%v, NO_COLOR=%q, TERM=%q) = %v, want %v", tt.terminal, tt.noColor, tt.term, got, tt.want)
		}
	}
}

func TestStyle(t *testing.T) {
	tests := []struct {
		st               style
		wantErr, wantDim string
	}{
		{style{}, "xlate: boom\nhint: run 'xlate --help' for usage\n", "summary"},
		{style{color: true}, "\033[31mxlate:\033[0m boom\nhint: run 'xlate --help' for usage\n", "\033[2msummary\033[0m"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if code := exitCode(usageError{errors.New("boom")}, &b, tt.st); code != ExitUsage || b.String() != tt.wantErr {
			t.Errorf("color %v: exit %d, %q; want %q", tt.st.color, code, b.String(), tt.wantErr)
		}
		if got := tt.st.dim("summary"); got != tt.wantDim {
			t.Errorf("color %v: dim %q, want %q", tt.st.color, got, tt.wantDim)
		}
	}
	// Not a terminal (a buffer): no colour, whatever NO_COLOR says.
	t.Setenv("NO_COLOR", "")
	if newStyle(&bytes.Buffer{}).color {
		t.Error("colour on a buffer")
	}
}
