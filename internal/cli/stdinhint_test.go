package cli

import (
	"os"
	"strings"
	"testing"
)

func TestStdinHint(t *testing.T) {
	tests := []struct {
		inputs   []string
		quiet    bool
		terminal bool
		want     bool
	}{
		{nil, false, true, true},
		{[]string{"-"}, false, true, true},
		{nil, false, false, false},
		{nil, true, true, false},
		{[]string{"a.md"}, false, true, false},
		{[]string{"-", "a.md"}, false, true, false},
	}
	for _, tt := range tests {
		if got := stdinHint(options{inputs: tt.inputs, quiet: tt.quiet}, tt.terminal); got != tt.want {
			t.Errorf("stdinHint(%v, quiet %v, terminal %v) = %v", tt.inputs, tt.quiet, tt.terminal, got)
		}
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminalReader(null) || isTerminalReader(strings.NewReader("")) {
		t.Error("the null device or a reader is a terminal")
	}
}
