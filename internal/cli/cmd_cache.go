package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/cache"
)

// groupAction is the action of a command that only groups others: its
// help without arguments, else an unknown command with the closest name.
func groupAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowSubcommandHelp(c)
	}
	var names []string
	for _, sc := range c.Command.Subcommands {
		if !sc.Hidden && sc.Name != "help" {
			names = append(names, sc.Name)
		}
	}
	return &unknownCommandError{parent: c.Command.Name, name: c.Args().First(), guess: closest(c.Args().First(), names)}
}

func cacheCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:            "cache",
		Usage:           "show, prune or clear the translation cache (--cache-dir)",
		HideHelpCommand: true,
		Action:          groupAction,
		Description: `Examples:
   xlate cache stats
   xlate cache prune --older-than 30d
   xlate cache clear --cache-dir /tmp/xlate-cache`,
		Subcommands: []*cli.Command{
			{
				Name:  "stats",
				Usage: "print the cache's path, number of entries and size",
				Action: func(c *cli.Context) error {
					dir, exists, err := cacheDir(c)
					if err != nil {
						return err
					}
					n, size := 0, int64(0)
					if exists {
						d, err := cache.Open(dir)
						if err != nil {
							return err
						}
						if n, size, err = d.Entries(); err != nil {
							return err
						}
					}
					fmt.Fprintf(s.Out, "path:     %s\nentries:  %d\nsize:     %s\n", dir, n, humanBytes(size))
					return nil
				},
			},
			{
				Name:  "clear",
				Usage: "remove every entry",
				Action: func(c *cli.Context) error {
					d, err := existingCache(c, s.Out)
					if d == nil {
						return err
					}
					n, size, err := d.Entries()
					if err != nil {
						return err
					}
					if err := d.Clear(); err != nil {
						return err
					}
					fmt.Fprintf(s.Out, "removed %d entries (%s) from %s\n", n, humanBytes(size), d.Path())
					return nil
				},
			},
			{
				Name:      "prune",
				Usage:     "remove the entries written longer ago than --older-than",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "older-than", Value: "30d", Usage: "`AGE` such as 30d, 12h or 1d12h"},
				},
				Action: func(c *cli.Context) error {
					age, err := parseAge(c.String("older-than"))
					if err != nil {
						return usageError{fmt.Errorf("--older-than: %w", err)}
					}
					d, err := existingCache(c, s.Out)
					if d == nil {
						return err
					}
					n, err := d.Prune(age)
					if err != nil {
						return err
					}
					left, size, err := d.Entries()
					if err != nil {
						return err
					}
					fmt.Fprintf(s.Out, "removed %d entries older than %s; %d left (%s) in %s\n", n, c.String("older-than"), left, humanBytes(size), d.Path())
					return nil
				},
			},
		},
	}
}

// cacheDir resolves the settings and returns the cache directory and
// whether it exists (the cache commands never create it).
func cacheDir(c *cli.Context) (dir string, exists bool, err error) {
	if c.NArg() > 0 {
		return "", false, usageError{fmt.Errorf("cache %s takes no arguments", c.Command.Name)}
	}
	if _, err := resolveSettings(c); err != nil {
		return "", false, err
	}
	dir = c.String("cache-dir")
	if dir == "" {
		if dir, err = cache.DefaultDir(); err != nil {
			return "", false, usageError{fmt.Errorf("no cache directory (%v): pass --cache-dir", err)}
		}
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, false, nil
	case err != nil:
		return "", false, fmt.Errorf("cache: %w", err)
	case !fi.IsDir():
		return "", false, usageError{fmt.Errorf("cache: %s is not a directory", dir)}
	}
	return dir, true, nil
}

// parseAge parses a duration that may start with a number of days: "30d",
// "1d12h", "1.5d", as well as anything time.ParseDuration takes ("12h",
// "90m"). It must not be negative.
func parseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var d time.Duration
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("%q: want an age such as 30d, 12h or 1d12h", s)
		}
		d = time.Duration(days * 24 * float64(time.Hour))
		in = in[i+1:]
	}
	if in != "" {
		rest, err := time.ParseDuration(in)
		if err != nil || rest < 0 {
			return 0, fmt.Errorf("%q: want an age such as 30d, 12h or 1d12h", s)
		}
		d += rest
	} else if d == 0 && !strings.HasSuffix(strings.TrimSpace(s), "d") {
		return 0, fmt.Errorf("%q: want an age such as 30d, 12h or 1d12h", s)
	}
	return d, nil
}

// humanBytes renders a size: "0 B", "512 B", "1.5 KiB", "12.3 MiB".
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, unit := float64(n), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if f < 1024 {
			break
		}
		f, unit = f/1024, u
	}
	return fmt.Sprintf("%.1f %s", f, unit)
}

// existingCache opens the cache for clear and prune. With no cache yet, it
// says so on out and returns a nil *cache.Dir (and a nil error).
func existingCache(c *cli.Context, out io.Writer) (*cache.Dir, error) {
	dir, exists, err := cacheDir(c)
	if err != nil {
		return nil, err
	}
	if !exists {
		fmt.Fprintf(out, "removed 0 entries (no cache at %s)\n", dir)
		return nil, nil
	}
	return cache.Open(dir)
}
