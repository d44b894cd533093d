package render

import (
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/xlate/xlate/article"
)

// hugoMarkdown parses like Hugo's default goldmark setup does (GFM plus
// definition lists and footnotes).
var hugoMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM, extension.DefinitionList, extension.Footnote))

// outline returns the block structure of md, e.g.
// "Document(Paragraph,Blockquote(Paragraph))". Front matter is cut off.
func outline(md string) string {
	if rest, ok := strings.CutPrefix(md, "---\n---\n"); ok {
		md = rest
	} else if strings.HasPrefix(md, "---\n") {
		if i := strings.Index(md[4:], "\n---\n"); i >= 0 {
			md = md[4+i+5:]
		}
	}
	src := []byte(md)
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		b.WriteString(n.Kind().String())
		var kids []ast.Node
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if c.Type() == ast.TypeBlock {
				kids = append(kids, c)
			}
		}
		if len(kids) == 0 {
			return
		}
		b.WriteByte('(')
		for i, c := range kids {
			if i > 0 {
				b.WriteByte(',')
			}
			walk(c)
		}
		b.WriteByte(')')
	}
	walk(hugoMarkdown.Parser().Parse(text.NewReader(src)))
	return b.String()
}

func TestGoldmarkStructure(t *testing.T) {
	p := func(s string) article.Block { return article.Block{Kind: article.Paragraph, Text: s} }
	tests := []struct {
		name   string
		d      Document
		layout Layout
		want   string
	}{
		{
			name:   "translation is in a block quote",
			d:      Document{Article: art(p("原文"))},
			layout: Bilingual,
			want:   "Document(Paragraph,Blockquote(Paragraph))",
		},
		{
			name:   "multi-line translation stays in its quote",
			d:      Document{Article: art(p("原文\n第二行")), Segments: []string{"one\n# two\n\n- three"}},
			layout: Bilingual,
			want:   "Document(Paragraph,Blockquote(Paragraph,Paragraph))",
		},
		{
			name:   "paragraph starting with 1. is not a list",
			d:      Document{Article: art(p("1. 不是列表\n2) 也不是\n- 更不是")), Segments: []string{"1. not a list"}},
			layout: Bilingual,
			want:   "Document(Paragraph,Blockquote(Paragraph))",
		},
		{
			name:   "setext, table and html lookalikes stay paragraphs",
			d:      Document{Article: art(p("标题\n===\n| a | b |\n|---|---|\n<div>\n---")), Segments: []string{"<!-- x -->\n```\n[a]: /b\n: def"}},
			layout: Bilingual,
			want:   "Document(Paragraph,Blockquote(Paragraph))",
		},
		{
			name: "list items contain their block quotes",
			d: Document{Article: art(
				article.Block{Kind: article.ListItem, Text: "一"},
				article.Block{Kind: article.ListItem, Level: 1, Ordered: true, Number: 1, Text: "甲"},
				article.Block{Kind: article.ListItem, Text: "二\n- 不是子项"},
			)},
			layout: Bilingual,
			want:   "Document(List(ListItem(TextBlock,Blockquote(Paragraph),List(ListItem(TextBlock,Blockquote(Paragraph)))),ListItem(TextBlock,Blockquote(Paragraph))))",
		},
		{
			name: "english list",
			d: Document{Article: art(
				article.Block{Kind: article.ListItem, Ordered: true, Number: 9, Text: "一"},
				article.Block{Kind: article.ListItem, Level: 1, Text: "甲"},
				article.Block{Kind: article.ListItem, Ordered: true, Number: 10, Text: "二"},
			)},
			layout: English,
			want:   "Document(List(ListItem(TextBlock,List(ListItem(TextBlock))),ListItem(TextBlock)))",
		},
		{
			name:   "headings",
			d:      Document{Article: art(article.Block{Kind: article.Heading, Level: 2, Text: "标题"})},
			layout: Bilingual,
			want:   "Document(Heading,Blockquote(Paragraph))",
		},
		{
			name: "quotes nest the translation",
			d: Document{Article: art(
				article.Block{Kind: article.Quote, Level: 1, Text: "引一"},
				article.Block{Kind: article.Quote, Level: 1, Text: "引二"},
			)},
			layout: Bilingual,
			want:   "Document(Blockquote(Paragraph,Blockquote(Paragraph),Paragraph,Blockquote(Paragraph)))",
		},
		{
			name:   "english quote",
			d:      Document{Article: art(article.Block{Kind: article.Quote, Level: 2, Text: "引"})},
			layout: English,
			want:   "Document(Blockquote(Blockquote(Paragraph)))",
		},
		{
			name:   "translated table is quoted",
			d:      Document{Article: art(article.Block{Kind: article.Table, Rows: [][]string{{"a", "b"}, {"c|d", ""}}})},
			layout: Bilingual,
			want:   "Document(Table(TableHeader(TableCell,TableCell),TableRow(TableCell,TableCell)),Blockquote(Table(TableHeader(TableCell,TableCell),TableRow(TableCell,TableCell))))",
		},
		{
			name: "summary, rule, code, image, link",
			d: Document{Article: art(
				article.Block{Kind: article.Image, Src: "a.png"},
				p("上"),
				article.Block{Kind: article.Rule},
				article.Block{Kind: article.Code, Text: "```\n"},
				article.Block{Kind: article.SourceLink, Src: "https://a.example/x"},
			), TLDR: "Short.", Points: []string{"a", "b"}},
			layout: English,
			want:   "Document(Paragraph,List(ListItem(TextBlock),ListItem(TextBlock)),Paragraph,Paragraph,ThematicBreak,FencedCodeBlock,Paragraph)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.d.Segments == nil {
				tt.d.Segments = fake(tt.d.Article, tt.layout)
			}
			md := render(t, tt.d, tt.layout)
			if got := outline(md); got != tt.want {
				t.Errorf("structure of\n%s\n= %s\nwant %s", md, got, tt.want)
			}
		})
	}
}

// TestGoldmarkEscapes puts every line that escapeLine must defuse at the
// start and in the middle of a paragraph, a list item and a quote, and
// checks that the structure does not change.
func TestGoldmarkEscapes(t *testing.T) {
	lines := []string{
		"# h", "## h", "> q", "- a", "+ a", "* a", "-", "1. a", "1) a", "7. a", "---", "--", "* * *", "___",
		"===", "```", "~~~", "    indented", "\tindented", "<div>", "<script>", "<!-- c -->", "<?php", "<!DOCTYPE html>",
		"<![CDATA[x]]>", "<br>", "</span>", "| --- | --- |", "--|--", ":--", ": def", "[a]: /url", "[^1]: note",
	}
	for _, l := range lines {
		for _, text := range []string{l, "前\n" + l, l + "\n后"} {
			cases := []struct {
				b    article.Block
				want string
			}{
				{article.Block{Kind: article.Paragraph, Text: text}, "Document(Paragraph,Blockquote(Paragraph))"},
				{article.Block{Kind: article.ListItem, Text: text}, "Document(List(ListItem(TextBlock,Blockquote(Paragraph))))"},
				{article.Block{Kind: article.Quote, Level: 1, Text: text}, "Document(Blockquote(Paragraph,Blockquote(Paragraph)))"},
			}
			for _, c := range cases {
				a := art(c.b)
				// The translation differs from the original, or it would show once.
				md := render(t, Document{Article: a, Segments: []string{text + " ·"}}, Bilingual)
				if got := outline(md); got != c.want {
					t.Errorf("%s %q: structure of\n%s\n= %s\nwant %s", c.b.Kind, text, md, got, c.want)
				}
			}
		}
	}
}
