package article

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// brief is a compact one-line form of a block for table-driven tests.
func brief(b Block) string {
	switch b.Kind {
	case Paragraph:
		return "p: " + b.Text
	case Heading:
		return fmt.Sprintf("h%d: %s", b.Level, b.Text)
	case ListItem:
		if b.Ordered {
			return fmt.Sprintf("li%d %d.: %s", b.Level, b.Number, b.Text)
		}
		return fmt.Sprintf("li%d: %s", b.Level, b.Text)
	case Quote:
		return fmt.Sprintf("q%d: %s", b.Level, b.Text)
	case Table:
		rows := make([]string, len(b.Rows))
		for i, r := range b.Rows {
			rows[i] = strings.Join(r, "|")
		}
		return "table: " + strings.Join(rows, " / ")
	case Image:
		s := "img: " + b.Src
		if b.Alt != "" {
			s += " alt=" + b.Alt
		}
		if b.Title != "" {
			s += " title=" + b.Title
		}
		return s
	case Code:
		return fmt.Sprintf("code(%s): %s", b.Lang, b.Text)
	case Rule:
		return "hr"
	case SourceLink:
		return "src: " + b.Src + " " + b.Text
	}
	return "?"
}

func briefs(a *Article) []string {
	out := make([]string, 0, len(a.Blocks))
	for _, b := range a.Blocks {
		out = append(out, brief(b))
	}
	return out
}

type parseCase struct {
	name string
	in   string
	want []string
}

