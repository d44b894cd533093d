package cli

import (
	"errors"
	"flag"
	"testing"
)

func TestClosest(t *testing.T) {
	commands := []string{"batch", "cache", "completion", "config", "help", "version"}
	flags := []string{"model", "concurrency", "to", "older-than", "cache-dir", "help", "version"}
	tests := []struct {
		name  string
		cands []string
		want  string
	}{
		{"confg", commands, "config"},
		{"cahce", commands, "cache"},
		{"Config", commands, "config"},
		{"vesion", commands, "version"},
		{"hlp", commands, "help"},
		{"article", commands, ""},
		{"a", commands, ""},
		{"modle", flags, "model"},
		{"older", flags, "older-than"}, // a prefix
		{"foo", flags, ""},             // "to" is 2 edits away: too far for 3 letters
		{"t", flags, ""},
	}
	for _, tt := range tests {
		if got := closest(tt.name, tt.cands); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestFlagErrorsAreTyped: urfave/cli's flag errors reach exitCode as
// *flagError (errors.As), for the root and for subcommands.
func TestFlagErrorsAreTyped(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{{"--modle", "x"}, {"cache", "prune", "--older", "1d"}, {"--concurrency", "x"}, {"--price-in"}} {
		app := newApp(Streams{})
		err := app.Run(append([]string{"xlate"}, reorder(args, app.Flags, commandSet(app))...))
		var fe *flagError
		if !errors.As(err, &fe) {
			t.Errorf("%v: %T %v, want a *flagError", args, err, err)
		}
	}
	fe := &flagError{err: errors.New("flag provided but not defined: -modle"), command: "xlate", name: "--modle"}
	if fe.hint() != "hint: run 'xlate --help' for usage" || errors.Is(fe, flag.ErrHelp) {
		t.Errorf("hint %q", fe.hint())
	}
}
