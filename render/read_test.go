package render

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xlate/xlate/article"
)

// corpusFile is one input of the round trip tests.
type corpusFile struct {
	name string
	a    *article.Article
	size int // of the input file
}

// readCorpus parses the repository's corpus (testdata/corpus), the
// article package's corpus and the articles of render's golden tests.
func readCorpus(t testing.TB) []corpusFile {
	t.Helper()
	var out []corpusFile
	for _, dir := range []string{"../testdata/corpus", corpusDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.Contains(e.Name(), ".golden") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			a, err := article.Parse(data, article.SyntaxAuto)
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			out = append(out, corpusFile{filepath.Base(dir) + "/" + e.Name(), a, len(data)})
		}
	}
	for _, in := range fmInputs {
		out = append(out, corpusFile{"golden/" + in.name, goldenArticle(article.FrontMatter{Format: in.format, Raw: in.raw}), 0})
	}
	return append(out, corpusFile{"synthetic/sink", sinkArticle(), 0})
}

// trickyTranslations are model outputs that exercise the renderer's
// escaping; %s is the original.
var trickyTranslations = []string{
	"EN: %s",
	"Line one  \nline two\n# not a heading",
	"**bold** and [a link](https://x.example/) and `code <b>`",
	"a <b>tag</b> and {{< shortcode >}} {{% x %}} and 1 < 2",
	"> quoted start\n- dash start\n1. one\n---\n===",
	"pipe | in | text\nand \\| escaped",
	"EN: %s",
	"first paragraph\n\nsecond paragraph",
	"```\nfence line\n~~~ tilde",
	"trailing hashes ##",
	"",
	"<br> literal and a trailing backslash\\",
	"  \\# already escaped\n\\<b> and \\- x\n1\\. y",
	"%s",
	"<div>\n| --- | --- |\n[ref]: /x\n: def",
	"mixed CRLF\r\nlines \r\n\r\n\r\nand blank runs",
}

// fakeTranslations gives segment i of a the i-th tricky translation.
func fakeTranslations(a *article.Article, layout Layout) []string {
	var out []string
	for i, s := range a.Segments(layout == English) {
		f := trickyTranslations[i%len(trickyTranslations)]
		if strings.Contains(f, "%s") {
			f = fmt.Sprintf(f, s.Text)
		}
		out = append(out, f)
	}
	return out
}

func fakeDocument(a *article.Article, layout Layout) Document {
	d := Document{
		Article:  a,
		Segments: fakeTranslations(a, layout),
		TLDR:     "A summary with <b> and\n# a line start",
		Points:   []string{"First point.", "- second\npoint", "", "third `x`"},
		Model:    "fake-model",
	}
	if a.Title != "" {
		d.Title = "EN: " + a.Title
	}
	return d
}

func mustRender(t testing.TB, d Document, layout Layout) string {
	t.Helper()
	var b bytes.Buffer
	if err := Markdown(&b, d, layout); err != nil {
		t.Fatalf("Markdown: %v", err)
	}
	return b.String()
}

// checkRoundTrip renders d, reads it back and checks the slots against
// CanonSlots and Canon, and that the slots render the same file.
func checkRoundTrip(t *testing.T, d Document, layout Layout) {
	t.Helper()
	out := mustRender(t, d, layout)
	got, err := Read([]byte(out), d, layout)
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, numbered(out))
	}
	want, err := CanonSlots(d, layout)
	if err != nil {
		t.Fatalf("CanonSlots: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got.Segments), len(want.Segments)) {
			if i < len(got.Segments) && i < len(want.Segments) && got.Segments[i] != want.Segments[i] {
				t.Errorf("segment %d: Read %q, CanonSlots %q (translation %q)", i, got.Segments[i], want.Segments[i], d.Segments[i])
			}
		}
		g, w := got, want
		g.Segments, w.Segments = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("Read:\n%#v\nCanonSlots:\n%#v", g, w)
		}
	}
	// Paragraph-like translations read back as Canon.
	for i, s := range d.Article.Segments(layout == English) {
		if s.Block < 0 {
			continue
		}
		b := d.Article.Blocks[s.Block]
		tr := strings.TrimSpace(d.Segments[i])
		paraLike := b.Kind == article.Paragraph || b.Kind == article.Quote || b.Kind == article.ListItem && layout == Bilingual
		if paraLike && got.Segments[i] != "" && got.Segments[i] != Canon(tr) {
			t.Errorf("segment %d (%s): Read %q, Canon %q", i, b.Kind, got.Segments[i], Canon(tr))
		}
		if layout == Bilingual && paraLike && tr != "" && tr != strings.TrimSpace(s.Text) && got.Segments[i] == "" {
			t.Errorf("segment %d (%s): translation %q not read", i, b.Kind, tr)
		}
	}
	// The slots render the same file.
	d2 := d
	d2.Segments = got.Segments
	if out2 := mustRender(t, d2, layout); out2 != out {
		t.Errorf("the read slots render differently:\n%s", diff(out, out2))
	}
	// And so do the summary and points, in the body.
	d2.TLDR, d2.Points = got.TLDR, got.Points
	if b1, b2 := cutBody(out), cutBody(mustRender(t, d2, layout)); b1 != b2 {
		t.Errorf("the read summary renders differently:\n%s", diff(b1, b2))
	}
}