func runCases(t *testing.T, syn Syntax, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.in), syn)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := briefs(a)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("blocks:\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	gbSeed, err := os.ReadFile("testdata/corpus/plain-gb18030-seed-cnbeta.txt")
	if err != nil {
		t.Fatal(err)
	}
	utfSeed, err := os.ReadFile("testdata/corpus/plain-seed-cnbeta.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		in      []byte
		want    string
		wantErr error
	}{
		{"utf8", []byte("中文 text"), "中文 text", nil},
		{"utf8 bom", []byte("\xEF\xBB\xBF中文"), "中文", nil},
		{"crlf and cr", []byte("a\r\nb\rc\n"), "a\nb\nc\n", nil},
		{"gbk", []byte("\xd6\xd0\xce\xc4\xa3\xac\xc4\xe3\xba\xc3"), "中文，你好", nil},
		{"gb18030 corpus file", gbSeed, string(utfSeed), nil},
		{"utf16 bom", []byte("\xFF\xFEa\x00-N"), "a中", nil},
		{"nul", []byte("abc\x00def"), "", ErrBinary},
		{"control", []byte("\x01\x02\x03\x04abc"), "", ErrBinary},
		{"latin1 is not gb18030", []byte("caf\xe9 \xe0 la cr\xe8me br\xfbl\xe9e"), "", ErrEncoding},
		{"truncated gb18030", []byte("\xd6\xd0\xce"), "", ErrEncoding},
		{"empty", nil, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeErrorMessages(t *testing.T) {
	for in, want := range map[string]string{
		"a\x00b":       "binary file (NUL bytes)",
		"\x01\x02\x03": "binary file (control characters)",
		"\xff\xfe\xfd": "not valid UTF-8 or GB18030 text",
	} {
		if _, err := Parse([]byte(in), SyntaxAuto); err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestFrontMatter(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		format Format
		raw    string
		title  string
		fields map[string]any
		body   []string
	}{
		{
			name:   "yaml with odd values",
			in:     "---\ntitle: \"标题\"\ndraft: [\"false\"]\ntags:\nn: 3\nnested:\n  a: b\n---\n正文\n",
			format: YAML,
			raw:    "title: \"标题\"\ndraft: [\"false\"]\ntags:\nn: 3\nnested:\n  a: b\n",
			title:  "标题",
			fields: map[string]any{"title": "标题", "draft": []any{"false"}, "tags": nil, "n": 3, "nested": map[string]any{"a": "b"}},
			body:   []string{"p: 正文"},
		},
		{
			name:   "toml",
			in:     "+++\ntitle = \"T\"\ntags = [\"a\"]\n+++\nbody\n",
			format: TOML, raw: "title = \"T\"\ntags = [\"a\"]\n", title: "T",
			fields: map[string]any{"title": "T", "tags": []any{"a"}},
			body:   []string{"p: body"},
		},
		{
			name:   "json",
			in:     "{\n  \"title\": \"J\",\n  \"n\": [1, 2]\n}\n\nbody\n",
			format: JSON, raw: "{\n  \"title\": \"J\",\n  \"n\": [1, 2]\n}", title: "J",
			fields: map[string]any{"title": "J", "n": []any{1.0, 2.0}},
			body:   []string{"p: body"},
		},
		{
			name:   "non-string title is not a title",
			in:     "---\ntitle: 2024\n---\n",
			format: YAML, raw: "title: 2024\n", title: "",
			fields: map[string]any{"title": 2024},
		},
		{
			name:   "empty yaml",
			in:     "---\n---\nbody",
			format: YAML, raw: "", fields: map[string]any{},
			body: []string{"p: body"},
		},
		{
			name:   "none",
			in:     "# Heading\n\ntext",
			format: NoFrontMatter, title: "Heading",
			body: []string{"h1: Heading", "p: text"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.in), SyntaxAuto)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if a.Meta.Format != tc.format || a.Meta.Raw != tc.raw || a.Title != tc.title {
				t.Errorf("format %v raw %q title %q, want %v %q %q", a.Meta.Format, a.Meta.Raw, a.Title, tc.format, tc.raw, tc.title)
			}
			if tc.fields != nil && !reflect.DeepEqual(a.Meta.Fields, tc.fields) {
				t.Errorf("fields = %#v, want %#v", a.Meta.Fields, tc.fields)
			}
			if got := briefs(a); !reflect.DeepEqual(got, tc.body) && (len(got) != 0 || len(tc.body) != 0) {
				t.Errorf("blocks = %q, want %q", got, tc.body)
			}
		})
	}
}

func TestFrontMatterErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unterminated yaml", "---\ntitle: x\nbody\n", `unterminated front matter: "---" on line 1 is never closed`},
		{"unterminated after blank lines", "\n\n---\ntitle: x\n", `unterminated front matter: "---" on line 3 is never closed`},
		{"unterminated toml", "+++\ntitle = 1\n", `unterminated front matter: "+++" on line 1 is never closed`},
		{"malformed yaml", "---\ntitle: [unclosed\n---\n", "front matter: yaml: line 2: did not find expected ',' or ']'"},
		{"malformed yaml after blank line", "\n---\na: 1\n\tb: 2\n---\n", "front matter: yaml: line 4: found a tab character that violates indentation"},
		{"duplicate yaml keys", "---\ntitle: a\ntitle: b\n---\n", `front matter: yaml: line 3: mapping key "title" already defined at line 2`},
		{"malformed toml", "+++\ntitle = 1\ntitle = = 1\n+++\n", `front matter: toml: line 3 (last key "title"): expected value but found '=' instead`},
		{"malformed json", "{\n\"a\": 1,\n}\n\nbody", "front matter: json: line 3: invalid character '}' looking for beginning of object key string"},
		{"yaml not a mapping", "---\n- a\n- b\n---\n", "front matter: yaml: not a mapping of keys to values"},
		// yaml.v3 gives no line for a problem on the first line, and the
		// line before it (counted from 0) further down.
		{"unescaped quote in a yaml title", "---\ntitle: \"他说\"你好\"\"\ndate: 2024-01-01\n---\n正文\n", "front matter: yaml: line 2: did not find expected key"},
		{"unescaped quote further down", "\n---\ndate: 2024-01-01\ndraft: false\ntitle: \"他说\"你好\"\"\n---\n", "front matter: yaml: line 5: did not find expected key"},
		{"unescaped quote in a nested mapping", "---\ntitle: a\nparams:\n  x: 1\n  y: 'it's'\n  z: 2\n---\n", "front matter: yaml: line 5: did not find expected key"},
		{"yaml list item out of place", "---\ntags:\n  - a\n  b: 1\n---\n", "front matter: yaml: line 4: did not find expected '-' indicator"},
		{"unterminated yaml quote", "---\na: 1\nb: \"x\nc: 2\n---\n", "front matter: yaml: line 3: found unexpected end of stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), SyntaxAuto)
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrFrontMatter) {
				t.Errorf("err = %v\nwant %s, wrapping ErrFrontMatter", err, tc.want)
			}
		})
	}
}

func TestFrontMatterErrorIsShort(t *testing.T) {
	key := strings.Repeat("k", 500)
	_, err := Parse([]byte("+++\n"+key+" = 1\n"+key+" = = 1\n+++\n"), SyntaxAuto)
	if err == nil || !errors.Is(err, ErrFrontMatter) || utf8.RuneCountInString(err.Error()) > 250 || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q (%d runes), want one short line wrapping ErrFrontMatter", err, utf8.RuneCountInString(fmt.Sprint(err)))
	}
}

