package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/lang"
	"github.com/xlate/xlate/memory"
	"github.com/xlate/xlate/pipeline"
)

func tmCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:            "tm",
		Usage:           "list, unpin, export or import the translation memory (--memory-dir)",
		HideHelpCommand: true,
		Action:          groupAction,
		Description: `The memory holds the translations you corrected in xlate's outputs, pinned: a
pinned translation is used instead of any model's until you unpin it. It also keeps
a record of every output written, from which exports take the model's translations.

Examples:
   xlate tm list
   xlate tm unpin 3f2a9c01
   xlate tm export -o archive.tmx
   xlate tm export --pinned -o corrections.tmx
   xlate tm import corrections.tmx`,
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "print the pinned translations: id, language, source and translation",
				Action: func(c *cli.Context) error {
					m, err := tmOpen(c, 0)
					if err != nil {
						return err
					}
					pins, err := m.Pins()
					if err != nil {
						return err
					}
					for _, e := range pins {
						fmt.Fprintf(s.Out, "%s  %s  %s\n    %s\n", entryID(e), e.Lang, oneLineExcerpt(sourceName(e.Source), 70), oneLineExcerpt(e.Text, 70))
					}
					fmt.Fprintf(s.Err, "%d pinned translations in %s\n", len(pins), m.Dir())
					return nil
				},
			},
			{
				Name:      "unpin",
				Usage:     "drop pinned translations (by the id tm list shows), so that models translate those texts again",
				ArgsUsage: "ID...",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "all", Usage: "drop every pinned translation"},
				},
				Action: func(c *cli.Context) error {
					m, err := tmOpen(c, -1)
					if err != nil {
						return err
					}
					if c.NArg() == 0 && !c.Bool("all") {
						return usageError{errors.New("tm unpin takes the ids of pinned translations (see xlate tm list), or --all")}
					}
					pins, err := m.Pins()
					if err != nil {
						return err
					}
					var drop []memory.Entry
					if c.Bool("all") {
						drop = pins
					}
					for _, id := range c.Args().Slice() {
						i := slices.IndexFunc(pins, func(e memory.Entry) bool { return strings.HasPrefix(entryID(e), strings.ToLower(id)) })
						if i < 0 || len(id) < 4 {
							return usageError{fmt.Errorf("tm unpin: no pinned translation has the id %q (see xlate tm list)", id)}
						}
						drop = append(drop, pins[i])
					}
					n := 0
					for _, e := range drop {
						ok, err := m.Unpin(e.Lang, e.Source)
						if err != nil {
							return err
						}
						if ok {
							n++
						}
					}
					fmt.Fprintf(s.Out, "unpinned %d translations\n", n)
					return nil
				},
			},
			{
				Name:  "export",
				Usage: "write the memory as TMX 1.4b (for OmegaT, Trados, memoQ): the pinned translations and the latest translation of every segment of the outputs written",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "pinned", Usage: "only the pinned translations"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (default: stdout)"},
				},
				Action: func(c *cli.Context) error {
					m, err := tmOpen(c, 0)
					if err != nil {
						return err
					}
					es, err := exportEntries(m, c.Bool("pinned"))
					if err != nil {
						return err
					}
					var buf bytes.Buffer
					if err := memory.WriteTMX(&buf, es, lang.Code, Version); err != nil {
						return fmt.Errorf("tm export: %w", err)
					}
					if out := exportPath(c); out != "" {
						if err := atomicfile.Write(out, buf.Bytes()); err != nil {
							return fmt.Errorf("tm export: %w", err)
						}
					} else if _, err := s.Out.Write(buf.Bytes()); err != nil {
						return err
					}
					pinned := 0
					for _, e := range es {
						if e.Pinned {
							pinned++
						}
					}
					fmt.Fprintf(s.Err, "exported %d translation units (%d pinned)\n", len(es), pinned)
					return nil
				},
			},
			{
				Name:      "import",
				Usage:     "load a TMX file into the memory, pinned: its translations are used instead of any model's where a source equals a whole segment",
				ArgsUsage: "FILE",
				Action: func(c *cli.Context) error {
					m, err := tmOpen(c, 1)
					if err != nil {
						return err
					}
					file := c.Args().First()
					f, err := os.Open(file)
					if err != nil {
						return fmt.Errorf("tm import: %w", err)
					}
					defer f.Close()
					es, err := memory.ReadTMX(f, file, func(code string) string { return lang.Lookup(code).Name })
					if err != nil {
						return fmt.Errorf("tm import: %w", err)
					}
					now := time.Now().UTC().Truncate(time.Second)
					for i := range es {
						es[i].Pinned = true
						es[i].Origin = "import: " + file
						if es[i].Created.IsZero() {
							es[i].Created = now
						}
					}
					known, err := recordedSources(m)
					if err != nil {
						return err
					}
					st, err := m.Import(es)
					if err != nil {
						return fmt.Errorf("tm import: %w", err)
					}
					unmatched := 0
					for _, e := range es {
						if !known[e.Lang+"\x00"+e.Source] {
							unmatched++
						}
					}
					fmt.Fprintf(s.Out, "imported %d entries from %s, pinned: %d new, %d replaced, %d unchanged\n", len(es), file, st.New, st.Replaced, st.Same)
					if unmatched > 0 {
						fmt.Fprintf(s.Out, "%d of them match no segment of the outputs written so far (a source must equal a whole paragraph, heading, list item, quote or table cell; sentence-level units never match)\n", unmatched)
					}
					return nil
				},
			},
		},
	}
}

