package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/cache"
)

func configCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print the effective settings, each with its value and where it came from (the API key redacted)",
		Description: `Sources, strongest first: flag, env VAR, config FILE:LINE, provider NAME (the preset), default.
The exit status is 2 if the settings could not run (a missing key, say), after printing them.

Examples:
   xlate config
   xlate config --provider deepseek
   XLATE_CONFIG=work.yaml xlate config`,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("config takes no arguments (to translate a file named %s, run: xlate ./%s)", c.Args().First(), c.Args().First())}
			}
			st, err := resolveSettings(c)
			if err != nil {
				return err
			}
			printSettings(s.Out, c, st)
			o, err := optionsFrom(c, st)
			if err != nil {
				return err
			}
			_, err = loadGlossary(o.glossary)
			return err
		},
	}
}

// printSettings writes one line per setting: name, value, source.
func printSettings(w io.Writer, c *cli.Context, st *settings) {
	cfg, src := st.configPath, st.configSrc.String()
	switch {
	case cfg == "":
		cfg = "(none)"
	case st.configFile == nil:
		src += ", not found"
	}
	fmt.Fprintf(w, "# config file: %s (%s)\n", cfg, src)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, f := range c.App.Flags {
		name := f.Names()[0]
		if noSetting[name] || notInConfig[name] {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, settingValue(c, name), st.sources[name])
	}
	tw.Flush()
}

// settingValue renders a setting's effective value for "xlate config".
func settingValue(c *cli.Context, name string) string {
	switch name {
	case "api-key":
		return redact(c.String(name))
	case "cache-dir":
		if c.String(name) == "" {
			if dir, err := cache.DefaultDir(); err == nil {
				return dir
			}
		}
	case "price-in", "price-out":
		if !c.IsSet(name) {
			return "(built-in table)"
		}
	}
	v := fmt.Sprint(c.Value(name))
	if v == "" {
		return "(none)"
	}
	return v
}

// redact shows enough of an API key to tell keys apart: "sk-…wxyz" for a
// long key, "(set)" for a short one.
func redact(key string) string {
	switch {
	case key == "":
		return "(none)"
	case len(key) < 20:
		return "(set)"
	}
	prefix := ""
	if i := strings.IndexAny(key, "-_"); i > 0 && i <= 8 {
		prefix = key[:i+1] // sk-, sk-or-…: the kind of key, not a secret
	}
	return prefix + "…" + key[len(key)-4:]
}

// commandFileNote warns when a command shadows a file or directory of the same name in
// the working directory: "xlate config" runs the command; "xlate ./config"
// translates the file.
func commandFileNote(w io.Writer, name string, st style) {
	if _, err := os.Stat(name); err == nil {
		fmt.Fprintf(w, "%s note: %q is a command; to translate ./%s, run: xlate ./%s\n", st.prefix(), name, name, name)
	}
}
