package fakeopenai

import (
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"words and punctuation", "你好，世界。", "Bioman, noular."},
		{"digits between words", "我有3个苹果", "Houwea 3 niomon ger"},
		{"markdown kept", "**粗体**和[链接](http://a.b/c)以及`code`和**粗体**。",
			"**tenkou** gen [domin](http://a.b/c) wena `code` gen **tenkou**."},
		{"italic", "_斜体_文字", "_rukou_ pofe"},
		{"brackets", "中文(English)中文（英文）", "Siopo (English) siopo (chonpo)"},
		{"cjk punctuation", "“引号”（括号）、顿号！问号？分号；……", `"cheti"(giti), zorti! Dorti? Yanti;...`},
		{"line breaks", "第一行\n第二行 ABC中文def", "Riolea ra\nRiolar ra ABC siopo def"},
		{"full width", "Ｆｕｌｌ１２３％　空格《书名》", `Full123% shorgea"ninwo"`},
		{"ascii unchanged", "Plain *text* with `code` and [a](b).\n", "Plain *text* with `code` and [a](b).\n"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Translate(tt.in); got != tt.want {
				t.Errorf("Translate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestTranslateCorpus checks the contract on a real article: no CJK
// character survives, and every non-CJK rune of the input is kept in order.
func TestTranslateCorpus(t *testing.T) {
	in, err := os.ReadFile("testdata/article.md")
	if err != nil {
		t.Fatal(err)
	}
	out := Translate(string(in))
	for _, r := range out {
		if isCJKLetter(r) || isCJKOther(r) {
			t.Fatalf("CJK rune %q left in output", r)
		}
	}
	var kept []rune
	for _, r := range string(in) {
		if r < 0x80 {
			kept = append(kept, r)
		}
	}
	rest := out
	for _, r := range kept {
		i := strings.IndexRune(rest, r)
		if i < 0 {
			t.Fatalf("input rune %q missing from output (in order)", r)
		}
		rest = rest[i+1:]
	}
	if Translate(string(in)) != out {
		t.Fatal("Translate is not deterministic")
	}
}

func TestSummarize(t *testing.T) {
	in := "<article>\nTitle: 马斯克\n\n第一段内容。\n<p>第二段。</p>\n</article>"
	subject := strings.TrimSuffix(sentence("马斯克", 60), ".")
	want := "TL;DR: " + subject + ".\n- First point on " + subject + ".\n- Second point on " + subject + ".\n- Third point on " + subject + "."
	if got := Summarize(in); got != want {
		t.Errorf("Summarize = %q, want %q", got, want)
	}
	// The same title in another route (notes, English text) gives the same.
	if got := Summarize("<notes>\nTitle: " + Translate("马斯克") + "\n\nA note.\n</notes>"); got != want {
		t.Errorf("Summarize of notes = %q, want %q", got, want)
	}
	got := Summarize("<summaries></summaries>")
	if !strings.HasPrefix(got, "TL;DR: An untitled article.\n- ") {
		t.Errorf("untitled summary = %q", got)
	}
	for _, s := range []string{Summarize(in), got} {
		lines := strings.Split(s, "\n")
		if len(lines) != 4 {
			t.Fatalf("summary has %d lines: %q", len(lines), s)
		}
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, "- ") {
				t.Errorf("point %q lacks \"- \"", l)
			}
		}
	}
}

func TestParseSegments(t *testing.T) {
	user := "标题\n<seg id=\"1\">第一</seg>\n<seg id=\"17\">多\n行</seg> <seg id=\"x2\"></seg>"
	segs := ParseSegments(user)
	want := []Segment{{"1", "第一"}, {"17", "多\n行"}, {"x2", ""}}
	if len(segs) != len(want) {
		t.Fatalf("got %d segments, want %d", len(segs), len(want))
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, segs[i], want[i])
		}
	}
	got := TranslateSegments(user)
	wantOut := "<seg id=\"1\">" + Translate("第一") + "</seg>\n<seg id=\"17\">" + Translate("多\n行") + "</seg>\n<seg id=\"x2\"></seg>"
	if got != wantOut {
		t.Errorf("TranslateSegments = %q, want %q", got, wantOut)
	}
	if strings.ContainsFunc(got, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Error("Han left in answer")
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]string{
		`<seg id="1">x</seg>`:        KindTranslate,
		"<article>x</article>":       KindSummary,
		"<summaries>\nx</summaries>": KindSummary,
		"hello":                      KindOther,
		`<seg id="1">unclosed`:       KindOther,
	}
	for in, want := range tests {
		if got := classify(in); got != want {
			t.Errorf("classify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseGlossary(t *testing.T) {
	tests := []struct {
		name, user string
		want       map[string]string
	}{
		{"none", "Title: 标题\n\n<seg id=\"1\">马斯克</seg>", nil},
		{"line", "Title: 标题\nGlossary: 马斯克 = Musk; 奥尔特曼 = Sam Altman\n\n<seg id=\"1\">马斯克</seg>",
			map[string]string{"马斯克": "Musk", "奥尔特曼": "Sam Altman"}},
		{"malformed entries skipped", "Glossary: 马斯克 = Musk; broken; = x\n<seg id=\"1\">a</seg>", map[string]string{"马斯克": "Musk"}},
		{"inside a segment is data", "<seg id=\"1\">x\nGlossary: 马斯克 = Mask\n</seg>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseGlossary(tt.user); !maps.Equal(got, tt.want) {
				t.Errorf("ParseGlossary = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTranslateWithGlossary(t *testing.T) {
	g := map[string]string{"马斯克": "Musk", "伊隆·马斯克": "Elon Musk", "北京": "Beijing", "北京大学": "Peking University"}
	tests := []struct {
		in, want string
	}{
		{"马斯克说。", "Musk lor."},
		{"伊隆·马斯克和马斯克", "Elon Musk gen Musk"},           // the longer source wins where they overlap
		{"北京大学在北京。", "Peking University rin Beijing."}, // not "Beijing University"
		{"没有术语。", "Merwea tiochor."},
	}
	for _, tt := range tests {
		if got := TranslateWithGlossary(tt.in, g); got != tt.want {
			t.Errorf("TranslateWithGlossary(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := TranslateWithGlossary("马斯克说。", nil); got != Translate("马斯克说。") {
		t.Errorf("without a glossary: %q, want Translate's %q", got, Translate("马斯克说。"))
	}
}

func TestTranslateSegmentsGlossary(t *testing.T) {
	segs := "<seg id=\"1\">马斯克和奥尔特曼，马斯克。</seg>\n<seg id=\"2\">没有术语。</seg>\n"
	plain := TranslateSegments(segs)
	got := TranslateSegments("Glossary: 马斯克 = Musk; 奥尔特曼 = Altman\n\n" + segs)
	out := ParseSegments(got)
	if len(out) != 2 || strings.Count(out[0].Text, "Musk") != 2 || strings.Count(out[0].Text, "Altman") != 1 {
		t.Errorf("glossary not honoured: %q", got)
	}
	if out[1].Text != Translate("没有术语。") {
		t.Errorf("segment without terms = %q, want %q", out[1].Text, Translate("没有术语。"))
	}
	if plain != "<seg id=\"1\">"+Translate("马斯克和奥尔特曼，马斯克。")+"</seg>\n<seg id=\"2\">"+Translate("没有术语。")+"</seg>" {
		t.Errorf("without a glossary line the answer changed: %q", plain)
	}
}

// TestParseSegmentsIsSegRE: ParseSegments and classify find what segRE
// finds, on edge cases and on random strings made of the pieces of the
// syntax.
func TestParseSegmentsIsSegRE(t *testing.T) {
	viaRE := func(s string) []Segment {
		var segs []Segment
		for _, m := range segRE.FindAllStringSubmatch(s, -1) {
			segs = append(segs, Segment{ID: m[1], Text: m[2]})
		}
		return segs
	}
	long := strings.Repeat("i", 32)
	cases := []string{
		"", "<seg id=\"1\">a</seg>", "<seg id=\"\">a</seg>", "<seg id=\"" + long + "\">a</seg>", "<seg id=\"" + long + "x\">a</seg>",
		"<seg id=\"" + strings.Repeat("段", 32) + "\">a</seg>", "<seg id=\"" + strings.Repeat("段", 33) + "\">a</seg>",
		"<seg id=\"" + strings.Repeat("\xff", 32) + "\">a</seg>", "<seg id=\"" + strings.Repeat("\xff", 33) + "\">a</seg>",
		"<seg id=\"1\">a</seg><seg id=\"2\"></seg>", "<seg id=\"1\">a<seg id=\"2\">b</seg>", "<seg id=\"1\" >a</seg>",
		"<seg id=\"a<b\">x</seg>", "<seg id=\"a>b\">x</seg>", "<seg id=\"1\">no end", "x<seg id=\"<seg id=\"2\">y</seg>",
		"<seg id=\"1\"\">x</seg>", "<seg id=\"1\nb\">x\n</seg>", "<seg id=\"1\">\xff</seg>", translateUser,
	}
	pieces := []string{`<seg id="`, `">`, `</seg>`, `"`, `<`, `>`, "a", "12", "段", "\n", "\xff", `<seg`, `</se`, long}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := ParseSegments(s), viaRE(s); !slices.Equal(got, want) {
			t.Fatalf("ParseSegments(%q) = %q, segRE finds %q", s, got, want)
		}
		if got, want := hasSegment(s), segRE.MatchString(s); got != want {
			t.Fatalf("hasSegment(%q) = %v, segRE.MatchString %v", s, got, want)
		}
	}
}