// cutBody drops a front matter.
func cutBody(out string) string {
	_, body, _, _ := splitOutput(out)
	return body
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d %s\n", i+1, l)
	}
	return b.String()
}

// diff shows the first differing line of a and b.
func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, x, y)
		}
	}
	return "(same lines)"
}

func TestReadRoundTrip(t *testing.T) {
	for _, f := range readCorpus(t) {
		for _, layout := range []Layout{Bilingual, English} {
			t.Run(f.name+"/"+layout.String(), func(t *testing.T) {
				checkRoundTrip(t, fakeDocument(f.a, layout), layout)
				// The plain fake translation of the other tests.
				d := fakeDocument(f.a, layout)
				d.Segments = fake(f.a, layout)
				checkRoundTrip(t, d, layout)
				// No translations at all.
				d.Segments = make([]string, len(d.Segments))
				checkRoundTrip(t, d, layout)
			})
		}
	}
}

// sinkArticle has every block kind and the shapes the corpus lacks: deep
// quotes, ordered and nested lists, tables with empty cells, an image
// with a Chinese alt text and title, a front matter description.
func sinkArticle() *article.Article {
	return &article.Article{
		Meta: article.FrontMatter{Format: article.YAML, Raw: "title: 标题\ndescription: 描述\ntags: [a]\n",
			Fields: map[string]any{"title": "标题", "description": "描述", "tags": []any{"a"}}},
		Title: "标题",
		Blocks: []article.Block{
			{Kind: article.Paragraph, Text: "第一段"},
			{Kind: article.Paragraph, Text: "第二段\n有两行  \n和硬换行"},
			{Kind: article.Paragraph, Text: "第三段"},
			{Kind: article.Heading, Level: 1, Text: "一级标题"},
			{Kind: article.Heading, Level: 3, Text: "C #"},
			{Kind: article.ListItem, Ordered: true, Number: 1, Text: "一"},
			{Kind: article.ListItem, Level: 1, Text: "甲"},
			{Kind: article.ListItem, Level: 2, Ordered: true, Number: 3, Text: "子"},
			{Kind: article.ListItem, Ordered: true, Number: 2, Text: "二"},
			{Kind: article.Quote, Level: 1, Text: "引一"},
			{Kind: article.Quote, Level: 1, Text: "引二"},
			{Kind: article.Quote, Level: 2, Text: "深引"},
			{Kind: article.Quote, Level: 3, Text: "更深"},
			{Kind: article.Paragraph, Text: "表前"},
			{Kind: article.Table, Rows: [][]string{{"名称", "值", ""}, {"a|b", "", "三"}, {"多\n行"}}},
			{Kind: article.Image, Src: "https://img.example/a b.png", Alt: "图一", Title: "图的标题"},
			{Kind: article.Image, Src: "https://img.example/c.png", Alt: "plain alt"},
			{Kind: article.Code, Lang: "go", Text: "x := 1\n\n\n> not a quote\n"},
			{Kind: article.Paragraph, Text: "码后"},
			{Kind: article.Rule},
			{Kind: article.ListItem, Text: "后一"},
			{Kind: article.ListItem, Text: "后二"},
			{Kind: article.SourceLink, Src: "https://a.example/1", Text: "原文链接"},
		},
	}
}