func TestEmpty(t *testing.T) {
	for _, in := range []string{"", " \n\t\r\n", "\xEF\xBB\xBF\n", "\u3000\n", "\xFF\xFE\n\x00"} {
		for _, syn := range []Syntax{SyntaxAuto, SyntaxMarkdown, SyntaxText, SyntaxHTML} {
			if a, err := Parse([]byte(in), syn); !errors.Is(err, ErrEmpty) || err.Error() != "empty file" || a != nil {
				t.Errorf("Parse(%q, %v) = %v, %v; want empty file", in, syn, a, err)
			}
		}
	}
	// Front matter without a body is an article, not an empty file.
	a, err := Parse([]byte("---\ntitle: 标题\n---\n\n"), SyntaxAuto)
	if err != nil || a.Title != "标题" || len(a.Blocks) != 0 {
		t.Errorf("front matter only: %+v, %v", a, err)
	}
}

const archiveFM = "---\ntitle: \"标题\"\ndraft: [\"false\"]\ntags: [\n  \"fetched\",\n  \"cnbeta\"\n]\n---\n"

func TestArchiveFormat(t *testing.T) {
	in := archiveFM + "标题 by cnbeta\n------\n<div class=\"content\"><p>第一段</p><div class=\"article-global\"></div><p>第二段</p></div>  \n<hr>\n<a href=\"https://m.cnbeta.com.tw/wap/view/1.htm\",target=\"_blank\" rel=\"noopener noreferrer\">原文链接</a>\n"
	a, err := Parse([]byte(in), SyntaxAuto)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "标题" || a.Source != "cnbeta" {
		t.Errorf("title %q source %q", a.Title, a.Source)
	}
	want := []string{"p: 第一段", "p: 第二段", "src: https://m.cnbeta.com.tw/wap/view/1.htm 原文链接"}
	if got := briefs(a); !reflect.DeepEqual(got, want) {
		t.Errorf("blocks = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(a.Meta.Fields["tags"], []any{"fetched", "cnbeta"}) {
		t.Errorf("tags = %#v", a.Meta.Fields["tags"])
	}
}

func TestHeader(t *testing.T) {
	cases := []struct {
		name, in, title, source string
		blocks                  []string
	}{
		{"header sets title and source", "A by B\n------\ntext", "A", "B", []string{"p: text"}},
		{"last by wins", "Stand by me by zhihu\n---\ntext", "Stand by me", "zhihu", []string{"p: text"}},
		{"front matter title wins", "---\ntitle: T\n---\nA by B\n------\n<p>x</p>", "T", "B", []string{"p: x"}},
		{"no by: setext heading", "Just a title\n------\ntext", "Just a title", "", []string{"h2: Just a title", "p: text"}},
		{"no underline: text", "A by B\ntext", "", "", []string{"p: A by B", "p: text"}},
		{"header over plain text", "A by B\n------\n第一行\n第二行", "A", "B", []string{"p: 第一行第二行"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.in), SyntaxAuto)
			if err != nil {
				t.Fatal(err)
			}
			if a.Title != tc.title || a.Source != tc.source {
				t.Errorf("title %q source %q, want %q %q", a.Title, a.Source, tc.title, tc.source)
			}
			if got := briefs(a); !reflect.DeepEqual(got, tc.blocks) {
				t.Errorf("blocks = %q, want %q", got, tc.blocks)
			}
		})
	}
}

