package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/internal/fakeopenai"
)

// TestGlossary wires --glossary (flag, environment, config file with a path
// relative to it) to a run against the fake, which honours glossaries.
func TestGlossary(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "glossary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const in = "马斯克和奥尔特曼见面。"
	want := fakeopenai.TranslateWithGlossary(in, map[string]string{"马斯克": "Musk", "奥尔特曼": "Altman"})
	tests := []struct{ name, via string }{{"flag", "flag"}, {"environment", "env"}, {"config file", "config"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			srv := fakeopenai.New(t, fakeopenai.Options{})
			t.Setenv("OPENAI_BASE_URL", srv.URL())
			args := []string{"--no-summary"}
			switch tt.via {
			case "flag":
				args = append(args, "--glossary", abs)
			case "env":
				t.Setenv("XLATE_GLOSSARY", abs)
			case "config":
				b, err := os.ReadFile(abs)
				if err != nil {
					t.Fatal(err)
				}
				cfg := writeConfig(t, "glossary: terms/names.csv\n")
				if err := os.MkdirAll(filepath.Join(filepath.Dir(cfg), "terms"), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "terms", "names.csv"), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs := runMain(t, in, args...)
			if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "Musk") {
				t.Fatalf("exit %d, stdout %q (want %q), stderr %q", code, out, want, errs)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || !strings.Contains(reqs[0].User(), "马斯克 = Musk") {
				t.Errorf("request without the glossary: %+v", reqs)
			}
		})
	}

	t.Run("bad glossary", func(t *testing.T) {
		isolate(t)
		t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1") // never reached
		bad := filepath.Join("testdata", "bad-glossary.csv")
		for _, cmd := range [][]string{{"--glossary", bad}, {"config", "--glossary", bad}, {"--dry-run", "--glossary", "testdata/none.csv"}} {
			code, _, errs := runMain(t, "你好。", cmd...)
			if code != ExitUsage || !strings.Contains(errs, "glossary") || !strings.Contains(errs, filepath.Base(cmd[len(cmd)-1])) {
				t.Errorf("%q: exit %d, stderr %q", cmd, code, errs)
			}
		}
	})
}
