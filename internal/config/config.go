// Package config reads xlate's configuration file: a YAML mapping of setting
// names (xlate's long flag names, such as "model" or "chunk-tokens") to
// single values. It knows nothing of the settings themselves: the caller
// checks the keys and parses the values.
//
// # Contract
//
//   - Load returns the entries in file order, each with its line number and
//     its value as written (a YAML scalar's text: "4", "true", "2m",
//     "English"); a key without a value (`glossary:`) is skipped.
//   - An empty file, or one holding only comments, has no entries.
//   - Errors name the file (and the line where there is one): a file that is
//     not a mapping, a non-scalar key or value, a duplicate key, a YAML
//     syntax error, a file over MaxSize. A missing file is an error that
//     satisfies errors.Is(err, fs.ErrNotExist), so a caller can accept a
//     missing default file and reject a missing named one.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	yaml "go.yaml.in/yaml/v3"
)

// MaxSize is the largest configuration file read.
const MaxSize = 1 << 20

// Entry is one key of the file.
type Entry struct {
	Key   string
	Value string // the scalar as written, without quotes
	Line  int    // 1-based line of the key
}

// File is a loaded configuration file.
type File struct {
	Path    string
	Entries []Entry
}

// Lookup returns the entry for key.
func (f *File) Lookup(key string) (Entry, bool) {
	if f == nil {
		return Entry{}, false
	}
	for _, e := range f.Entries {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Where names the entry's place for messages: "FILE:LINE".
func (f *File) Where(e Entry) string {
	return fmt.Sprintf("%s:%d", f.Path, e.Line)
}

// DefaultPath is where xlate looks for its configuration when none is named:
// $XDG_CONFIG_HOME/xlate/config.yaml, or ~/.config/xlate/config.yaml when
// XDG_CONFIG_HOME is unset or not absolute (on Windows, the user config
// directory: %AppData%\xlate\config.yaml).
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "xlate", "config.yaml"), nil
	}
	if runtime.GOOS == "windows" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("config: %w", err)
		}
		return filepath.Join(dir, "xlate", "config.yaml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	return filepath.Join(home, ".config", "xlate", "config.yaml"), nil
}

// Load reads and parses the file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("config %s: is a directory", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, unwrapPath(err))
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("config %s: larger than %d KiB", path, MaxSize>>10)
	}
	return Parse(path, b)
}

// unwrapPath drops *fs.PathError's repetition of the path, keeping the
// cause (errors.Is still sees fs.ErrNotExist).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse parses a configuration file's content; path names it in errors.
func Parse(path string, b []byte) (*File, error) {
	file := &File{Path: path}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return file, nil // empty, or only comments
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return file, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s:%d: want \"key: value\" lines (a YAML mapping), not %s", path, root.Line, kind(root))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("config %s:%d: a key must be a plain name, not %s", path, k.Line, kind(k))
		}
		if line, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("config %s:%d: key %q is already set on line %d", path, k.Line, k.Value, line)
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			continue // "key:" with no value: not set
		case v.Kind != yaml.ScalarNode:
			return nil, fmt.Errorf("config %s:%d: %s: want a single value, not %s", path, v.Line, k.Value, kind(v))
		}
		file.Entries = append(file.Entries, Entry{Key: k.Value, Value: v.Value, Line: k.Line})
	}
	return file, nil
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "this"
}
