package render

import (
	"bytes"
	"testing"

	"github.com/xlate/xlate/article"
)

// FuzzStructure checks that any text, as original and as translation, keeps
// the block structure of a paragraph, a list item and a quote.
func FuzzStructure(f *testing.F) {
	for _, s := range []string{"plain", "1. x\n# y", "a  \nb", "<div>\n\n- x", "| a |\n|---|", "    code", "x\n===", "[a]: b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cases := []struct {
			b    article.Block
			want string
		}{
			{article.Block{Kind: article.Paragraph, Text: s}, "Document(Paragraph,Blockquote(Paragraph))"},
			{article.Block{Kind: article.ListItem, Text: s}, "Document(List(ListItem(TextBlock,Blockquote(Paragraph))))"},
			{article.Block{Kind: article.Quote, Level: 1, Text: s}, "Document(Blockquote(Paragraph,Blockquote(Paragraph)))"},
		}
		for _, c := range cases {
			a := art(c.b)
			// Keep to one paragraph: blank lines legitimately split it.
			if len(textLines(s, true, false)) != len(textLines(s, false, false)) || len(textLines(s, false, false)) == 0 {
				return
			}
			md := render(t, Document{Article: a, Segments: []string{s + " ·"}}, Bilingual)
			if got := outline(md); got != c.want {
				t.Errorf("%s %q: structure of\n%s\n= %s\nwant %s", c.b.Kind, s, md, got, c.want)
			}
		}
	})
}

// FuzzFrontMatter checks that any title, summary and model survive a round
// trip through each front matter format.
func FuzzFrontMatter(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, in := range fmInputs {
			a := &article.Article{Meta: article.FrontMatter{Format: in.format, Raw: in.raw}, Title: "原"}
			var b bytes.Buffer
			d := Document{Article: a, Title: s, TLDR: s, Model: s}
			if err := Markdown(&b, d, English); err != nil {
				t.Fatalf("%s: %v", in.name, err)
			}
			fm, _ := splitFrontMatter(t, in.format, b.String())
			got := decodeFM(t, in.format, fm)
			want := clean(s)
			for k, want := range map[string]string{keySummary: inert(want), keyTranslationModel: want} {
				if want != "" && got[k] != want {
					t.Errorf("%s: %s = %#v, want %q", in.name, k, got[k], want)
				}
			}
		}
	})
}