func TestHTML(t *testing.T) {
	runCases(t, SyntaxHTML, []parseCase{
		{"paragraphs and headings", "<h1>标题</h1><p>一</p><h3>小节</h3><p>二</p>", []string{"h1: 标题", "p: 一", "h3: 小节", "p: 二"}},
		{"inline markup", "<p><strong>粗</strong>和<em>斜</em>，<b>b</b> <i>i</i> <code>x*y</code></p>", []string{"p: **粗**和*斜*，**b** *i* `x*y`"}},
		{"bold whitespace moves out", "<p>a<strong> b </strong>c</p>", []string{"p: a **b** c"}},
		{"adjacent bold merges", "<p><strong>a</strong><strong>b</strong></p>", []string{"p: **ab**"}},
		{"nested bold once", "<p><strong><b>x</b></strong></p>", []string{"p: **x**"}},
		{"empty bold dropped", "<p>a<strong> </strong>b</p>", []string{"p: a b"}},
		{"cjk punctuation outside bold", "<p>为期的<strong>“大比拼”</strong>。</p>", []string{"p: 为期的“**大比拼”**。"}},
		{"link", `<p>see <a href="https://x.org/a_b">the <b>doc</b></a></p>`, []string{"p: see [the **doc**](https://x.org/a_b)"}},
		{"javascript link keeps text", `<p><a href="javascript:void(0)">点击</a></p>`, []string{"p: 点击"}},
		{"anchor link keeps text", `<p><a href="#top">top</a></p>`, []string{"p: top"}},
		{"url text is autolink", `<p><a href="https://a.b/c">https://a.b/c</a></p>`, []string{"p: <https://a.b/c>"}},
		{"bare url autolinked", `<p>见 https://a.b/x_y。</p>`, []string{"p: 见 <https://a.b/x_y>。"}},
		{"link destination escaped", `<p><a href="https://a.b/x (1)">x</a></p>`, []string{"p: [x](https://a.b/x%20%281%29)"}},
		{"malformed archive href", `<p><a href=https://a.b/c,target="_blank">原文</a> tail</p>`, []string{"p: [原文](https://a.b/c) tail"}},
		{"br is a hard break", "<p>一<br>二</p>", []string{"p: 一\\\n二"}},
		{"double br splits", "<p>一<br><br>二<br> <br/>三</p>", []string{"p: 一", "p: 二", "p: 三"}},
		{"br only paragraph dropped", "<p><br></p><p> </p><p>&nbsp;</p><p>x</p>", []string{"p: x"}},
		{"br in div splits", "<div>一<br>二</div><section><span>三</span><br><span>四</span></section>", []string{"p: 一", "p: 二", "p: 三", "p: 四"}},
		{"escaping", `<p>a*b_c [d] ` + "`e`" + ` \ &lt;f&gt; 1 &amp; 2</p>`, []string{"p: a\\*b\\_c \\[d\\] \\`e\\` \\\\ \\<f> 1 & 2"}},
		{"line start escaping", "<p># not heading</p><p>1. not list</p><p>- nor this</p><p>&gt; nor quote</p>", []string{"p: \\# not heading", "p: 1\\. not list", "p: \\- nor this", "p: \\> nor quote"}},
		{"entities decoded", "<p>&ldquo;引号&rdquo;&nbsp;&copy; &#x4E2D;</p>", []string{"p: “引号” © 中"}},
		{"whitespace collapse", "<p>  hello \n\t world  </p>", []string{"p: hello world"}},
		{"no space between cjk lines", "<p>中文\n  文本 and\nEnglish</p>", []string{"p: 中文文本 and English"}},
		{"explicit cjk space kept", "<p>奥尔特曼 如何</p>", []string{"p: 奥尔特曼 如何"}},
		{"zero width only dropped", "<p>\u200b\u200d</p><p>a\u200bb</p>", []string{"p: ab"}},
		{"punctuation only dropped", "<div><span>,</span> <span>,</span></div>", nil},
		{"image splits paragraph", `<p>前<img src="a.png" alt="图" title="t">后</p>`, []string{"p: 前", "img: a.png alt=图 title=t", "p: 后"}},
		{"lazy image src", `<img data-src="real.png" src="data:image/svg+xml,abc">`, []string{"img: real.png"}},
		{"image with br", `<p><img src="a.jpg"><br></p>`, []string{"img: a.jpg"}},
		{"lists", "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul><ol start=\"3\"><li>x</li><li>y</li></ol>",
			[]string{"li0: a", "li0: b", "li1: c", "li0 3.: x", "li0 4.: y"}},
		{"list nested directly in list", "<ul><li>a</li><ul><li>b</li></ul></ul>", []string{"li0: a", "li1: b"}},
		{"list item paragraphs", "<ol><li><p>one</p><p>more</p></li><li><section>two</section></li></ol>", []string{"li0 1.: one\\\nmore", "li0 2.: two"}},
		{"blockquote paragraphs", "<blockquote><p>一</p><p>二</p><blockquote><p>三</p></blockquote></blockquote>", []string{"q1: 一", "q1: 二", "q2: 三"}},
		{"blockquote text with br", "<blockquote>一<br>二</blockquote>", []string{"q1: 一", "q1: 二"}},
		{"table", "<table><thead><tr><th>a</th><th>b|c</th></tr></thead><tbody><tr><td><b>1</b></td><td>x<br>y</td></tr><tr><td>only</td></tr></tbody></table>",
			[]string{"table: a|b\\|c / **1**|x y / only|"}},
		{"image table", `<table><tr><td><img src="1.png"></td><td><img src="2.png"></td></tr><tr><td></td><td><img src="3.png"></td></tr></table>`,
			[]string{"img: 1.png", "img: 2.png", "img: 3.png"}},
		{"one cell table is layout", "<table><tr><td><p>a</p><p>b</p></td></tr></table>", []string{"p: a", "p: b"}},
		{"pre code", "<pre><code class=\"language-go\">if a &lt; b {\n\treturn\n}\n</code></pre>", []string{"code(go): if a < b {\n\treturn\n}"}},
		{"pre with br and spans", "<pre><span></span><code><span>#</span> x<br>  y<br></code></pre>", []string{"code(): # x\n  y"}},
		{"pre as wrapper", "<pre><section><img src=\"a.png\"></section></pre>", []string{"img: a.png"}},
		{"hr", "<p>a</p><hr><p>b</p>", []string{"p: a", "hr", "p: b"}},
		{"figure", `<figure><img src="a.png"><figcaption>说明 <em>文字</em></figcaption></figure>`, []string{"img: a.png", "p: 说明 *文字*"}},
		{"figure filename caption dropped", `<figure><img src="a.png"><figcaption>image.png</figcaption></figure>`, []string{"img: a.png"}},
		{"media", `<p><iframe src="//www.youtube.com/embed/x"></iframe></p><video><source src="v.mp4"></video><audio src="a.mp3"></audio><iframe></iframe>`,
			[]string{"p: [video](https://www.youtube.com/embed/x)", "p: [video](v.mp4)", "p: [audio](a.mp3)"}},
		{"wrappers and junk", `<div class="article-global"></div><section><div><span>文</span></div></section><script>x()</script><style>p{}</style><svg><text>s</text></svg><noscript>n</noscript><!-- c --><div></div>`,
			[]string{"p: 文"}},
		{"sup and sub keep text", "<p>H<sub>2</sub>O x<sup>2</sup></p>", []string{"p: H2O x2"}},
		{"strikethrough", "<p><del>old</del> new</p>", []string{"p: ~~old~~ new"}},
		{"math markup skipped", "<p><span><semantics><mi>n</mi></semantics></span><span aria-hidden=\"true\">n×p</span></p>", []string{"p: n×p"}},
		{"source link variants", `<p>x</p><p><a href="https://o.rg/1">阅读原文</a></p>`, []string{"p: x", "src: https://o.rg/1 阅读原文"}},
		{"read-original not last stays paragraph", `<p><a href="https://o.rg/1">原文</a></p><p>x</p>`, []string{"p: [原文](https://o.rg/1)", "p: x"}},
		{"rule before source link dropped", `<p>x</p><hr><a href="https://o.rg/1">原文链接</a>`, []string{"p: x", "src: https://o.rg/1 原文链接"}},
		{"document title and article", `<!DOCTYPE html><html><head><title>页面 标题</title></head><body><nav>菜单</nav><article><p>正文</p></article></body></html>`,
			[]string{"p: 正文"}},
	})
}

