package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Entry
		err  string
	}{
		{"empty", "", nil, ""},
		{"comments only", "# nothing\n\n", nil, ""},
		{"null document", "~\n", nil, ""},
		{"scalars", "provider: deepseek\nconcurrency: 4\nstream: false\ntimeout: 2m\nto: \"French\"\n", []Entry{
			{"provider", "deepseek", 1}, {"concurrency", "4", 2}, {"stream", "false", 3}, {"timeout", "2m", 4}, {"to", "French", 5},
		}, ""},
		{"bom and comments", "\ufeff# xlate\nmodel: qwen2.5:7b # local\n", []Entry{{"model", "qwen2.5:7b", 2}}, ""},
		{"empty value skipped", "glossary:\nmodel: m\n", []Entry{{"model", "m", 2}}, ""},
		{"empty string kept", "api-key: \"\"\n", []Entry{{"api-key", "", 1}}, ""},
		{"anchor and alias", "model: &m gpt-4o\nx: *m\n", []Entry{{"model", "gpt-4o", 1}, {"x", "gpt-4o", 2}}, ""},
		{"list value", "model:\n  - a\n  - b\n", nil, "c.yaml:2: model: want a single value, not a list"},
		{"mapping value", "model: {a: 1}\n", nil, "c.yaml:1: model: want a single value, not a mapping"},
		{"not a mapping", "- a\n- b\n", nil, "c.yaml:1: want \"key: value\" lines (a YAML mapping), not a list"},
		{"scalar document", "model\n", nil, "not a single value"},
		{"duplicate", "model: a\nto: x\nmodel: b\n", nil, "c.yaml:3: key \"model\" is already set on line 1"},
		{"syntax", "model: [a\n", nil, "config c.yaml: yaml:"},
		{"complex key", "? [a]\n: b\n", nil, "a key must be a plain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("c.yaml", []byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Entries, tt.want) {
				t.Errorf("entries = %+v, want %+v", f.Entries, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(good, []byte("model: m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := f.Lookup("model"); !ok || e.Value != "m" || f.Where(e) != good+":1" {
		t.Errorf("lookup: %+v %v", e, ok)
	}
	if _, ok := f.Lookup("to"); ok {
		t.Error("lookup of a missing key succeeded")
	}
	missing := filepath.Join(dir, "nope.yaml")
	_, err = Load(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the user config directory")
	}
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/xdg", "xlate", "config.yaml") {
		t.Errorf("with XDG_CONFIG_HOME: %q, %v", p, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "relative") // not absolute: ignored, as the spec says
	t.Setenv("HOME", "/home/u")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/home/u", ".config", "xlate", "config.yaml") {
		t.Errorf("without XDG_CONFIG_HOME: %q, %v", p, err)
	}
}
