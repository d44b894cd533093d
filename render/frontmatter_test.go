package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"

	"github.com/xlate/xlate/article"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// splitFrontMatter cuts rendered output into its front matter text
// (without delimiters) and the rest.
func splitFrontMatter(t *testing.T, f article.Format, out string) (string, string) {
	t.Helper()
	switch f {
	case article.YAML, article.NoFrontMatter, article.TOML:
		delim := "---\n"
		if f == article.TOML {
			delim = "+++\n"
		}
		if !strings.HasPrefix(out, delim) {
			t.Fatalf("output does not start with %q:\n%s", delim, out)
		}
		fm, rest, ok := strings.Cut(out[len(delim):], "\n"+delim)
		if !ok {
			// An empty front matter.
			if r, ok2 := strings.CutPrefix(out[len(delim):], delim); ok2 {
				return "", r
			}
			t.Fatalf("no closing %q in:\n%s", delim, out)
		}
		return fm + "\n", rest
	case article.JSON:
		dec := json.NewDecoder(strings.NewReader(out))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("json front matter: %v\n%s", err, out)
		}
		off := dec.InputOffset()
		return out[:off], strings.TrimPrefix(out[off:], "\n")
	}
	t.Fatalf("bad format %v", f)
	return "", ""
}

func decodeFM(t *testing.T, f article.Format, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	var err error
	switch f {
	case article.YAML, article.NoFrontMatter:
		err = yaml.Unmarshal([]byte(s), &m)
	case article.TOML:
		_, err = toml.Decode(s, &m)
	case article.JSON:
		err = json.Unmarshal([]byte(s), &m)
	}
	if err != nil {
		t.Fatalf("decode %v front matter: %v\n%s", f, err, s)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// topKeys lists the top-level keys of a front matter in document order.
func topKeys(t *testing.T, f article.Format, s string) []string {
	t.Helper()
	var keys []string
	switch f {
	case article.YAML, article.NoFrontMatter:
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatal(err)
		}
		if len(n.Content) > 0 {
			m := n.Content[0]
			for i := 0; i < len(m.Content); i += 2 {
				keys = append(keys, m.Content[i].Value)
			}
		}
	case article.TOML:
		md, err := toml.Decode(s, &map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range md.Keys() {
			if !slices.Contains(keys, k[0]) {
				keys = append(keys, k[0])
			}
		}
	case article.JSON:
		dec := json.NewDecoder(strings.NewReader(s))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return keys
}

var corpusYAML = `title: "华盛顿内幕：马斯克极其厌恶的奥尔特曼 如何赢得特朗普支持"
date: 2025-02-09T01:24:12Z
draft: ["false"]
tags: [
  "fetched",
  "cnbeta"
]
categories: ["Duty"]
`

var fmInputs = []struct {
	name   string
	format article.Format
	raw    string
	order  []string // top-level keys of the output, in order
}{
	{"yaml corpus", article.YAML, corpusYAML,
		[]string{"title", "original_title", "date", "draft", "tags", "categories", "summary", "translation_model"}},
	{"yaml rich", article.YAML, "# leading comment\n" +
		"date: 2024-06-22T01:06:52+08:00\n" +
		"url: https://example.com/a?b=c#d\n" +
		"title: 'it''s'   # trailing comment\n" +
		"summary: old summary\n" +
		"list:\n  - a\n  - b: c\n\n# between\n" +
		"body: |\n  # not a comment\n  line two\n" +
		"nested:\n  title: inner\n  deep: {x: 1, y: [1, 2]}\n" +
		"anchor: &a {k: v}\nalias: *a\n" +
		"empty:\n" +
		"translation_model: old\n# trailing comment\n",
		[]string{"date", "url", "title", "original_title", "summary", "list", "body", "nested", "anchor", "alias", "empty", "translation_model"}},
	{"yaml no title, crlf, no final newline", article.YAML, "date: 2020-01-01\r\ndraft: true", []string{"date", "draft", "title", "original_title", "summary", "translation_model"}},
	{"yaml indented mapping", article.YAML, "  a: 1\n  title: x\n  b:\n    - 2\n", []string{"a", "title", "original_title", "b", "summary", "translation_model"}},
	{"yaml flow mapping", article.YAML, "{title: x, tags: [a, b], n: 1.5}\n", []string{"title", "original_title", "tags", "n", "summary", "translation_model"}},
	{"yaml empty", article.YAML, "", []string{"title", "original_title", "summary", "translation_model"}},
	{"yaml comment only", article.YAML, "# nothing here\n", []string{"title", "original_title", "summary", "translation_model"}},
	{"toml", article.TOML, "title = \"中文标题\"\n" +
		"date = 2024-01-02T03:04:05Z\n" +
		"draft = false\n" +
		"tags = [\n  \"fetched\",\n  \"cnbeta\",\n]\n" +
		"# comment\n" +
		"\"quoted\" = 'lit'\n" +
		"site.name = \"dotted\"\n" +
		"summary = '''\nold\n[not a table]\n'''\n" +
		"\n[params]\ntitle = \"inner\"\n\n[[list]]\nx = 1\n",
		[]string{"title", "original_title", "date", "draft", "tags", "quoted", "site", "summary", "translation_model", "params", "list"}},
	{"toml quoted title key", article.TOML, "'title' = \"x\"\nn = 1\n", []string{"title", "original_title", "n", "summary", "translation_model"}},
	{"toml tables only", article.TOML, "[params]\ntitle = \"inner\"\n", []string{"title", "original_title", "summary", "translation_model", "params"}},
	{"toml empty", article.TOML, "", []string{"title", "original_title", "summary", "translation_model"}},
	{"json pretty", article.JSON, "{\n  \"title\": \"中文\",\n  \"date\": \"2024-01-02\",\n  \"tags\": [\"a\", \"b\"],\n  \"nested\": {\"title\": \"inner\"},\n  \"n\": 1.50,\n  \"esc\": \"\\u003c\\\"\"\n}",
		[]string{"title", "original_title", "date", "tags", "nested", "n", "esc", "summary", "translation_model"}},
	{"json compact with summary", article.JSON, `{"summary":"old","title":"x"}`, []string{"summary", "title", "original_title", "translation_model"}},
	{"json one key", article.JSON, "{ \"a\": null }", []string{"a", "title", "original_title", "summary", "translation_model"}},
	{"json empty", article.JSON, "{}", []string{"title", "original_title", "summary", "translation_model"}},
	{"none", article.NoFrontMatter, "", []string{"title", "original_title", "summary", "translation_model"}},
}

var trickyStrings = []string{
	"Plain English Title",
	`He said "hi": yes`,
	"a: b # c",
	"line one\nline two",
	`back\slash and \n literally`,
	"#hashtag",
	"unicode 中文 ✓ 😀 é",
	"'single' quotes",
	"- dash start",
	"[brackets] {braces} & <html>",
	"tab\there",
	"sep\u2028line\u0085next",
	"bell\a and del\x7f",
	"trailing backslash \\",
	"''' and \"\"\"",
	"yes",
	"123",
	strings.Repeat("a long title with many words ", 10),
}

func TestFrontMatterParseBack(t *testing.T) {
	for _, in := range fmInputs {
		for _, s := range trickyStrings {
			t.Run(in.name+"/"+s, func(t *testing.T) {
				a := &article.Article{
					Meta:   article.FrontMatter{Format: in.format, Raw: in.raw},
					Title:  "原标题: \"引号\" #1",
					Blocks: []article.Block{{Kind: article.Paragraph, Text: "正文"}},
				}
				d := Document{Article: a, Title: s, Segments: []string{"Body"}, TLDR: s + " (summary)", Points: []string{"p"}, Model: "model/" + s}
				out := render(t, d, Bilingual)
				fm, rest := splitFrontMatter(t, in.format, out)
				if !strings.HasPrefix(rest, "\n**TL;DR:**") {
					t.Errorf("body does not follow the front matter after one blank line:\n%s", out)
				}
				got := decodeFM(t, in.format, fm)
				orig := decodeFM(t, in.format, strings.ReplaceAll(in.raw, "\r\n", "\n"))
				for k, v := range orig {
					if k == keyTitle || k == keyOriginalTitle || k == keySummary || k == keyTranslationModel {
						continue
					}
					if !reflect.DeepEqual(got[k], v) {
						t.Errorf("key %q = %#v, want %#v", k, got[k], v)
					}
				}
				want := map[string]string{
					keyTitle:            clean(s),
					keyOriginalTitle:    a.Title,
					keySummary:          inert(clean(s + " (summary)")),
					keyTranslationModel: clean("model/" + s),
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("key %q = %#v, want %q", k, got[k], v)
					}
				}
				if len(got) != len(orig)+len(want)-countKeys(orig, want) {
					t.Errorf("got keys %v from %v", mapKeys(got), mapKeys(orig))
				}
				if keys := topKeys(t, in.format, fm); !slices.Equal(keys, in.order) {
					t.Errorf("key order %v, want %v\n%s", keys, in.order, fm)
				}
			})
		}
	}
}

func countKeys(m map[string]any, want map[string]string) int {
	n := 0
	for k := range want {
		if _, ok := m[k]; ok {
			n++
		}
	}
	return n
}

func mapKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestFrontMatterKeepsText checks that editing leaves every original line
// that holds no replaced key byte for byte as it was.
func TestFrontMatterKeepsText(t *testing.T) {
	for _, in := range fmInputs {
		if in.name == "yaml flow mapping" || in.format == article.NoFrontMatter || in.format == article.JSON && !strings.Contains(in.raw, "\n") {
			continue // re-encoded by design, nothing to keep, or one line that gets edited
		}
		t.Run(in.name, func(t *testing.T) {
			a := &article.Article{Meta: article.FrontMatter{Format: in.format, Raw: in.raw}, Title: "原"}
			out := render(t, Document{Article: a, Title: "T", TLDR: "S", Model: "M"}, English)
			fm, _ := splitFrontMatter(t, in.format, out)
			lines := strings.Split(fm, "\n")
			for _, l := range strings.Split(strings.ReplaceAll(in.raw, "\r\n", "\n"), "\n") {
				replaced := l == "" || l == "old" || l == "[not a table]" || l == "'''" || // the old TOML summary
					!strings.Contains(l, "inner") && (strings.Contains(l, keyTitle) || strings.Contains(l, keySummary) || strings.Contains(l, keyTranslationModel))
				if replaced {
					continue
				}
				if !slices.ContainsFunc(lines, func(o string) bool { return strings.Contains(o, l) }) {
					t.Errorf("line %q of the original is gone:\n%s", l, fm)
				}
			}
		})
	}
}

func TestFrontMatterFields(t *testing.T) {
	tests := []struct {
		name   string
		format article.Format
		raw    string
		d      Document
		want   string
	}{
		{
			name:   "no english title keeps title and adds no original_title",
			format: article.YAML, raw: "title: 原\n",
			d:    Document{TLDR: "S"},
			want: "---\ntitle: 原\nsummary: \"S\"\n---\n",
		},
		{
			name:   "nothing to add",
			format: article.TOML, raw: "title = \"原\"\n",
			want: "+++\ntitle = \"原\"\n+++\n",
		},
		{
			name:   "new front matter falls back to the original title",
			format: article.NoFrontMatter,
			d:      Document{Model: "m"},
			want:   "---\ntitle: \"原\"\ntranslation_model: \"m\"\n---\n",
		},
		{
			name:   "json existing keys are replaced in place",
			format: article.JSON, raw: `{"translation_model": "x", "title": "原", "original_title": "y"}`,
			d:    Document{Title: "T", Model: "m"},
			want: `{"translation_model": "m", "title": "T", "original_title": "原"}` + "\n",
		},
		{
			name:   "yaml block scalar values are replaced whole",
			format: article.YAML, raw: "summary: >\n  old\n  text\n\n# c\ntitle: 原\n",
			d:    Document{TLDR: "new"},
			want: "---\nsummary: \"new\"\n\n# c\ntitle: 原\n---\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Article = &article.Article{Meta: article.FrontMatter{Format: tt.format, Raw: tt.raw}, Title: "原"}
			got, err := frontMatter(tt.d, "")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// goldenArticle is a small article with every block kind.
func goldenArticle(meta article.FrontMatter) *article.Article {
	return &article.Article{
		Meta:   meta,
		Title:  "华盛顿内幕：马斯克极其厌恶的奥尔特曼 如何赢得特朗普支持",
		Source: "cnbeta",
		Blocks: []article.Block{
			{Kind: article.Paragraph, Text: "据《华盛顿邮报》报道，**奥尔特曼**在特朗普就职后迅速行动。"},
			{Kind: article.Heading, Level: 2, Text: "背景"},
			{Kind: article.ListItem, Text: "第一点"},
			{Kind: article.ListItem, Level: 1, Ordered: true, Number: 1, Text: "细节"},
			{Kind: article.ListItem, Text: "第二点"},
			{Kind: article.Quote, Level: 1, Text: "“这是一个新时代。”"},
			{Kind: article.Table, Rows: [][]string{{"公司", "估值"}, {"OpenAI", "1570亿美元"}, {"", "未知"}}},
			{Kind: article.Image, Src: "https://static.cnbetacdn.com/article/2025/0209/a.jpg", Alt: "奥尔特曼"},
			{Kind: article.Code, Lang: "bash", Text: "docker pull nginx\n"},
			{Kind: article.Rule},
			{Kind: article.SourceLink, Src: "https://www.cnbeta.com.tw/articles/tech/1.htm", Text: "原文链接"},
		},
	}
}

func TestGoldenFrontMatter(t *testing.T) {
	tests := []struct {
		file string
		meta article.FrontMatter
	}{
		{"yaml", article.FrontMatter{Format: article.YAML, Raw: corpusYAML}},
		{"toml", article.FrontMatter{Format: article.TOML, Raw: "title = \"华盛顿内幕\"\ndate = 2025-02-09T01:24:12Z\ndraft = [\"false\"]\ntags = [\n  \"fetched\",\n  \"cnbeta\"\n]\n\n[params]\nsource = \"cnbeta\"\n"}},
		{"json", article.FrontMatter{Format: article.JSON, Raw: "{\n  \"title\": \"华盛顿内幕\",\n  \"date\": \"2025-02-09T01:24:12Z\",\n  \"draft\": [\"false\"],\n  \"tags\": [\n    \"fetched\",\n    \"cnbeta\"\n  ]\n}"}},
		{"plain", article.FrontMatter{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := goldenArticle(tt.meta)
			for _, layout := range []Layout{Bilingual, English} {
				d := Document{
					Article:  a,
					Title:    `Washington Insider: How Altman, "Loathed" by Musk, Won Trump's Support`,
					Segments: fake(a, layout),
					TLDR:     "Altman courted Trump: a $500bn AI pledge # and more.",
					Points:   []string{"Altman moved fast after the inauguration.", "Musk is hostile.", "Stargate: $500 billion."},
					Model:    "gpt-4o-mini",
				}
				name := tt.file + ".golden.md"
				if layout == English {
					name = tt.file + ".english.golden.md"
				}
				golden(t, name, render(t, d, layout))
			}
		})
	}
}

// TestKeptAndRewrittenKeys: an original summary and description are kept
// beside their English versions, and in a multilingual site url and aliases
// move under the language.
func TestKeptAndRewrittenKeys(t *testing.T) {
	raw := "title: 原\nurl: /fixed-url/\naliases: [/old/, old2]\nsummary: 原摘要\ndescription: 原描述\n"
	a, err := article.Parse([]byte("---\n"+raw+"---\n<p>正文</p>"), article.SyntaxAuto)
	if err != nil {
		t.Fatal(err)
	}
	segs := a.Segments(false)
	if len(segs) != 2 || segs[0].Attr != article.AttrDescription {
		t.Fatalf("segments %+v, want the description first", segs)
	}
	d := Document{Article: a, Title: "Original", Segments: []string{"The description", "Body"}, TLDR: "Summary.", Model: "m"}
	for _, tt := range []struct {
		lang, want string
	}{
		{"", "---\ntitle: \"Original\"\noriginal_title: \"原\"\nurl: /fixed-url/\naliases: [/old/, old2]\nsummary: \"Summary.\"\noriginal_summary: \"原摘要\"\n" +
			"description: \"The description\"\noriginal_description: \"原描述\"\ntranslation_model: \"m\"\n---\n"},
		{"en", "---\ntitle: \"Original\"\noriginal_title: \"原\"\nurl: \"/en/fixed-url/\"\naliases: [\"/en/old/\", \"/en/old2\"]\nsummary: \"Summary.\"\noriginal_summary: \"原摘要\"\n" +
			"description: \"The description\"\noriginal_description: \"原描述\"\ntranslation_model: \"m\"\n---\n"},
	} {
		d.Lang = tt.lang
		got := render(t, d, English)
		if fm, _, _ := strings.Cut(got, "---\n\n"); fm+"---\n" != tt.want {
			t.Errorf("lang %q: front matter\n%s\nwant\n%s", tt.lang, fm+"---\n", tt.want)
		}
	}
}
