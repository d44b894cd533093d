package render

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/xlate/xlate/article"
)

// art builds an article without front matter or title from blocks.
func art(blocks ...article.Block) *article.Article {
	return &article.Article{Blocks: blocks}
}

// fake is a deterministic translation: "EN(" + the first 20 runes + ")".
func fake(a *article.Article, layout Layout) []string {
	var out []string
	for _, s := range a.Segments(layout == English) {
		r := []rune(s.Text)
		out = append(out, "EN("+string(r[:min(len(r), 20)])+")")
	}
	return out
}

func render(t *testing.T, d Document, layout Layout) string {
	t.Helper()
	var b bytes.Buffer
	if err := Markdown(&b, d, layout); err != nil {
		t.Fatalf("Markdown: %v", err)
	}
	checkInvariants(t, b.String())
	return b.String()
}

var reFence = regexp.MustCompile("^(```+|~~~+)")

// checkInvariants checks the output rules that hold for every document: one
// final newline, no trailing white space but two-space hard breaks, never
// three blank lines in a row (code blocks and the original front matter,
// kept as it was, excepted).
func checkInvariants(t *testing.T, out string) {
	t.Helper()
	if out == "" {
		return
	}
	if !strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\n\n") {
		t.Errorf("output does not end with exactly one newline: %q", out[max(0, len(out)-20):])
	}
	for _, delim := range []string{"---\n", "+++\n"} {
		if strings.HasPrefix(out, delim) {
			if i := strings.Index(out[len(delim)-1:], "\n"+delim); i >= 0 {
				out = out[len(delim)-1+i+len(delim)+1:]
			}
		}
	}
	if strings.HasPrefix(out, "{") {
		if _, rest, ok := strings.Cut(out, "\n}\n"); ok {
			out = rest
		}
	}
	fence := ""
	blank := 0
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if fence != "" {
			if strings.TrimSpace(l) == fence {
				fence = ""
			}
			continue
		}
		if m := reFence.FindString(l); m != "" {
			fence = m
			continue
		}
		if trimmed := strings.TrimRight(l, " \t"); trimmed != l && (l[len(l)-1] == '\t' || len(l)-len(trimmed) != 2 || trimmed == "" || strings.TrimLeft(trimmed, "> ") == "") {
			t.Errorf("line %d has trailing white space that is not a hard break: %q", i+1, l)
		}
		if l == "" {
			blank++
			if blank >= 3 {
				t.Errorf("line %d: three blank lines in a row", i+1)
			}
		} else {
			blank = 0
		}
	}
}

