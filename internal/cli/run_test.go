package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// TestTargetLanguage checks that --to reaches both the translation and the
// summary prompts, and the cache keys (another language is a new request).
func TestTargetLanguage(t *testing.T) {
	isolate(t)
	srv := fakeopenai.New(t, fakeopenai.Options{})
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	const in = "# 标题\n\n第一段的内容。\n"
	for _, lang := range []string{"French", "Japanese"} {
		srv.Reset()
		code, _, errs := runMain(t, in, "--to", lang)
		if code != 0 {
			t.Fatalf("--to %s: exit %d: %s", lang, code, errs)
		}
		reqs := srv.Requests()
		if len(reqs) == 0 {
			t.Fatalf("--to %s: no request (served from the cache of another language?)", lang)
		}
		for _, r := range reqs {
			if !strings.Contains(r.System(), lang) {
				t.Errorf("--to %s: %s request's system prompt does not name it:\n%s", lang, r.Kind, r.System())
			}
		}
	}
	if code, _, errs := runMain(t, in, "--to", " "); code != ExitUsage || !strings.Contains(errs, "--to is empty") {
		t.Errorf("--to blank: exit %d, %q", code, errs)
	}
}

// TestSuffix checks the Hugo multilingual output names.
func TestSuffix(t *testing.T) {
	tests := []struct{ suffix, want string }{
		{"", "a.md"},
		{".en", "a.en.md"},
		{"en", "a.en.md"},
		{"_en", "a_en.md"},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			isolate(t)
			srv := fakeopenai.New(t, fakeopenai.Options{})
			t.Setenv("OPENAI_BASE_URL", srv.URL())
			in := t.TempDir()
			if err := os.WriteFile(filepath.Join(in, "a.txt"), []byte("你好。"), 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			code, _, errs := runMain(t, "", "-q", "--no-summary", "--suffix", tt.suffix, "-o", out, in)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if _, err := os.Stat(filepath.Join(out, tt.want)); err != nil {
				entries, _ := os.ReadDir(out)
				t.Errorf("want %s: %v (have %v)", tt.want, err, entries)
			}
		})
	}
	t.Run("bad suffix", func(t *testing.T) {
		isolate(t)
		code, _, errs := runMain(t, "", "--dry-run", "--suffix", "../x", "-o", t.TempDir(), t.TempDir())
		if code != ExitUsage || !strings.Contains(errs, "--suffix") {
			t.Errorf("exit %d, %q", code, errs)
		}
	})
}

// TestVerboseNeverLogsSecrets runs with --verbose: a line per request and
// per file, and neither the key nor a whole paragraph.
func TestVerboseNeverLogsSecrets(t *testing.T) {
	isolate(t)
	const key = "sk-verbose-secret-0123456789"
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: key})
	paragraph := strings.Repeat("这是一个相当长的段落，用来检查日志里不会出现文章的全文。", 4)
	in := filepath.Join(t.TempDir(), "a.md")
	if err := os.WriteFile(in, []byte("# 标题\n\n"+paragraph+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runMain(t, "", "--verbose", "--base-url", srv.URL(), "--api-key", key, "-o", filepath.Join(t.TempDir(), "a.en.md"), in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"level=DEBUG msg=settings", "llm answer", "prompt_tokens=", "file done", "from_cache=false"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for _, leak := range []string{key, paragraph, fakeopenai.Translate(paragraph)} {
		if strings.Contains(errs, leak) {
			t.Errorf("stderr holds %.40q…:\n%s", leak, errs)
		}
	}
}

// TestHelp checks that --help shows an example for each mode and the
// documentation of configuration and exit codes.
func TestHelp(t *testing.T) {
	isolate(t)
	code, out, _ := runMain(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"xlate article.md", "cat article.txt | xlate", "xlate -o out/ archive/", "--suffix .en", "--provider deepseek",
		"--provider ollama", "--provider azure", "xlate config ", "--dry-run -o", "xlate cache stats", "xlate cache prune --older-than 30d",
		"xlate completion bash", "xlate ./config",
		"openrouter  https://openrouter.ai/api/v1", "strongest first: its flag, its environment variable, the config",
		"~/.config/xlate/config.yaml", "Exit status: 0 all done, 1 some files failed, 2 usage or configuration error, 130 interrupted",
		"NO_COLOR", "(env XLATE_MODEL)", "(env XLATE_TO)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, cmd := range [][]string{{"cache", "--help"}, {"completion", "--help"}, {"cache", "prune", "--help"}} {
		if code, out, _ := runMain(t, "", cmd...); code != 0 || !strings.Contains(out, "xlate "+cmd[0]) {
			t.Errorf("%q: exit %d:\n%s", cmd, code, out)
		}
	}
}