// exportPath is tm export's -o: "-o" after the command is the root's
// --output flag as the arguments are reordered, so either may hold it.
func exportPath(c *cli.Context) string {
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Command.Name == "tm" {
			continue // the group has no -o
		}
		if out := cc.String("output"); out != "" {
			return out
		}
	}
	return ""
}

// tmOpen resolves the settings and opens the memory; args is the number of
// arguments the command takes (-1: any).
func tmOpen(c *cli.Context, args int) (*memory.Memory, error) {
	switch {
	case args == 0 && c.NArg() > 0:
		return nil, usageError{fmt.Errorf("tm %s takes no arguments", c.Command.Name)}
	case args > 0 && c.NArg() != args:
		return nil, usageError{fmt.Errorf("tm %s takes %d argument(s): %s", c.Command.Name, args, c.Command.ArgsUsage)}
	}
	if _, err := resolveSettings(c); err != nil {
		return nil, err
	}
	return openMemory(c.String("memory-dir"))
}

// exportEntries are the pinned entries and, unless pinnedOnly, the
// translations of the outputs recorded (the latest per language and
// source), without summaries, empty translations, and texts left as
// they are.
func exportEntries(m *memory.Memory, pinnedOnly bool) ([]memory.Entry, error) {
	pins, err := m.Pins()
	if err != nil {
		return nil, err
	}
	byKey := map[string]memory.Entry{}
	key := func(e memory.Entry) string { return e.Lang + "\x00" + e.Source }
	for _, e := range pins {
		if !strings.HasPrefix(e.Source, pipeline.SummaryPrefix) {
			byKey[key(e)] = e
		}
	}
	if !pinnedOnly {
		err := m.Records(func(r memory.Record) error {
			for _, p := range append([]memory.Pair{r.Title}, r.Segments...) {
				if p.Source == "" || strings.TrimSpace(p.Text) == "" || p.Text == p.Source {
					continue
				}
				e := memory.Entry{Lang: r.Lang, Source: p.Source, Text: p.Text, Model: r.Model, Created: r.Written, Origin: r.Path}
				if old, ok := byKey[key(e)]; ok && (old.Pinned || old.Created.After(e.Created)) {
					continue
				}
				byKey[key(e)] = e
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	es := make([]memory.Entry, 0, len(byKey))
	for _, e := range byKey {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b memory.Entry) int {
		if c := strings.Compare(a.Lang, b.Lang); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
	return es, nil
}

// recordedSources are the language and source of every segment of the
// outputs recorded.
func recordedSources(m *memory.Memory) (map[string]bool, error) {
	known := map[string]bool{}
	err := m.Records(func(r memory.Record) error {
		for _, p := range append([]memory.Pair{r.Title}, r.Segments...) {
			known[r.Lang+"\x00"+p.Source] = true
		}
		return nil
	})
	return known, err
}

// entryID is the short id tm list shows for an entry.
func entryID(e memory.Entry) string {
	h := sha256.Sum256([]byte(e.Lang + "\x00" + e.Source))
	return hex.EncodeToString(h[:4])
}

// sourceName shows a source; an edited summary's is not text.
func sourceName(s string) string {
	if strings.HasPrefix(s, pipeline.SummaryPrefix) {
		return "(the summary of an article)"
	}
	return s
}

// oneLineExcerpt shows s on one line, cut to n runes.
func oneLineExcerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
