package cli

import (
	"runtime/debug"
	"strings"
)

// Commit is the source revision, set at build time with -ldflags
// "-X github.com/xlate/xlate/internal/cli.Commit=..." where the build cannot
// stamp it (go build -buildvcs=false, a tarball). The build's own
// vcs.revision is used when this is empty.
var Commit = ""

// versionString is what --version prints after "xlate version ": the
// version (Version from -ldflags, else the module version of a go install,
// else "dev"), then the commit, its time and whether the tree was modified,
// and the Go version, as far as they are known.
func versionString(version, commit string, info *debug.BuildInfo) string {
	if version == "" || version == "dev" {
		version = "dev"
		if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
	}
	var when, goVersion string
	modified := false
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
				modified = s.Value == "true"
			}
		}
	}
	var details []string
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		details = append(details, "commit "+commit)
	}
	if when != "" {
		details = append(details, when)
	}
	if modified {
		details = append(details, "modified")
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
