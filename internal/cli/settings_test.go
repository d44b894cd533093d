package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// writeConfig writes the default config file ($XDG_CONFIG_HOME/xlate/config.yaml).
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "xlate")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrecedence checks flag > environment > config file > provider preset
// > default, for a value of each kind.
func TestPrecedence(t *testing.T) {
	const file = "model: m-config\nconcurrency: 3\nstream: false\ntimeout: 45s\nto: German\nprovider: ollama\n"
	tests := []struct {
		name   string
		config string
		env    map[string]string
		args   []string
		want   map[string]string // setting -> "value  source"
	}{
		{"defaults and presets", "", nil, nil, map[string]string{
			"model": "gpt-4o-mini  provider openai", "concurrency": "8  default", "stream": "true  default",
			"timeout": "2m0s  default", "to": "English  default", "provider": "openai  default"}},
		{"config over preset and default", file, nil, nil, map[string]string{
			"model": "m-config  config CFG:1", "concurrency": "3  config CFG:2", "stream": "false  config CFG:3",
			"timeout": "45s  config CFG:4", "to": "German  config CFG:5", "provider": "ollama  config CFG:6",
			"base-url": "http://localhost:11434/v1  provider ollama"}},
		{"env over config", file, map[string]string{"XLATE_MODEL": "m-env", "XLATE_TO": "French", "XLATE_PROVIDER": "deepseek"}, nil, map[string]string{
			"model": "m-env  env XLATE_MODEL", "to": "French  env XLATE_TO", "provider": "deepseek  env XLATE_PROVIDER",
			"base-url": "https://api.deepseek.com/v1  provider deepseek", "concurrency": "3  config CFG:2"}},
		{"flag over env", file, map[string]string{"XLATE_MODEL": "m-env", "XLATE_TO": "French"},
			[]string{"--model", "m-flag", "--to=Japanese", "--concurrency", "5", "--stream=true", "--provider", "openai"}, map[string]string{
				"model": "m-flag  flag", "to": "Japanese  flag", "concurrency": "5  flag", "stream": "true  flag",
				"provider": "openai  flag", "base-url": "https://api.openai.com/v1  provider openai"}},
		{"an empty variable is unset", file, map[string]string{"XLATE_MODEL": ""}, nil, map[string]string{"model": "m-config  config CFG:1"}},
		{"paths in the config file", "cache-dir: cache\n", nil, nil, map[string]string{"cache-dir": "CFGDIR/cache  config CFG:1"}},
		{"home in the config file", "cache-dir: ~/xc\n", nil, nil, map[string]string{"cache-dir": "HOME/xc  config CFG:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("XLATE_CACHE_DIR", "")
			t.Setenv("HOME", t.TempDir())
			cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "xlate", "config.yaml")
			if tt.config != "" {
				cfg = writeConfig(t, tt.config)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			t.Setenv("DEEPSEEK_API_KEY", "sk-deepseek-key-0123456789")
			t.Setenv("OPENAI_API_KEY", "sk-openai-key-0123456789")
			code, out, errs := runMain(t, "", append([]string{"config"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			r := strings.NewReplacer("CFGDIR", filepath.Dir(cfg), "CFG", cfg, "HOME", os.Getenv("HOME"))
			for name, want := range tt.want {
				if line := settingLine(out, name); squeeze(line) != name+"  "+r.Replace(want) {
					t.Errorf("%s: line %q, want %q", name, line, r.Replace(want))
				}
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name   string
		config string // written to the default path ("" = none)
		env    map[string]string
		args   []string
		err    string // CFG is the config file's path
	}{
		{"unknown key", "model: m\nmodle: x\n", nil, nil, `config CFG:2: unknown key "modle" (did you mean "model"?)`},
		{"underscore", "chunk_tokens: 100\n", nil, nil, `config CFG:1: unknown key "chunk_tokens" (did you mean "chunk-tokens"?)`},
		{"far off", "colour: red\n", nil, nil, `config CFG:1: unknown key "colour"`},
		{"alias is not a key", "o: out\n", nil, nil, `unknown key "o"`},
		{"one run only", "output: out/\n", nil, nil, `config CFG:1: "output" cannot be set in a config file`},
		{"dry-run", "dry-run: true\n", nil, nil, `"dry-run" cannot be set in a config file`},
		{"bad number", "concurrency: many\n", nil, nil, `config CFG:1: concurrency: invalid value "many"`},
		{"bad duration", "timeout: 5\n", nil, nil, `config CFG:1: timeout: invalid value "5"`},
		{"bad provider", "provider: bard\n", nil, nil, `unknown provider "bard"`},
		{"syntax", "model: [x\n", nil, nil, "config CFG: yaml:"},
		{"list", "to:\n  - a\n", nil, nil, "to: want a single value, not a list"},
		{"missing --config", "", nil, []string{"--config", "NOPE"}, "config NOPE: no such file or directory"},
		{"missing XLATE_CONFIG", "", map[string]string{"XLATE_CONFIG": "NOPE"}, nil, "config NOPE: no such file or directory"},
		{"bad flag value", "", nil, []string{"--concurrency", "x"}, `invalid value "x" for --concurrency`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "xlate", "config.yaml")
			if tt.config != "" {
				cfg = writeConfig(t, tt.config)
			}
			nope := filepath.Join(t.TempDir(), "nope.yaml")
			r := strings.NewReplacer("CFG", cfg, "NOPE", nope)
			for k, v := range tt.env {
				t.Setenv(k, r.Replace(v))
			}
			var args []string
			for _, a := range tt.args {
				args = append(args, r.Replace(a))
			}
			// The same error for a run and for "xlate config".
			for _, cmd := range [][]string{args, append([]string{"config"}, args...)} {
				code, _, errs := runMain(t, "你好。", cmd...)
				if code != ExitUsage || !strings.Contains(errs, r.Replace(tt.err)) {
					t.Errorf("%q: exit %d, stderr %q; want 2 and %q", cmd, code, errs, r.Replace(tt.err))
				}
			}
		})
	}
}

// TestConfigFileDrivesARun checks that config values reach a real run, and
// that --config and XLATE_CONFIG name other files.
func TestConfigFileDrivesARun(t *testing.T) {
	tests := []struct {
		name  string
		where string // "default", "flag" or "env"
	}{{"default path", "default"}, {"--config", "flag"}, {"XLATE_CONFIG", "env"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			srv := fakeopenai.New(t, fakeopenai.Options{APIKey: "sk-from-config-file-000"})
			content := "base-url: " + srv.URL() + "\napi-key: sk-from-config-file-000\nmodel: cfg-model\nto: French\nno-summary: true\n"
			var args []string
			switch tt.where {
			case "default":
				writeConfig(t, content)
			default:
				path := filepath.Join(t.TempDir(), "work.yaml")
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				if tt.where == "flag" {
					args = []string{"--config", path}
				} else {
					t.Setenv("XLATE_CONFIG", path)
				}
			}
			code, out, errs := runMain(t, "你好。", args...)
			if code != 0 || !strings.Contains(out, fakeopenai.Translate("你好。")) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Model != "cfg-model" || !strings.Contains(reqs[0].System(), "French") {
				t.Errorf("%d requests; want 1 for cfg-model in French: %+v", len(reqs), reqs)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", "(none)"},
		{"short-key", "(set)"},
		{"sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-…wxyz"},
		{"sk-or-v1-0123456789abcdef0123", "sk-…0123"},
		{"abcdefghijklmnopqrstuvwxyz", "…wxyz"},
		{"0123456789abcdef0123456789abcdef", "…cdef"},
	}
	for _, tt := range tests {
		if got := redact(tt.key); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// TestConfigCommand checks "xlate config" itself: the file line, a
// redacted key from a config file, arguments, and a file named "config".
func TestConfigCommand(t *testing.T) {
	isolate(t)
	const key = "sk-config-file-secret-abcd"
	cfg := writeConfig(t, "api-key: "+key+"\n")
	code, out, errs := runMain(t, "", "config")
	if code != 0 || strings.Contains(out, key) || squeeze(settingLine(out, "api-key")) != "api-key  sk-…abcd  config "+cfg+":1" ||
		!strings.Contains(out, "# config file: "+cfg+" (default)") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
	if code, _, errs := runMain(t, "", "config", "extra"); code != ExitUsage || !strings.Contains(errs, "config takes no arguments") {
		t.Errorf("config extra: exit %d, %q", code, errs)
	}
	if code, out, _ := runMain(t, "", "config", "--help"); code != 0 || !strings.Contains(out, "where it came from") {
		t.Errorf("config --help: exit %d, %q", code, out)
	}

	// A file named "config": the command runs, with a note; ./config
	// translates the file.
	srv := fakeopenai.New(t, fakeopenai.Options{})
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	t.Chdir(t.TempDir())
	if err := os.WriteFile("config", []byte("你好。"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runMain(t, "", "config"); code != 0 || !strings.Contains(out, "provider") || !strings.Contains(errs, "run: xlate ./config") {
		t.Errorf("config with a file named config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, out, errs := runMain(t, "", "--no-summary", "./config"); code != 0 || !strings.Contains(out, fakeopenai.Translate("你好。")) {
		t.Errorf("./config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
