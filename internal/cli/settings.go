package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/internal/config"
)

// Where a setting's value came from, from weakest to strongest. Precedence
// is flag > environment > config file > provider preset > default.
type sourceKind int

const (
	fromDefault sourceKind = iota
	fromPreset
	fromConfig
	fromEnv
	fromFlag
)

// source is where one setting's value came from.
type source struct {
	kind  sourceKind
	where string // the variable, FILE:LINE or provider name
}

func (s source) String() string {
	switch s.kind {
	case fromFlag:
		return "flag"
	case fromEnv:
		return "env " + s.where
	case fromConfig:
		return "config " + s.where
	case fromPreset:
		return "provider " + s.where
	}
	return "default"
}

// settings is the outcome of resolveSettings: every flag of the root
// command holds its effective value, and sources says where each came from.
type settings struct {
	provider   provider
	sources    map[string]source
	configPath string // "" when there is none (no home directory)
	configSrc  source
	configFile *config.File // nil when the (default) file does not exist
}

// noSetting are the root flags that are not settings.
var noSetting = map[string]bool{"help": true, "version": true, "generate-bash-completion": true, "config": true}

// resolveSettings gives every root flag that the command line did not set
// its value from, in this order, the environment, the config file, the
// provider preset; what none of them sets keeps its default. It is the one
// place where precedence is implemented. It must be called once per run:
// values it sets look like flags afterwards.
func resolveSettings(c *cli.Context) (*settings, error) {
	st := &settings{sources: map[string]source{}}
	defs := map[string]cli.Flag{}
	for _, f := range c.App.Flags {
		defs[f.Names()[0]] = f
	}

	// The config file itself: flag > env > default path.
	explicit := true
	switch {
	case c.IsSet("config"):
		st.configPath, st.configSrc = c.String("config"), source{kind: fromFlag}
	case os.Getenv(settingEnv["config"]) != "":
		st.configPath, st.configSrc = os.Getenv(settingEnv["config"]), source{kind: fromEnv, where: settingEnv["config"]}
	default:
		explicit = false
		st.configPath, _ = config.DefaultPath() // no home directory: no default file
	}
	if st.configPath != "" {
		f, err := config.Load(st.configPath)
		switch {
		case err == nil:
			st.configFile = f
		case !explicit && errors.Is(err, fs.ErrNotExist):
		default:
			return nil, usageError{err}
		}
	}
	if f := st.configFile; f != nil {
		for _, e := range f.Entries {
			if _, ok := defs[e.Key]; !ok || noSetting[e.Key] {
				return nil, usageError{fmt.Errorf("config %s: unknown key %q%s", f.Where(e), e.Key, suggest(e.Key, defs))}
			}
			if notInConfig[e.Key] {
				return nil, usageError{fmt.Errorf("config %s: %q cannot be set in a config file: it belongs to one run (pass --%s)", f.Where(e), e.Key, e.Key)}
			}
		}
	}

	// The provider first: it decides the environment variables and presets
	// of the others.
	if err := st.resolve(c, "provider", provider{}); err != nil {
		return nil, err
	}
	name := c.String("provider")
	if name == "" {
		name = defaultProvider
	}
	p, err := lookupProvider(name)
	if err != nil {
		return nil, usageError{fmt.Errorf("--provider: %w", err)}
	}
	st.provider = p

	for _, f := range c.App.Flags {
		name := f.Names()[0]
		if noSetting[name] || name == "provider" {
			continue
		}
		if err := st.resolve(c, name, p); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// resolve sets one flag from the strongest source that has a value.
func (st *settings) resolve(c *cli.Context, name string, p provider) error {
	if c.IsSet(name) {
		st.sources[name] = source{kind: fromFlag}
		return nil
	}
	if env := envFor(name, p); env != "" {
		if v := os.Getenv(env); v != "" {
			if err := c.Set(name, v); err != nil {
				return usageError{fmt.Errorf("%s=%q: invalid value for --%s", env, v, name)}
			}
			st.sources[name] = source{kind: fromEnv, where: env}
			return nil
		}
	}
	if e, ok := st.configFile.Lookup(name); ok {
		v := e.Value
		if pathSettings[name] && v != "" {
			v = configPath(v, filepath.Dir(st.configFile.Path))
		}
		if err := c.Set(name, v); err != nil {
			return usageError{fmt.Errorf("config %s: %s: invalid value %q", st.configFile.Where(e), name, e.Value)}
		}
		st.sources[name] = source{kind: fromConfig, where: st.configFile.Where(e)}
		return nil
	}
	var preset string
	switch name {
	case "base-url":
		preset = p.baseURL
	case "model":
		preset = p.model
	}
	if preset != "" {
		if err := c.Set(name, preset); err != nil {
			return err
		}
		st.sources[name] = source{kind: fromPreset, where: p.name}
		return nil
	}
	st.sources[name] = source{kind: fromDefault}
	return nil
}

// configPath expands a path written in a config file: "~/" is the home
// directory, and a relative path is relative to the file's directory dir.
func configPath(v, dir string) string {
	if rest, ok := strings.CutPrefix(v, "~/"); ok || v == "~" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
		return v
	}
	if filepath.IsAbs(v) {
		return v
	}
	return filepath.Join(dir, v)
}

// suggest returns ` (did you mean "NAME"?)` for the setting closest to an
// unknown key, if one is close.
func suggest(key string, defs map[string]cli.Flag) string {
	best, bestD := "", 3
	for name := range defs {
		if noSetting[name] || notInConfig[name] {
			continue
		}
		if d := distance(strings.ToLower(key), name); d < bestD || d == bestD && name < best {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
