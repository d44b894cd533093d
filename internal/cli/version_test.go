package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	info := func(mainVersion string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/xlate/xlate", Version: mainVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		want            string
	}{
		{"nothing known", "dev", "", nil, "dev"},
		{"go build without vcs", "dev", "", info("(devel)"), "dev (go1.26.8)"},
		{"go install", "dev", "", info("v1.4.0"), "v1.4.0 (go1.26.8)"},
		{"vcs stamps", "dev", "", info("(devel)", "vcs.revision", rev, "vcs.time", "2026-11-28T16:44:53Z", "vcs.modified", "true"),
			"dev (commit 0123456789ab-dirty, 2026-11-28T16:44:53Z, go1.26.8)"},
		{"ldflags dirty", "dev", rev + "-dirty", info("(devel)"), "dev (commit 0123456789ab-dirty, go1.26.8)"},
		{"ldflags clean, build modified", "dev", "abc1234", info("(devel)", "vcs.modified", "true"), "dev (commit abc1234, go1.26.8)"},
		{"clean tree", "", "", info("v1.4.1-0.20261128164453-0123456789ab", "vcs.revision", rev, "vcs.modified", "false"),
			"v1.4.1-0.20261128164453-0123456789ab (commit 0123456789ab, go1.26.8)"},
		{"ldflags win", "v1.2.3", "abc1234", info("v1.4.0", "vcs.revision", rev), "v1.2.3 (commit abc1234, go1.26.8)"},
		{"ldflags version only", "v1.2.3", "", nil, "v1.2.3"},
	}
	for _, tt := range tests {
		if got := versionString(tt.version, tt.commit, tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	isolate(t)
	defer func(v, c string) { Version, Commit = v, c }(Version, Commit)
	Version, Commit = "v9.8.7", "feedface"
	code, out, _ := runMain(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "xlate version v9.8.7 (commit feedface") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// TestVersionLdflags builds the binary the way a release does, so that the
// -X symbol names in the documentation are checked.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "xlate")
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X github.com/xlate/xlate/internal/cli.Version=v1.2.3 -X github.com/xlate/xlate/internal/cli.Commit=0a1b2c3d4e5f",
		"github.com/xlate/xlate")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--version")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "xlate version v1.2.3 (commit 0a1b2c3d4e5f") {
		t.Errorf("--version: %q", out.String())
	}
}