func TestHTMLDocumentTitle(t *testing.T) {
	a, err := Parse([]byte(`<html><head><title> 页面
标题 </title></head><body><p>x</p></body></html>`), SyntaxAuto)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "页面 标题" {
		t.Errorf("title = %q", a.Title)
	}
}

func TestMarkdown(t *testing.T) {
	runCases(t, SyntaxMarkdown, []parseCase{
		{"paragraphs", "一段\n文字\n\nsecond\nline", []string{"p: 一段文字", "p: second line"}},
		{"headings and emphasis", "## 标题\n\n**粗** and *em* `code`", []string{"h2: 标题", "p: **粗** and *em* `code`"}},
		{"fenced code", "```python\nprint(1)\n\nx = 2\n```", []string{"code(python): print(1)\n\nx = 2"}},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"table: a|b / 1|2"}},
		{"nested lists", "- a\n  - b\n1. c\n2. d", []string{"li0: a", "li1: b", "li0 1.: c", "li0 2.: d"}},
		{"quote", "> 引用\n>\n> 第二段", []string{"q1: 引用", "q1: 第二段"}},
		{"image", "![图](https://x/a.png \"标题\")", []string{"img: https://x/a.png alt=图 title=标题"}},
		{"hard break", "a  \nb", []string{"p: a\\\nb"}},
		{"footer link", "text\n\n---\n\n[原文链接](https://o.rg/x)", []string{"p: text", "src: https://o.rg/x 原文链接"}},
		{"html body goes to goquery", "<p>a</p><hr>\n<a href=\"https://o.rg/1\",target=\"_blank\">原文链接</a>", []string{"p: a", "src: https://o.rg/1 原文链接"}},
		{"escaped specials survive", "a \\* b \\_ c", []string{"p: a \\* b \\_ c"}},
	})
}