// fuzzSeeds are texts that once broke an inverse, or nearly.
var fuzzSeeds = []string{
	`\`, "`a\n<div>` x", "\\``` <b> ``", "``` <b> ```", "a\\\n<b>", "{{\\\\\\<b", "\\\\<div>",
	"x\n\n\n", "| a |\n|---|", "1. x\n2) y", "a  \n\nb", "#", "# x #", "C sharp \\##", "<br/>cell",
	"`x<br>y`", "a\n```\nb <i> c\n```", "\u00a0lead\u3000", "\xff\xfe bad utf8", "a\r\n\r\nb", "[x]: y",
}

// FuzzRead checks Canon and Read on random translations: Canon and each
// place's canonical form are fixed points that render like the text,
// and a document with the text as every translation reads back as
// CanonSlots says, to slots that render the same file.
func FuzzRead(f *testing.F) {
	for _, s := range append(slices.Clone(trickyTranslations), fuzzSeeds...) {
		f.Add(s)
	}
	a := sinkArticle()
	f.Fuzz(func(t *testing.T, s string) {
		if got := Canon(Canon(s)); got != Canon(s) {
			t.Errorf("Canon(Canon(%q)) = %q, Canon = %q", s, got, Canon(s))
		}
		for c := ctxPara; c <= ctxDesc; c++ {
			u := canonIn(c, s)
			if v := canonIn(c, u); v != u {
				t.Errorf("context %d: canon(canon(%q)) = %q, canon = %q", c, s, v, u)
			}
			if r1, r2 := renderText(c, s), renderText(c, u); !slices.Equal(r1, r2) {
				t.Errorf("context %d: %q renders %q, its canon %q renders %q", c, s, r1, u, r2)
			}
		}
		tr := strings.TrimSpace(s)
		if tr != "" && (oneLine(inert(tr)) == "" || cell(inert(tr)) == "") {
			return // shows nothing where it stands (a lone backslash): see Read's limits
		}
		for _, layout := range []Layout{Bilingual, English} {
			n := len(a.Segments(layout == English))
			all, every2 := make([]string, n), make([]string, n)
			for i := range n {
				all[i] = s
				every2[i] = s
				if i%2 == 1 {
					every2[i] = "EN " + s
				}
			}
			for _, segs := range [][]string{all, every2} {
				d := Document{Article: a, Title: "T " + s, Segments: segs, TLDR: s, Points: []string{s, "p"}, Model: "m"}
				checkRoundTrip(t, d, layout)
			}
		}
	})
}

// simpleDocument is the sink article translated as "EN: " + original.
func simpleDocument(layout Layout) Document {
	a := sinkArticle()
	var segs []string
	for _, s := range a.Segments(layout == English) {
		segs = append(segs, "EN: "+s.Text)
	}
	return Document{Article: a, Title: "Title", Segments: segs, TLDR: "The summary.", Points: []string{"Point one.", "Point two."}, Model: "m"}
}

// segIndex returns the index of the segment of a with original text and
// attribute attr.
func segIndex(t *testing.T, a *article.Article, layout Layout, text, attr string) int {
	t.Helper()
	for i, s := range a.Segments(layout == English) {
		if s.Text == text && s.Attr == attr {
			return i
		}
	}
	t.Fatalf("no segment %q", text)
	return -1
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%d occurrences of %q in\n%s", n, old, s)
	}
	return strings.Replace(s, old, new, 1)
}

func TestReadEdits(t *testing.T) {
	type want struct {
		seg  string // original text of the edited segment ("" for none)
		attr string
		text string // what Read gives for it
	}
	tests := []struct {
		name     string
		layout   Layout
		old, new string
		want     []want
		title    string // Slots.Title, "" for the unedited value
		summary  string
		tldr     string
		points   []string
	}{
		{
			name: "one line becomes two, with bold and a link", layout: Bilingual,
			old: "> EN: 第一段\n", new: "> First **paragraph**,\n> over [two lines](https://x.example/).\n",
			want: []want{{seg: "第一段", text: "First **paragraph**,\nover [two lines](https://x.example/)."}},
		},
		{
			name: "hard break and a second paragraph in a quote", layout: Bilingual,
			old: "> > EN: 引一\n", new: "> > Quote one  \n> > broken\n> >\n> > and more\n",
			want: []want{{seg: "引一", text: "Quote one  \nbroken\n\nand more"}},
		},
		{
			name: "heading translation", layout: Bilingual,
			old: "> EN: 一级标题\n", new: "> Level one\n",
			want: []want{{seg: "一级标题", text: "Level one"}},
		},
		{
			name: "heading translation on two lines is one line", layout: Bilingual,
			old: "> EN: 一级标题\n", new: "> Level\n> one\n",
			want: []want{{seg: "一级标题", text: "Level one"}},
		},
		{
			name: "nested list item", layout: Bilingual,
			old: "        > EN: 子\n", new: "        > Child,\n        > two lines\n",
			want: []want{{seg: "子", text: "Child,\ntwo lines"}},
		},
		{
			name: "table cells", layout: Bilingual,
			old: "> | EN: 名称 | EN: 值 |  |", new: "> |Name|Value \\| with a pipe<br/>and a break|   |",
			want: []want{{seg: "名称", text: "Name"}, {seg: "值", text: "Value | with a pipe\nand a break"}},
		},
		{
			name: "translation removed", layout: Bilingual,
			old: "第三段\n\n> EN: 第三段\n", new: "第三段\n",
			want: []want{{seg: "第三段", text: ""}},
		},
		{
			name: "escapes typed by a person", layout: Bilingual,
			old: "> EN: 第一段\n", new: "> \\# not a heading, a <b>raw</b> tag\n> \\- and\n> 1\\. escaped, and 2\\. kept\n",
			want: []want{{seg: "第一段", text: "# not a heading, a <b>raw</b> tag\n- and\n1. escaped, and 2\\. kept"}},
		},
		{
			name: "front matter title and summary", layout: Bilingual,
			old: "title: \"Title\"\n", new: "title: New title\nsummary2: x\n",
			title: "New title",
		},
		{
			name: "summary in the body", layout: Bilingual,
			old: "**TL;DR:** The summary.\n\n- Point one.\n", new: "**TL;DR:** A new\nsummary.\n\n- Point one, edited.\n",
			tldr: "A new\nsummary.", points: []string{"Point one, edited.", "Point two."},
		},
		{
			name: "front matter description", layout: Bilingual,
			old: "description: \"EN: 描述\"", new: "description: 'The <i>description</i>'",
			want: []want{{attr: article.AttrDescription, seg: "描述", text: "The <i>description</i>"}},
		},
		{
			name: "english paragraph", layout: English,
			old: "EN: 第一段\n", new: "First paragraph\non two lines.\n",
			want: []want{{seg: "第一段", text: "First paragraph\non two lines."}},
		},
		{
			name: "english back to the original", layout: English,
			old: "EN: 第三段\n", new: "第三段\n",
			want: []want{{seg: "第三段", text: ""}},
		},
		{
			name: "english heading with a closing sequence", layout: English,
			old: "# EN: 一级标题\n", new: "# Level one ##\n",
			want: []want{{seg: "一级标题", text: "Level one"}},
		},
		{
			name: "english list item on two lines", layout: English,
			old: "   - EN: 甲\n", new: "   - Item\n     on two lines\n",
			want: []want{{seg: "甲", text: "Item\non two lines"}},
		},
		{
			name: "english quote", layout: English,
			old: "> > EN: 深引\n", new: "> > Deep\n> > quote\n",
			want: []want{{seg: "深引", text: "Deep\nquote"}},
		},
		{
			name: "english cell and image", layout: English,
			old: "| EN: 多<br>行 |", new: "| Many<br>lines |",
			want: []want{{seg: "多\n行", text: "Many\nlines"}},
		},
		{
			name: "english image alt and title", layout: English,
			old: "![EN: 图一](https://img.example/a%20b.png \"EN: 图的标题\")", new: "![Figure \\[1\\]](https://img.example/a%20b.png \"The \\\"title\\\"\")",
			want: []want{{seg: "图一", attr: article.AttrAlt, text: "Figure [1]"}, {seg: "图的标题", attr: article.AttrTitle, text: `The "title"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := simpleDocument(tt.layout)
			out := mustRender(t, d, tt.layout)
			edited := replaceOnce(t, out, tt.old, tt.new)
			got, err := Read([]byte(edited), d, tt.layout)
			if err != nil {
				t.Fatalf("Read: %v\n%s", err, numbered(edited))
			}
			wantSlots, err := CanonSlots(d, tt.layout)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				i := segIndex(t, d.Article, tt.layout, w.seg, w.attr)
				wantSlots.Segments[i] = w.text
			}
			if !slices.Equal(got.Segments, wantSlots.Segments) {
				for i := range got.Segments {
					if got.Segments[i] != wantSlots.Segments[i] {
						t.Errorf("segment %d = %q, want %q", i, got.Segments[i], wantSlots.Segments[i])
					}
				}
			}
			wantTitle := cmp.Or(tt.title, "Title")
			if got.Title != wantTitle {
				t.Errorf("Title = %q, want %q", got.Title, wantTitle)
			}
			if tldr := cmp.Or(tt.tldr, wantSlots.TLDR); got.TLDR != tldr {
				t.Errorf("TLDR = %q, want %q", got.TLDR, tldr)
			}
			pts := tt.points
			if pts == nil {
				pts = wantSlots.Points
			}
			if !slices.Equal(got.Points, pts) {
				t.Errorf("Points = %q, want %q", got.Points, pts)
			}
			if got.Summary != "The summary." {
				t.Errorf("Summary = %q", got.Summary)
			}
			// What was read renders what the person sees, and reads back the same.
			d2 := d
			d2.Segments, d2.TLDR, d2.Points = got.Segments, got.TLDR, got.Points
			again, err := Read([]byte(mustRender(t, d2, tt.layout)), d2, tt.layout)
			if err != nil {
				t.Fatalf("Read of the re-rendered file: %v", err)
			}
			if !slices.Equal(again.Segments, got.Segments) || again.TLDR != got.TLDR || !slices.Equal(again.Points, got.Points) {
				t.Errorf("re-rendered and read again:\n%q\nfirst read:\n%q", again.Segments, got.Segments)
			}
		})
	}
}

func TestReadRestructured(t *testing.T) {
	swap := func(s, a, b string) string {
		s = strings.Replace(s, a, "\x00", 1)
		s = strings.Replace(s, b, a, 1)
		return strings.Replace(s, "\x00", b, 1)
	}
	tests := []struct {
		name   string
		layout Layout
		edit   func(t *testing.T, s string) string
		reason string // in the error
	}{
		{"delete a block", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "第三段\n\n> EN: 第三段\n\n", "")
		}, "found heading 1 where paragraph 3 should be"},
		{"delete a paragraph (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "EN: 第三段\n\n", "")
		}, "paragraphs 1 to 3 show 2 paragraph(s) where 3 are expected"},
		{"add a paragraph", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "\n第三段\n\n", "\n新加的段落\n\n第三段\n\n")
		}, "unexpected text after paragraph 2"},
		{"add a paragraph (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "EN: 第三段\n\n", "EN: 第三段\n\nA new paragraph.\n\n")
		}, "show 4 paragraph(s) where 3 are expected"},
		{"add a paragraph at the end", Bilingual, func(t *testing.T, s string) string {
			return s + "\nThe end.\n"
		}, "unexpected text after source link 1"},
		{"swap two paragraphs", Bilingual, func(t *testing.T, s string) string {
			return swap(s, "第一段\n\n> EN: 第一段", "第三段\n\n> EN: 第三段")
		}, "found paragraph 3 where paragraph 1 should be"},
		{"edit an original paragraph", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "\n有两行  \n", "\n有三行  \n")
		}, "paragraph 2's original text differs"},
		{"edit an original list item", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "   - 甲\n", "   - 乙\n")
		}, "list item 2's original text differs"},
		{"second translation", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> EN: 第一段\n", "> EN: 第一段\n\n> Another translation.\n")
		}, "paragraph 1 has a second translation"},
		{"second translation of a quote", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> > EN: 引一\n", "> > EN: 引一\n>\n> > Again.\n")
		}, "quote 1 has a second translation"},
		{"second translation of a list item", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "   > EN: 二\n", "   > EN: 二\n\n   > Again.\n")
		}, "list item 4 has a second translation"},
		{"summary removed", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "**TL;DR:** The summary.\n\n- Point one.\n- Point two.\n\n", "")
		}, "the summary section (**TL;DR:**) is missing"},
		{"summary removed (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "**TL;DR:** The summary.\n\n- Point one.\n- Point two.\n\n", "")
		}, "the summary section (**TL;DR:**) is missing"},
		{"a heading typed into a translation", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> EN: 第一段\n", "> # A heading\n")
		}, "a heading inside paragraph 1's translation"},
		{"a list typed into a translation", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> EN: 第一段\n", "> Text\n> - item\n")
		}, "a list inside paragraph 1's translation"},
		{"a heading added (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "EN: 第三段\n\n", "EN: 第三段\n\n## New heading\n\n")
		}, "heading 1 is not a level-1 heading here"},
		{"heading level changed (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "# EN: 一级标题\n", "## EN: 一级标题\n")
		}, "heading 1 is not a level-1 heading here"},
		{"list item removed (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "     3. EN: 子\n", "")
		}, "list item 3's marker or indent differs"},
		{"table row removed", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "| EN: 多<br>行 |  |  |\n", "")
		}, "table 1's table has a different shape"},
		{"table column added", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> | EN: 名称 | EN: 值 |  |", "> | EN: 名称 | EN: 值 |  | x |")
		}, "table 1's table has a different shape"},
		{"code changed", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "x := 1\n", "x := 2\n")
		}, "code block 1 differs"},
		{"image removed", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "![plain alt](https://img.example/c.png)\n\n", "")
		}, "image 2's text differs"},
		{"untranslated alt changed (english)", English, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "![plain alt]", "![other alt]")
		}, "image 2's alt differs"},
		{"quote depth changed", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> > 深引\n", "> 深引\n")
		}, "quote 3's original text differs"},
		{"lazy continuation line", Bilingual, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "> EN: 第一段\n", "> EN: 第一段\nlazy\n")
		}, "unexpected text after paragraph 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := simpleDocument(tt.layout)
			edited := tt.edit(t, mustRender(t, d, tt.layout))
			s, err := Read([]byte(edited), d, tt.layout)
			if !errors.Is(err, ErrRestructured) {
				t.Fatalf("Read: %v, want ErrRestructured\n%s", err, numbered(edited))
			}
			if !strings.HasPrefix(err.Error(), "restructured: ") || !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "(line ") {
				t.Errorf("error %q, want one naming %q and a line", err, tt.reason)
			}
			if s.Title != "Title" || s.Meta.Format != article.YAML {
				t.Errorf("front matter not read with the error: %+v", s)
			}
		})
	}
}

func TestReadTolerates(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"crlf", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
		{"trailing spaces", func(s string) string {
			lines := strings.Split(s, "\n")
			for i := range lines {
				if !strings.HasSuffix(lines[i], "  ") && lines[i] != "---" && lines[i] != "" {
					lines[i] += " \t "
				}
			}
			return strings.Join(lines, "\n")
		}},
		{"no final newline", func(s string) string { return strings.TrimSuffix(s, "\n") }},
		{"extra final newlines", func(s string) string { return s + "\n\n" }},
		{"byte order mark", func(s string) string { return "\uFEFF" + s }},
		{"extra blank lines between blocks", func(s string) string {
			return strings.ReplaceAll(s, "\n\n> EN:", "\n\n\n> EN:")
		}},
		{"front matter keys added and reordered", func(s string) string {
			s = strings.Replace(s, "tags: [a]\n", "", 1)
			return strings.Replace(s, "title: \"Title\"\n", "draft: true\ntags: [a]\nweight: 3\ntitle: \"Title\"\n", 1)
		}},
		{"front matter values changed", func(s string) string {
			return strings.Replace(s, "translation_model: \"m\"", "translation_model: other\nsummary2: |\n  a\n  b", 1)
		}},
	}
	for _, layout := range []Layout{Bilingual, English} {
		d := simpleDocument(layout)
		out := mustRender(t, d, layout)
		want, err := Read([]byte(out), d, layout)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name+"/"+layout.String(), func(t *testing.T) {
				edited := tt.edit(out)
				if edited == out {
					t.Fatal("the edit changed nothing")
				}
				got, err := Read([]byte(edited), d, layout)
				if err != nil {
					t.Fatalf("Read: %v\n%s", err, numbered(edited))
				}
				if !slices.Equal(got.Segments, want.Segments) || got.TLDR != want.TLDR || !slices.Equal(got.Points, want.Points) ||
					got.Title != want.Title || got.Summary != want.Summary {
					t.Errorf("got %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

// keepDoc renders an article with front matter raw in format f, applies
// edit to the output's front matter and returns the document with Keep set
// from the edited file's front matter and KeepKeys keys.
func keepDoc(t *testing.T, f article.Format, raw string, edit func(string) string, keys []string) Document {
	t.Helper()
	var in string
	switch f {
	case article.YAML:
		in = "---\n" + raw + "---\n"
	case article.TOML:
		in = "+++\n" + raw + "+++\n"
	case article.JSON:
		in = raw + "\n"
	}
	a, err := article.Parse([]byte(in+"\n正文\n"), article.SyntaxAuto)
	if err != nil {
		t.Fatal(err)
	}
	d := Document{Article: a, Title: "T", Segments: []string{"Body"}, TLDR: "S.", Model: "m"}
	edited := edit(mustRender(t, d, Bilingual))
	s, err := Read([]byte(edited), d, Bilingual)
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, edited)
	}
	d.Keep, d.KeepKeys = &s.Meta, keys
	d.Title = "New title"
	return d
}

func TestKeepKeys(t *testing.T) {
	tests := []struct {
		name     string
		format   article.Format
		raw      string // the article's front matter
		old, new string // the person's edit of the output's front matter
		keys     []string
		want     string // the new output's front matter
	}{
		{
			name: "yaml", format: article.YAML, raw: "title: 原\ntags: [a]\n",
			old: "tags: [a]\n", new: "tags: [a, b]\n# who wrote it\nauthor:\n  name: Ann   # inline\n  mail: a@x\nweight: 3\n",
			keys: []string{"author", "tags", "missing", "author"},
			want: "---\ntitle: \"New title\"\noriginal_title: \"原\"\ntags: [a, b]\nsummary: \"S.\"\ntranslation_model: \"m\"\n" +
				"# who wrote it\nauthor:\n  name: Ann   # inline\n  mail: a@x\n---\n",
		},
		{
			name: "yaml key the renderer sets", format: article.YAML, raw: "title: 原\n",
			old: "title: \"T\"\n", new: "title: |\n  My own\n  title\n",
			keys: []string{"title"},
			want: "---\ntitle: |\n  My own\n  title\noriginal_title: \"原\"\nsummary: \"S.\"\ntranslation_model: \"m\"\n---\n",
		},
		{
			name: "yaml alias is re-encoded", format: article.YAML, raw: "title: 原\nanchor: &a {k: v}\n",
			old: "summary:", new: "alias: *a\nmine: &b [1]\nalias2: *b\nsummary:",
			keys: []string{"alias", "alias2"},
			want: "---\ntitle: \"New title\"\noriginal_title: \"原\"\nanchor: &a {k: v}\nsummary: \"S.\"\ntranslation_model: \"m\"\nalias:\n  k: v\nalias2:\n  - 1\n---\n",
		},
		{
			name: "toml", format: article.TOML, raw: "title = \"原\"\ntags = [\"a\"]\n\n[params]\nx = 1\n",
			old: "tags = [\"a\"]\n", new: "tags = [\n  \"a\", \"b\",\n]\n# note\nweight = 3\n",
			keys: []string{"weight", "tags", "extra", "items", "params"},
			want: "+++\ntitle = \"New title\"\noriginal_title = \"原\"\ntags = [\n  \"a\", \"b\",\n]\nsummary = \"S.\"\ntranslation_model = \"m\"\n# note\nweight = 3\n\n" +
				"[params]\nx = 2\n\n[extra]\ny = \"z\"\n\n[[items]]\nn = 1\n\n[[items]]\nn = 2\n+++\n",
		},
		{
			name: "json", format: article.JSON, raw: "{\n  \"title\": \"原\",\n  \"tags\": [\"a\"]\n}",
			old: "\"tags\": [\"a\"]", new: "\"tags\": [\n    \"a\", \"b\"\n  ],\n  \"extra\": {\"k\": 1}",
			keys: []string{"extra", "tags"},
			want: "{\n  \"title\": \"New title\",\n  \"original_title\": \"原\",\n  \"tags\": [\n    \"a\", \"b\"\n  ],\n  \"summary\": \"S.\",\n  \"translation_model\": \"m\",\n  \"extra\": {\"k\": 1}\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := func(s string) string {
				s = replaceOnce(t, s, tt.old, tt.new)
				if tt.format == article.TOML {
					s = replaceOnce(t, s, "[params]\nx = 1\n", "[params]\nx = 2\n\n[extra]\ny = \"z\"\n\n[[items]]\nn = 1\n\n[[items]]\nn = 2\n")
				}
				return s
			}
			d := keepDoc(t, tt.format, tt.raw, edit, tt.keys)
			out := mustRender(t, d, Bilingual)
			fm, _, _, err := splitOutput(out)
			if err != nil {
				t.Fatal(err)
			}
			if fm != tt.want {
				t.Errorf("front matter:\n%s\nwant:\n%s", fm, tt.want)
			}
			// It decodes, to the kept values.
			s, err := Read([]byte(out), d, Bilingual)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keptKeys(d) {
				if !sameValue(s.Meta.Fields[k], d.Keep.Fields[k]) {
					t.Errorf("%s = %#v, want %#v", k, s.Meta.Fields[k], d.Keep.Fields[k])
				}
			}
		})
	}
}

// TestKeepKeysOtherFormat: entries kept from a front matter of another
// format (or into a YAML flow mapping, or a new front matter) are
// re-encoded to the same values.
func TestKeepKeysOtherFormat(t *testing.T) {
	keep := article.FrontMatter{Format: article.YAML, Raw: "author:\n  name: Ann\ndate: 2024-01-02T03:04:05Z\ntags: [a, 1]\nnothing: null\n"}
	a, err := article.Parse([]byte("---\n"+keep.Raw+"---\n"), article.SyntaxText)
	if err != nil {
		t.Fatal(err)
	}
	keep.Fields = a.Meta.Fields
	keys := []string{"author", "date", "tags", "nothing"}
	for _, meta := range []article.FrontMatter{
		{Format: article.TOML, Raw: "title = \"原\"\n\n[params]\nx = 1\n"},
		{Format: article.JSON, Raw: "{\"title\": \"原\"}"},
		{Format: article.YAML, Raw: "{title: 原, n: 1}\n"},
		{Format: article.NoFrontMatter},
	} {
		t.Run(meta.Format.String(), func(t *testing.T) {
			art := &article.Article{Meta: meta, Title: "原", Blocks: []article.Block{{Kind: article.Paragraph, Text: "正文"}}}
			d := Document{Article: art, Segments: []string{"Body"}, Keep: &keep, KeepKeys: keys}
			out := mustRender(t, d, English)
			s, err := Read([]byte(out), d, English)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, k := range keys {
				if k == "nothing" && meta.Format == article.TOML {
					if _, ok := s.Meta.Fields[k]; ok {
						t.Errorf("TOML has no null, yet %s is there", k)
					}
					continue
				}
				if !sameValue(s.Meta.Fields[k], keep.Fields[k]) {
					t.Errorf("%s = %#v, want %#v\n%s", k, s.Meta.Fields[k], keep.Fields[k], out)
				}
			}
			if s.Title != "原" {
				t.Errorf("title = %q\n%s", s.Title, out)
			}
		})
	}
}

// benchRead renders d in layout and benchmarks reading it back.
func benchRead(b *testing.B, d Document, layout Layout) {
	out := []byte(mustRender(b, d, layout))
	if _, err := Read(out, d, layout); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Read(out, d, layout); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads back the largest file of the corpus, rendered with
// the tricky translations.
func BenchmarkRead(b *testing.B) {
	var largest corpusFile
	for _, f := range readCorpus(b) {
		if f.size > largest.size {
			largest = f
		}
	}
	b.Logf("%s: %d bytes", largest.name, largest.size)
	for _, layout := range []Layout{Bilingual, English} {
		b.Run(layout.String(), func(b *testing.B) { benchRead(b, fakeDocument(largest.a, layout), layout) })
	}
}

// BenchmarkReadLarge reads back one article made of every corpus
// article's blocks four times (about 5 MB bilingual), to show that
// reading scales linearly.
func BenchmarkReadLarge(b *testing.B) {
	a := &article.Article{}
	for _, f := range readCorpus(b) {
		for range 4 {
			a.Blocks = append(a.Blocks, f.a.Blocks...)
		}
	}
	for _, layout := range []Layout{Bilingual, English} {
		b.Run(layout.String(), func(b *testing.B) { benchRead(b, fakeDocument(a, layout), layout) })
	}
}

// TestReadEnglishBlankLines: in the English layout adjacent paragraphs
// are only told apart by blank lines, so a translation holding one is
// split as d.Segments renders, or not at all.
func TestReadEnglishBlankLines(t *testing.T) {
	a := art(
		article.Block{Kind: article.Paragraph, Text: "一"},
		article.Block{Kind: article.Paragraph, Text: "二\n\n还是二"},
		article.Block{Kind: article.Paragraph, Text: "三"},
		article.Block{Kind: article.Quote, Level: 1, Text: "引一"},
		article.Block{Kind: article.Quote, Level: 1, Text: "引二"},
	)
	d := Document{Article: a, Segments: []string{"One\n\nstill one", "", "Three", "Q1\n\nQ1 again", "Q2"}}
	out := mustRender(t, d, English)
	want := "One\n\nstill one\n\n二\n\n还是二\n\nThree\n\n> Q1\n>\n> Q1 again\n>\n> Q2\n"
	if out != want {
		t.Fatalf("rendered\n%s\nwant\n%s", out, want)
	}
	got, err := Read([]byte(out), d, English)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Segments, []string{"One\n\nstill one", "", "Three", "Q1\n\nQ1 again", "Q2"}) {
		t.Errorf("with d.Segments: %q", got.Segments)
	}
	// Edited text, same paragraph counts: still split as d.Segments says.
	edited := replaceOnce(t, out, "still one", "still the first")
	if got, err := Read([]byte(edited), d, English); err != nil || got.Segments[0] != "One\n\nstill the first" {
		t.Errorf("edited: %q, %v", got.Segments, err)
	}
	// Without translations the untranslated original keeps its two
	// paragraphs, but the split of the others is unknown.
	d.Segments = nil
	if _, err := Read([]byte(out), d, English); !errors.Is(err, ErrRestructured) || !strings.Contains(err.Error(), "paragraphs 1 to 3 show 5 paragraph(s) where 3 are expected") {
		t.Errorf("without d.Segments: %v", err)
	}
	one := replaceOnce(t, replaceOnce(t, out, "One\n\nstill one", "One, still one"), "Q1\n>\n> Q1 again", "Q1, Q1 again")
	got, err = Read([]byte(one), d, English)
	if err != nil || !slices.Equal(got.Segments, []string{"One, still one", "", "Three", "Q1, Q1 again", "Q2"}) {
		t.Errorf("one paragraph each: %q, %v", got.Segments, err)
	}
}

// TestReadNoFrontMatter: a file without front matter, and one whose body
// starts with a rule under an empty front matter.
func TestReadNoFrontMatter(t *testing.T) {
	for _, blocks := range [][]article.Block{
		{{Kind: article.Paragraph, Text: "段"}, {Kind: article.Rule}},
		{{Kind: article.Rule}, {Kind: article.Paragraph, Text: "段"}},
	} {
		a := art(blocks...)
		for _, layout := range []Layout{Bilingual, English} {
			d := Document{Article: a, Segments: []string{"Para"}}
			out := mustRender(t, d, layout)
			s, err := Read([]byte(out), d, layout)
			if err != nil || !slices.Equal(s.Segments, []string{"Para"}) {
				t.Errorf("%s %q: %q, %v", layout, out, s.Segments, err)
			}
			if strings.HasPrefix(out, "---\n---\n") != (s.Meta.Format == article.YAML) {
				t.Errorf("%s %q: front matter %+v", layout, out, s.Meta)
			}
		}
	}
	if _, err := Read([]byte("---\ntitle: x\n\nbody\n"), Document{Article: art()}, English); !errors.Is(err, article.ErrFrontMatter) {
		t.Errorf("unterminated front matter: %v", err)
	}
}

// TestReadSummaryExpected: a missing summary section is a restructure only
// when d has a TL;DR and the front matter shows a summary of its own.
func TestReadSummaryExpected(t *testing.T) {
	d := simpleDocument(Bilingual)
	out := mustRender(t, d, Bilingual)
	noSummary := replaceOnce(t, out, "**TL;DR:** The summary.\n\n- Point one.\n- Point two.\n\n", "")
	for _, tt := range []struct {
		name  string
		file  string
		tldr  string
		error bool
	}{
		{"removed", noSummary, d.TLDR, true},
		{"removed, no TL;DR in d", noSummary, "", false},
		{"removed with the front matter summary", replaceOnce(t, noSummary, "summary: \"The summary.\"\n", ""), d.TLDR, false},
		{"kept, no TL;DR in d", out, "", false},
	} {
		d := d
		d.TLDR = tt.tldr
		s, err := Read([]byte(tt.file), d, Bilingual)
		if errors.Is(err, ErrRestructured) != tt.error {
			t.Errorf("%s: %v", tt.name, err)
		}
		if err == nil && tt.file == out && s.TLDR != "The summary." {
			t.Errorf("%s: TLDR %q", tt.name, s.TLDR)
		}
	}
}

// FuzzReadFile reads mutated output files: Read never panics, and what it
// reads renders to a file that reads back the same.
func FuzzReadFile(f *testing.F) {
	for _, layout := range []Layout{Bilingual, English} {
		out := mustRender(f, simpleDocument(layout), layout)
		f.Add(out, layout == English)
		f.Add(strings.Replace(out, "EN: 第一段", "**First**\n> - not a list\n> `x` <b>", 1), layout == English)
		f.Add(strings.ReplaceAll(out, "\n", "\r\n"), layout == English)
	}
	f.Fuzz(func(t *testing.T, file string, english bool) {
		layout := Bilingual
		if english {
			layout = English
		}
		d := simpleDocument(layout)
		s, err := Read([]byte(file), d, layout)
		if err != nil {
			return
		}
		d.Segments, d.TLDR, d.Points = s.Segments, s.TLDR, s.Points
		again, err := Read([]byte(mustRender(t, d, layout)), d, layout)
		if err != nil {
			t.Fatalf("re-rendered file: %v", err)
		}
		if !slices.Equal(again.Segments, s.Segments) || again.TLDR != s.TLDR || !slices.Equal(again.Points, s.Points) {
			t.Errorf("read again:\n%q %q %q\nfirst:\n%q %q %q", again.Segments, again.TLDR, again.Points, s.Segments, s.TLDR, s.Points)
		}
	})
}

func TestCanon(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  plain  ", "plain"},
		{`\# not a heading`, "# not a heading"},
		{"# not a heading", "# not a heading"},
		{"a <b>raw</b> tag", "a <b>raw</b> tag"},
		{`a \<b>escaped\</b> tag`, "a <b>escaped</b> tag"},
		{`\\<b>`, `\\<b>`},
		{"{{< sc >}} {{\\% x %}}", "{{< sc >}} {{% x %}}"},
		{"`<b>` in code", "`<b>` in code"},
		{"1\\. one\n2) two\n\\- dash\n---", "1. one\n2) two\n- dash\n---"},
		{"| --- |\n:--", "| --- |\n:--"},
		{"a  \nb \nc  ", "a  \nb\nc"},
		{"a\r\n\r\n\r\n\tb", "a\n\nb"},
		{"```\nx <b>\n```", "```\nx <b>\n```"},
	}
	for _, tt := range tests {
		if got := Canon(tt.in); got != tt.want {
			t.Errorf("Canon(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Canon(tt.want); got != tt.want {
			t.Errorf("Canon(%q) = %q, want it unchanged", tt.want, got)
		}
	}
}

// TestRendererFixes pins the renderer changes that reading back needed.
func TestRendererFixes(t *testing.T) {
	if got := clean("a\r\r\nb\r\n"); got != "a\nb" {
		t.Errorf("clean = %q, want LF line ends", got)
	}
	if got := inlineLines("\\\nx\t\\"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("inlineLines = %q, want no empty line and no trailing tab", got)
	}
	if got := cell("\\\nx"); got != "x" {
		t.Errorf("cell = %q", got)
	}
}
