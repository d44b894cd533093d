package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xlate/xlate/article"
)

// corpusDir holds the parser's test inputs; rendering them checks the
// renderer against real articles.
const corpusDir = "../article/testdata/corpus"

// TestCorpus parses every input of the article package's corpus, renders it
// with the fake translation and compares the bilingual output with
// testdata/corpus/NAME.golden.md. The English layout is checked for the
// output rules only.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if os.IsNotExist(err) {
		t.Skip("no article corpus")
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.Contains(name, ".golden") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := article.Parse(data, article.SyntaxAuto)
			if err != nil {
				t.Fatalf("article.Parse: %v", err)
			}
			d := Document{
				Article:  a,
				Segments: fake(a, Bilingual),
				TLDR:     "A one-sentence summary.",
				Points:   []string{"First point.", "Second point.", "Third point."},
				Model:    "fake-model",
			}
			if a.Title != "" {
				d.Title = "EN(" + a.Title + ")"
			}
			golden(t, filepath.Join("corpus", name+".golden.md"), render(t, d, Bilingual))
			d.Segments = fake(a, English)
			outline(render(t, d, English)) // must parse
		})
	}
	if n == 0 {
		t.Skip("empty article corpus")
	}
}