func TestPlain(t *testing.T) {
	runCases(t, SyntaxText, []parseCase{
		{"blank line paragraphs", "第一段\n续行\n\n  第二段  \n\n\n# 3 *x*\n", []string{"p: 第一段续行", "p: 第二段", "p: \\# 3 \\*x\\*"}},
		{"single newlines", "一\n二\nthree\n", []string{"p: 一", "p: 二", "p: three"}},
		{"whitespace-only lines are blank", "a\n   \nb", []string{"p: a", "p: b"}},
		{"markup is text", "<p>x</p>", []string{"p: \\<p>x\\</p>"}},
	})
	a, err := Parse([]byte("Title\n\nbody"), SyntaxText)
	if err != nil || a.Title != "" {
		t.Errorf("plain text title = %q, err %v; want none", a.Title, err)
	}
}

func TestSniff(t *testing.T) {
	runCases(t, SyntaxAuto, []parseCase{
		{"front matter", "---\ntitle: x\n---\n<p>a</p>", []string{"p: a"}},
		{"archive header", "T by S\n------\n<p>a</p>", []string{"p: a"}},
		{"doctype", "<!doctype html><title>t</title><p>a</p>", []string{"p: a"}},
		{"html fragment", "Some text <p>a</p>", []string{"p: Some text", "p: a"}},
		{"markdown", "# Title\n\n- item", []string{"h1: Title", "li0: item"}},
		{"markdown link", "see [x](https://y)", []string{"p: see [x](https://y)"}},
		{"plain", "第一行\n第二行", []string{"p: 第一行", "p: 第二行"}},
		{"plain with blank lines", "a\nb\n\nc", []string{"p: a b", "p: c"}},
	})
}

