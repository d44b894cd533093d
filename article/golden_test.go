package article

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// dump writes a readable, stable description of a parsed article: the
// front matter format and keys, title and source, then one line per block
// (continuation lines of multi-line text are indented with "  | ").
func dump(a *Article) string {
	var b strings.Builder
	keys := make([]string, 0, len(a.Meta.Fields))
	for k := range a.Meta.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(&b, "front-matter: %s [%s]\n", a.Meta.Format, strings.Join(keys, " "))
	fmt.Fprintf(&b, "title: %s\n", a.Title)
	fmt.Fprintf(&b, "source: %s\n", a.Source)
	fmt.Fprintf(&b, "blocks: %d\n", len(a.Blocks))
	for i, bl := range a.Blocks {
		fmt.Fprintf(&b, "%03d %s", i, bl.Kind)
		switch bl.Kind {
		case Heading:
			fmt.Fprintf(&b, " h%d", bl.Level)
		case ListItem:
			fmt.Fprintf(&b, " level=%d", bl.Level)
			if bl.Ordered {
				fmt.Fprintf(&b, " number=%d", bl.Number)
			}
		case Quote:
			fmt.Fprintf(&b, " level=%d", bl.Level)
		case Code:
			fmt.Fprintf(&b, " lang=%q", bl.Lang)
		}
		switch bl.Kind {
		case Image:
			fmt.Fprintf(&b, " src=%s alt=%q title=%q\n", bl.Src, bl.Alt, bl.Title)
		case SourceLink:
			fmt.Fprintf(&b, " src=%s text=%q\n", bl.Src, bl.Text)
		case Table:
			b.WriteString("\n")
			for _, row := range bl.Rows {
				fmt.Fprintf(&b, "  | %s |\n", strings.Join(row, " | "))
			}
		case Rule:
			b.WriteString("\n")
		default:
			b.WriteString(": ")
			b.WriteString(strings.ReplaceAll(bl.Text, "\n", "\n  | "))
			b.WriteString("\n")
		}
	}
	return b.String()
}

// checkGolden compares got with testdata file path, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from parse output (run go test -update and review the diff)\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, wl, gl)
		}
	}
	return ""
}

// TestGoldenCorpus parses the copies of corpus files in testdata/corpus and
// compares a dump of each with its .golden file.
func TestGoldenCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Parse(data, SyntaxAuto)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkGolden(t, f+".golden", dump(a))
		})
	}
	if n < 12 {
		t.Fatalf("found %d corpus files in testdata/corpus, want at least 12", n)
	}
}
