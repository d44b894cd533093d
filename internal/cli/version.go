package cli

import (
	"runtime/debug"
	"strings"
)

// Commit is the source revision, set at build time with -ldflags
// "-X github.com/xlate/xlate/internal/cli.Commit=..." where the build cannot
// stamp it (go build -buildvcs=false, a tarball, a git worktree: cmd/go
// stamps only a checkout with a .git directory); a "-dirty" suffix says the
// tree was modified. The build's own vcs.revision is used when this is
// empty.
var Commit = ""

// versionString is what --version prints after "xlate version ": the
// version (Version from -ldflags, else the module version of a go install
// or of a build stamped by git, else "dev"), then the commit ("-dirty" when
// the tree was modified), its time, and the Go version, as far as they are
// known: "dev (commit 0123456789ab-dirty, 2026-11-28T16:44:53Z, go1.26.8)".
func versionString(version, commit string, info *debug.BuildInfo) string {
	if version == "" || version == "dev" {
		version = "dev"
		if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
	}
	var when, goVersion string
	commit, modified := strings.CutSuffix(commit, "-dirty")
	fromBuild := commit == ""
	if info != nil {
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if fromBuild {
					modified = s.Value == "true"
				}
			}
		}
	}
	var details []string
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if modified {
			commit += "-dirty"
		}
		details = append(details, "commit "+commit)
	}
	if when != "" {
		details = append(details, when)
	}
	if goVersion != "" {
		details = append(details, goVersion)
	}
	if len(details) == 0 {
		return version
	}
	return version + " (" + strings.Join(details, ", ") + ")"
}

// buildVersion is versionString for this binary.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionString(Version, Commit, info)
}