// TestGB18030MatchesUTF8 checks that the GB18030 copy of the seed text
// parses into exactly the blocks of the UTF-8 original.
func TestGB18030MatchesUTF8(t *testing.T) {
	parse := func(name string, syn Syntax) *Article {
		data, err := os.ReadFile(filepath.Join("testdata/corpus", name))
		if err != nil {
			t.Fatal(err)
		}
		a, err := Parse(data, syn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return a
	}
	for _, syn := range []Syntax{SyntaxText, SyntaxAuto} {
		utf := parse("plain-seed-cnbeta.txt", syn)
		gb := parse("plain-gb18030-seed-cnbeta.txt", syn)
		if len(utf.Blocks) != 25 {
			t.Errorf("%v: %d blocks, want 25", syn, len(utf.Blocks))
		}
		if !reflect.DeepEqual(utf, gb) {
			t.Errorf("%v: GB18030 parse differs from UTF-8 parse", syn)
		}
	}
}

// TestCRLFFrontMatter: CRLF files parse like LF files.
func TestCRLF(t *testing.T) {
	lf := archiveFM + "标题 by x\n------\n<p>a</p>\n<p>b</p>\n"
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	a1, err1 := Parse([]byte(lf), SyntaxAuto)
	a2, err2 := Parse([]byte(crlf), SyntaxAuto)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(a1, a2) {
		t.Errorf("CRLF parse differs:\n%s\n%s", dump(a1), dump(a2))
	}
}

var leakMarkers = []string{"<p", "</p", "<div", "<span", "<section", "<br", "<img", "<strong", "&nbsp;", "&amp;", "&lt;", "&gt;", "&quot;", "&#", "\uFFFD\uFFFD\uFFFD\uFFFD"}

var renderer = goldmark.New(goldmark.WithExtensions(extension.GFM))

// TestAllCorpus parses every file of the shared development corpus.
func TestAllCorpus(t *testing.T) {
	const dir = "/work/shared/corpus"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("shared corpus %s not available (%v); the copies in testdata/corpus are tested by TestGoldenCorpus", dir, err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".md" && ext != ".txt") || name == "README.md" {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := Parse(data, SyntaxAuto)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(bytes.TrimSpace(data)) > 0 && len(a.Blocks) == 0 {
				t.Errorf("no blocks from a non-empty file")
			}
			if a.Meta.Format != NoFrontMatter && a.Title == "" {
				t.Errorf("front matter but no title")
			}
			for i, b := range a.Blocks {
				texts := []string{b.Text}
				for _, r := range b.Rows {
					texts = append(texts, r...)
				}
				for _, s := range texts {
					for _, m := range leakMarkers {
						if strings.Contains(s, m) {
							t.Errorf("block %d (%s) text leaks %q: %.200q", i, b.Kind, m, s)
						}
					}
					if b.Kind != Code && strings.TrimSpace(s) != s {
						t.Errorf("block %d (%s) not trimmed: %q", i, b.Kind, s)
					}
				}
				if b.Kind == Paragraph || b.Kind == Heading || b.Kind == ListItem || b.Kind == Quote {
					if b.Text == "" {
						t.Errorf("block %d (%s) is empty", i, b.Kind)
					}
					// Emphasis must render: no literal ** in the HTML.
					var out bytes.Buffer
					if err := renderer.Convert([]byte(strings.ReplaceAll(b.Text, `\*`, "x")), &out); err != nil {
						t.Fatal(err)
					}
					if strings.Contains(out.String(), "**") {
						t.Errorf("block %d (%s) renders a literal **: %.300q", i, b.Kind, b.Text)
					}
				}
				if (b.Kind == Image || b.Kind == SourceLink) && (b.Src == "" || strings.ContainsAny(b.Src, "\" \n")) {
					t.Errorf("block %d (%s) bad src %q", i, b.Kind, b.Src)
				}
			}
			if strings.Contains(string(data), "原文链接</a>") {
				last := a.Blocks[len(a.Blocks)-1]
				if last.Kind != SourceLink || strings.Contains(last.Src, "target") {
					t.Errorf("last block is %s %q, want the source link", last.Kind, last.Src)
				}
			}
		})
	}
	if n < 40 {
		t.Errorf("parsed %d corpus files, expected about 49", n)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "---\ntitle: x\n---\nT by S\n------\n<p>a<br><br>b</p><hr><a href=\"u\",target=\"_blank\">原文链接</a>",
		"<table><tr><td>a</td></tr></table>", "```go\nx\n```", "- a\n  - b", "{\n\"a\":1\n}\n\nx",
		"<pre><code>x<br>y</code></pre>", "<p><strong>a<br><br>b</strong></p>", "+++\na=1\n+++\n",
		"\xd6\xd0\xce\xc4", "<ul><li><p>a</p><ul><li>b</li></ul>c</li></ul>",
	}
	for _, s := range seeds {
		for syn := range len(syntaxNames) {
			f.Add([]byte(s), syn)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, syn int) {
		a, err := Parse(data, Syntax(syn%len(syntaxNames)))
		if err != nil {
			if a != nil {
				t.Errorf("article and error both returned")
			}
			return
		}
		for _, b := range a.Blocks {
			if b.Translatable() && b.Kind != Table && b.Text == "" {
				t.Errorf("empty %s block", b.Kind)
			}
			if strings.ContainsFunc(b.Text, isSentinel) {
				t.Errorf("sentinel leaked into %q", b.Text)
			}
		}
	})
}

// TestJSONFrontMatterForms: every form of JSON front matter that Hugo
// reads is front matter here too; a brace that opens no JSON object is
// text.
func TestJSONFrontMatterForms(t *testing.T) {
	cases := []struct {
		name, in, title string
		blocks          []string
	}{
		{"lines, blank after", "{\n  \"title\": \"标题\"\n}\n\n正文", "标题", []string{"p: 正文"}},
		{"lines, no blank after", "{\n  \"title\": \"标题\"\n}\n正文", "标题", []string{"p: 正文"}},
		{"one line", `{"title": "标题", "date": "2024-01-02"}` + "\n正文", "标题", []string{"p: 正文"}},
		{"one line, html body", `{"title": "标题"}` + "\n<p>正文</p>", "标题", []string{"p: 正文"}},
		{"braces in strings", `{"title": "a } b { c", "x": {"y": "}"}}` + "\n正文", "a } b { c", []string{"p: 正文"}},
		{"escaped quote", `{"title": "say \"}\""}` + "\n正文", `say "}"`, []string{"p: 正文"}},
		{"empty object", "{}\n正文", "", []string{"p: 正文"}},
		{"text in braces", "{注意}这是正文", "", []string{"p: {注意}这是正文"}},
		{"no matching brace", "{\"title\": \"x\"\n正文", "", []string{"p: {\"title\": \"x\"", "p: 正文"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.in), SyntaxAuto)
			if err != nil {
				t.Fatal(err)
			}
			if a.Title != tc.title {
				t.Errorf("title %q, want %q", a.Title, tc.title)
			}
			if tc.title != "" && a.Meta.Format != JSON {
				t.Errorf("front matter format %v, want json", a.Meta.Format)
			}
			if got := briefs(a); !reflect.DeepEqual(got, tc.blocks) {
				t.Errorf("blocks = %q, want %q", got, tc.blocks)
			}
		})
	}
	_, err := Parse([]byte("{\n  \"title\": \"x\",\n  \"date\": 2024-01-02\n}\n正文"), SyntaxAuto)
	if !errors.Is(err, ErrFrontMatter) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad JSON front matter: err %v, want a front matter error on line 3", err)
	}
}