func TestParseLayout(t *testing.T) {
	tests := []struct {
		in      string
		want    Layout
		wantErr bool
	}{
		{"bilingual", Bilingual, false},
		{"english", English, false},
		{" English ", English, false},
		{"BILINGUAL", Bilingual, false},
		{"", 0, true},
		{"chinese", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLayout(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLayout(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestBlocks(t *testing.T) {
	tests := []struct {
		name      string
		blocks    []article.Block
		tr        []string // nil: the fake translation
		bilingual string
		english   string
	}{
		{
			name:      "paragraph",
			blocks:    []article.Block{{Kind: article.Paragraph, Text: "你好，世界。"}},
			bilingual: "你好，世界。\n\n> EN(你好，世界。)\n",
			english:   "EN(你好，世界。)\n",
		},
		{
			name:      "paragraph with hard breaks and a multi-line translation",
			blocks:    []article.Block{{Kind: article.Paragraph, Text: "第一行  \n第二行 \n第三行  "}},
			tr:        []string{"Line one  \nline two\n\nsecond paragraph"},
			bilingual: "第一行  \n第二行\n第三行\n\n> Line one  \n> line two\n>\n> second paragraph\n",
			english:   "Line one  \nline two\n\nsecond paragraph\n",
		},
		{
			name:      "paragraphs that look like block syntax",
			blocks:    []article.Block{{Kind: article.Paragraph, Text: "1. 不是列表\n# 不是标题\n- 不是\n---\n    缩进"}},
			tr:        []string{"2) not a list\n> not a quote\n==="},
			bilingual: "1\\. 不是列表\n\\# 不是标题\n\\- 不是\n\\---\n缩进\n\n> 2\\) not a list\n> \\> not a quote\n> \\===\n",
			english:   "2\\) not a list\n\\> not a quote\n\\===\n",
		},
		{
			name:      "empty translation",
			blocks:    []article.Block{{Kind: article.Paragraph, Text: "原文"}},
			tr:        []string{" "},
			bilingual: "原文\n",
			english:   "原文\n",
		},
		{
			name:      "heading",
			blocks:    []article.Block{{Kind: article.Heading, Level: 3, Text: "小标题"}},
			bilingual: "### 小标题\n\n> EN(小标题)\n",
			english:   "### EN(小标题)\n",
		},
		{
			name:      "heading with closing hashes, line break and bad level",
			blocks:    []article.Block{{Kind: article.Heading, Level: 9, Text: "C #"}},
			tr:        []string{"C\nsharp ##"},
			bilingual: "###### C \\#\n\n> C sharp ##\n",
			english:   "###### C sharp \\##\n",
		},
		{
			name: "list",
			blocks: []article.Block{
				{Kind: article.ListItem, Text: "一"},
				{Kind: article.ListItem, Text: "二"},
			},
			bilingual: "- 一\n  > EN(一)\n- 二\n  > EN(二)\n",
			english:   "- EN(一)\n- EN(二)\n",
		},
		{
			name: "nested ordered list",
			blocks: []article.Block{
				{Kind: article.ListItem, Ordered: true, Number: 1, Text: "一"},
				{Kind: article.ListItem, Level: 1, Text: "甲\n1. 乙"},
				{Kind: article.ListItem, Level: 3, Ordered: true, Number: 10, Text: "丙"},
				{Kind: article.ListItem, Ordered: true, Number: 2, Text: "二"},
			},
			tr:        []string{"One", "A\nB", "C", "Two"},
			bilingual: "1. 一\n   > One\n   - 甲\n     1\\. 乙\n     > A\n     > B\n     10. 丙\n         > C\n2. 二\n   > Two\n",
			english:   "1. One\n   - A\n     B\n     10. C\n2. Two\n",
		},
		{
			name: "unnumbered ordered items count from one",
			blocks: []article.Block{
				{Kind: article.ListItem, Ordered: true, Text: "一"},
				{Kind: article.ListItem, Ordered: true, Text: "二"},
			},
			tr:        []string{"", ""},
			bilingual: "1. 一\n2. 二\n",
			english:   "1. 一\n2. 二\n",
		},
		{
			name: "lists separated by a paragraph",
			blocks: []article.Block{
				{Kind: article.ListItem, Text: "一"},
				{Kind: article.Paragraph, Text: "段"},
				{Kind: article.ListItem, Text: "二"},
			},
			english:   "- EN(一)\n\nEN(段)\n\n- EN(二)\n",
			bilingual: "- 一\n  > EN(一)\n\n段\n\n> EN(段)\n\n- 二\n  > EN(二)\n",
		},
		{
			name: "quotes",
			blocks: []article.Block{
				{Kind: article.Quote, Level: 1, Text: "引一"},
				{Kind: article.Quote, Level: 1, Text: "引二"},
				{Kind: article.Quote, Level: 2, Text: "深"},
			},
			bilingual: "> 引一\n>\n> > EN(引一)\n>\n> 引二\n>\n> > EN(引二)\n\n> > 深\n> >\n> > > EN(深)\n",
			english:   "> EN(引一)\n>\n> EN(引二)\n\n> > EN(深)\n",
		},
		{
			name:      "quote with level 0 and a multi-line translation",
			blocks:    []article.Block{{Kind: article.Quote, Text: "引"}},
			tr:        []string{"a\n\n# b"},
			bilingual: "> 引\n>\n> > a\n> >\n> > \\# b\n",
			english:   "> a\n>\n> \\# b\n",
		},
		{
			name: "table",
			blocks: []article.Block{{Kind: article.Table, Rows: [][]string{
				{"名称", "值"},
				{"a|b", ""},
				{"多\n行"},
			}}},
			tr:        []string{"Name", "Value", "A|B", "multi\nline"},
			bilingual: "| 名称 | 值 |\n| --- | --- |\n| a\\|b |  |\n| 多<br>行 |  |\n\n> | Name | Value |\n> | --- | --- |\n> | A\\|B |  |\n> | multi<br>line |  |\n",
			english:   "| Name | Value |\n| --- | --- |\n| A\\|B |  |\n| multi<br>line |  |\n",
		},
		{
			name:      "table cell already escaped",
			blocks:    []article.Block{{Kind: article.Table, Rows: [][]string{{`a\|b`, "`x|y`"}}}},
			tr:        []string{`A\|B`, "`X|Y`"},
			bilingual: "| a\\|b | `x\\|y` |\n| --- | --- |\n\n> | A\\|B | `X\\|Y` |\n> | --- | --- |\n",
			english:   "| A\\|B | `X\\|Y` |\n| --- | --- |\n",
		},
		{
			name:      "empty table",
			blocks:    []article.Block{{Kind: article.Table}},
			bilingual: "",
			english:   "",
		},
		{
			name:      "image",
			blocks:    []article.Block{{Kind: article.Image, Src: "https://img.example/a b(1).png", Alt: "图[1]", Title: `say "hi"`}},
			bilingual: "![图\\[1\\]](https://img.example/a%20b%281%29.png \"say \\\"hi\\\"\")\n",
			english:   "![EN(图\\[1\\])](https://img.example/a%20b%281%29.png \"say \\\"hi\\\"\")\n",
		},
		{
			name:      "image without source",
			blocks:    []article.Block{{Kind: article.Image, Alt: "x"}},
			bilingual: "",
			english:   "",
		},
		{
			name:      "code",
			blocks:    []article.Block{{Kind: article.Code, Lang: "go", Text: "x := 1\n\n\n\ny := \"```\"\n"}},
			bilingual: "````go\nx := 1\n\n\n\ny := \"```\"\n````\n",
			english:   "````go\nx := 1\n\n\n\ny := \"```\"\n````\n",
		},
		{
			name:      "code with a backtick in the info string",
			blocks:    []article.Block{{Kind: article.Code, Lang: "a`b", Text: "~~~~"}},
			bilingual: "~~~~~a`b\n~~~~\n~~~~~\n",
			english:   "~~~~~a`b\n~~~~\n~~~~~\n",
		},
		{
			name: "rule",
			blocks: []article.Block{
				{Kind: article.Paragraph, Text: "上"},
				{Kind: article.Rule},
			},
			tr:        []string{"Up"},
			bilingual: "上\n\n> Up\n\n---\n",
			english:   "Up\n\n---\n",
		},
		{
			name:      "rule first gets an empty front matter",
			blocks:    []article.Block{{Kind: article.Rule}},
			bilingual: "---\n---\n\n---\n",
			english:   "---\n---\n\n---\n",
		},
		{
			name:      "source link",
			blocks:    []article.Block{{Kind: article.SourceLink, Src: "https://www.cnbeta.com.tw/articles/1.htm", Text: "原文链接"}},
			bilingual: "[原文链接](https://www.cnbeta.com.tw/articles/1.htm)\n",
			english:   "[Original article](https://www.cnbeta.com.tw/articles/1.htm)\n",
		},
		{
			name:      "source link without text",
			blocks:    []article.Block{{Kind: article.SourceLink, Src: "https://a.example/"}},
			bilingual: "[原文链接](https://a.example/)\n",
			english:   "[Original article](https://a.example/)\n",
		},
		{
			name:      "empty blocks",
			blocks:    []article.Block{{Kind: article.Paragraph}, {Kind: article.ListItem, Text: " "}, {Kind: article.Heading}},
			tr:        []string{" "},
			bilingual: "",
			english:   "",
		},
	}
	for _, tt := range tests {
		a := art(tt.blocks...)
		for _, layout := range []Layout{Bilingual, English} {
			tr := tt.tr
			if tr == nil {
				tr = fake(a, layout)
			}
			t.Run(tt.name+"/"+layout.String(), func(t *testing.T) {
				want := tt.bilingual
				if layout == English {
					want = tt.english
				}
				got := render(t, Document{Article: a, Segments: tr}, layout)
				if got != want {
					t.Errorf("got:\n%s\nwant:\n%s\n(got %q)", got, want, got)
				}
			})
		}
	}
}

func TestSummary(t *testing.T) {
	a := art(article.Block{Kind: article.Paragraph, Text: "正文"})
	tests := []struct {
		name   string
		tldr   string
		points []string
		want   string
	}{
		{"none", "", []string{"ignored"}, "正文\n\n> EN(正文)\n"},
		{"tldr only", "It is short.", nil, "**TL;DR:** It is short.\n\n正文\n\n> EN(正文)\n"},
		{
			"points", "# Not a heading\n1. still the summary", []string{"one", "", "two\n- lines"},
			"**TL;DR:** # Not a heading\n1\\. still the summary\n\n- one\n- two\n  \\- lines\n\n正文\n\n> EN(正文)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Document{Article: a, Segments: fake(a, Bilingual), TLDR: tt.tldr, Points: tt.points}
			got := render(t, d, Bilingual)
			// The front matter only carries the summary.
			if tt.tldr != "" {
				_, got, _ = strings.Cut(got, "---\n\n")
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestMarkdownErrors(t *testing.T) {
	a := art(article.Block{Kind: article.Paragraph, Text: "一"}, article.Block{Kind: article.Paragraph, Text: "二"})
	tests := []struct {
		name   string
		d      Document
		layout Layout
		want   string
	}{
		{"no article", Document{}, Bilingual, "no article"},
		{"too few", Document{Article: a, Segments: []string{"x"}}, Bilingual, "1 translations for 2 segments"},
		{"too many", Document{Article: a, Segments: []string{"x", "y", "z"}}, English, "3 translations for 2 segments"},
		{"bad layout", Document{Article: a, Segments: []string{"x", "y"}}, Layout(7), "unknown layout"},
		{"bad yaml", Document{Article: &article.Article{Meta: article.FrontMatter{Format: article.YAML, Raw: "a: [\n"}}}, English, "front matter: yaml"},
		{"yaml list", Document{Article: &article.Article{Meta: article.FrontMatter{Format: article.YAML, Raw: "- a\n"}}}, English, "not a mapping"},
		{"bad toml", Document{Article: &article.Article{Meta: article.FrontMatter{Format: article.TOML, Raw: "a = \n"}}}, English, "front matter: toml: line 1"},
		{"bad json", Document{Article: &article.Article{Meta: article.FrontMatter{Format: article.JSON, Raw: `{"a": }`}}}, English, "front matter: json"},
		{"json array", Document{Article: &article.Article{Meta: article.FrontMatter{Format: article.JSON, Raw: `[1]`}}}, English, "not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Markdown(&b, tt.d, tt.layout)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "render: ") {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q on error", b.String())
			}
		})
	}
}

type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestMarkdownWriteError(t *testing.T) {
	a := art(article.Block{Kind: article.Rule})
	if err := Markdown(failWriter{}, Document{Article: a}, English); !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want %v wrapped", err, errDisk)
	}
}

func TestEscapeLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"# h", `\# h`},
		{"#tag", `\#tag`},
		{"> q", `\> q`},
		{"- a", `\- a`},
		{"-a", "-a"},
		{"+ a", `\+ a`},
		{"* a", `\* a`},
		{"*emph*", "*emph*"},
		{"**strong**", "**strong**"},
		{"-", `\-`},
		{"1. a", `1\. a`},
		{"123) a", `123\) a`},
		{"1.5 million", "1.5 million"},
		{"1234567890. a", "1234567890. a"},
		{"---", `\---`},
		{"--", `\--`},
		{"* * *", `\* * *`},
		{"___", `\___`},
		{"===", `\===`},
		{"=5", "=5"},
		{"```go", "\\```go"},
		{"~~~", `\~~~`},
		{"`code` x", "`code` x"},
		{"~~del~~", "~~del~~"},
		{"<div>", `\<div>`},
		{"<DIV class=x>y", `\<DIV class=x>y`},
		{"<script>", `\<script>`},
		{"<!-- c -->", `\<!-- c -->`},
		{"<br>", `\<br>`},
		{"<span class=\"a\">", `\<span class="a">`},
		{"</span>", `\</span>`},
		{"<sup>2</sup> x", "<sup>2</sup> x"},
		{"<https://a.example>", "<https://a.example>"},
		{"| --- | --- |", `\| --- \| --- \|`},
		{"--|--", `\--\|--`},
		{":--", `\:--`},
		{": def", `\: def`},
		{"a | b", "a | b"},
		{"[a]: /url", `\[a]: /url`},
		{"[^1]: note", `\[^1]: note`},
		{"[link](/x)", "[link](/x)"},
	}
	for _, tt := range tests {
		if got := escapeLine(tt.in); got != tt.want {
			t.Errorf("escapeLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapePipes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a|b", `a\|b`},
		{`a\|b`, `a\|b`},
		{`a\\|b`, `a\\\|b`},
		{"||", `\|\|`},
		{"none", "none"},
	}
	for _, tt := range tests {
		if got := escapePipes(tt.in); got != tt.want {
			t.Errorf("escapePipes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestModelTextIsInert: no raw HTML and no Hugo shortcode from the model
// reaches a page, wherever it stands in a line; code spans and the
// markdown the model is asked to keep stay as they are.
func TestModelTextIsInert(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a <script>x</script> b", `a \<script>x\</script> b`},
		{"<article>summary", `\<article>summary`},
		{"x <!-- c --> <?php <!DOCTYPE", `x \<!-- c --> \<?php \<!DOCTYPE`},
		{"keep `<b>` and **bold** [l](L1)", "keep `<b>` and **bold** [l](L1)"},
		{"``a ` <i> `` then <i>", "``a ` <i> `` then \\<i>"},
		{"unclosed ` <i>", "unclosed ` \\<i>"},
		{`already \<b> escaped`, `already \<b> escaped`},
		{"1 < 2 and a<b", `1 < 2 and a\<b`},
		{"{{< shortcode >}} {{% x %}}", `{{\< shortcode >}} {{\% x %}}`},
	}
	for _, tt := range tests {
		if got := inert(tt.in); got != tt.want {
			t.Errorf("inert(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Through the renderer, in the TL;DR, its points, a paragraph, a
	// heading, a list item, a quote and a table cell.
	a := art(
		article.Block{Kind: article.Paragraph, Text: "段落"},
		article.Block{Kind: article.Heading, Level: 2, Text: "标题"},
		article.Block{Kind: article.ListItem, Text: "条目"},
		article.Block{Kind: article.Quote, Level: 1, Text: "引用"},
		article.Block{Kind: article.Table, Rows: [][]string{{"表"}}},
	)
	evil := "x <img src=y onerror=z> y"
	for _, layout := range []Layout{Bilingual, English} {
		md := render(t, Document{Article: a, Segments: []string{evil, evil, evil, evil, evil}, TLDR: evil, Points: []string{evil}}, layout)
		if n := strings.Count(md, `\<img`); n != 8 || strings.Count(md, "<img") != n {
			t.Errorf("%s: %d of %d <img escaped in\n%s", layout, n, strings.Count(md, "<img"), md)
		}
	}
}