// TestSyntaxByContent: the body's syntax comes from its content, and an
// explicit syntax overrides that; front matter is found either way.
func TestSyntaxByContent(t *testing.T) {
	const fm = "---\ntitle: 标题\n---\n"
	cases := []struct {
		name string
		syn  Syntax
		in   string
		want []string
	}{
		{"front matter over html", SyntaxAuto, fm + "<div><p>一</p><p>二</p></div>", []string{"p: 一", "p: 二"}},
		{"front matter over markdown", SyntaxAuto, fm + "## 小标题\n\n正文", []string{"h2: 小标题", "p: 正文"}},
		{"plain text stays plain", SyntaxAuto, "第一行 *不是强调*\n第二行", []string{"p: 第一行 \\*不是强调\\*", "p: 第二行"}},
		{"plain with blank lines", SyntaxAuto, "一\n二\n\n三", []string{"p: 一二", "p: 三"}},
		{"markdown by emphasis", SyntaxAuto, "这是**重点**\n续行", []string{"p: 这是**重点**续行"}},
		{"text forced", SyntaxText, fm + "<p>一</p>", []string{"p: \\<p>一\\</p>"}},
		{"html forced", SyntaxHTML, "一<b>二</b>", []string{"p: 一**二**"}},
		{"markdown forced", SyntaxMarkdown, "一\n二", []string{"p: 一二"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.in), tc.syn)
			if err != nil {
				t.Fatal(err)
			}
			if got := briefs(a); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("blocks = %q, want %q", got, tc.want)
			}
			if strings.HasPrefix(tc.in, "---") && a.Title != "标题" {
				t.Errorf("title %q, want the front matter's", a.Title)
			}
		})
	}
	for _, name := range []string{"", "auto", "HTML", " markdown ", "text"} {
		if _, err := ParseSyntax(name); err != nil {
			t.Errorf("ParseSyntax(%q): %v", name, err)
		}
	}
	if _, err := ParseSyntax("md"); err == nil {
		t.Errorf("ParseSyntax(md) accepted")
	}
}

// TestPreParagraphsAreCode: WeChat's editor writes code as paragraphs in a
// <pre>, lines split by <br>: that is code, never prose for the model.
func TestPreParagraphsAreCode(t *testing.T) {
	runCases(t, SyntaxHTML, []parseCase{
		{"pre p br", "<p>代码如下：</p><pre><p>library(ggplot2)<br># 画图<br>x &lt;- c(1, 2)</p><p>print(x)</p></pre><p>完。</p>",
			[]string{"p: 代码如下：", "code(): library(ggplot2)\n# 画图\nx <- c(1, 2)\nprint(x)", "p: 完。"}},
		{"pre wrapping an image is no code", `<pre><section><img src="a.png"></section></pre>`, []string{"img: a.png"}},
	})
}

// A huge front matter is not searched line by line for its problem's line
// (yaml.v3's own is kept): the error comes at once.
func TestFrontMatterErrorHugeYAML(t *testing.T) {
	var b strings.Builder
	b.WriteString("---\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "key%d: value %d\n", i, i)
	}
	b.WriteString("title: \"他说\"你好\"\"\n---\n正文\n")
	// The line is found by bisection: a few parses, not one per line (no
	// timing here: speed belongs to benchmarks).
	_, err := Parse([]byte(b.String()), SyntaxAuto)
	if err == nil || err.Error() != "front matter: yaml: line 2002: did not find expected key" {
		t.Errorf("err = %v", err)
	}
}
