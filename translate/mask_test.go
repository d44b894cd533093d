package translate

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xlate/xlate/cache"
)

func TestMaskRoundTrip(t *testing.T) {
	tests := []struct{ in, masked string }{
		{"没有链接。", "没有链接。"},
		{"见[官网](https://a.com/x?y=1)。", "见[官网](L1)。"},
		{`图![图](https://i.com/a.png "标题")和<https://b.org/p>`, `图![图](L1 "标题")和<L2>`},
		{"[一](u1)[二](u2)[三](u3)[四](u4)[五](u5)[六](u6)[七](u7)[八](u8)[九](u9)[十](u10)", "[一](L1)[二](L2)[三](L3)[四](L4)[五](L5)[六](L6)[七](L7)[八](L8)[九](L9)[十](L10)"},
	}
	for _, tt := range tests {
		masked, urls := mask(tt.in)
		if masked != tt.masked {
			t.Errorf("mask(%q) = %q, want %q", tt.in, masked, tt.masked)
		}
		back, err := unmask(masked, urls)
		if err != nil || back != tt.in {
			t.Errorf("unmask(%q) = %q, %v; want %q", masked, back, err, tt.in)
		}
	}
	if _, err := unmask("see [site].", []string{"https://a.com"}); err == nil {
		t.Error("unmask accepted a translation that lost its link")
	}
}

func TestKeepsLinks(t *testing.T) {
	src := "见[官网](L1)和<L2>。"
	for out, want := range map[string]bool{
		"See [the site](L1) and <L2>.":              true,
		"See [the site](L1).":                       false,
		"See [the site](L1), [again](L1) and <L2>.": false,
		"See [the site](L1) and <L2> and [x](L3).":  false,
		"See [the site](L1 \"title\") and <L2>.":    true,
	} {
		if got := keepsLinks(src, out); got != want {
			t.Errorf("keepsLinks(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestTranslateNeverSendsURLs(t *testing.T) {
	c := &stubClient{answer: func(n int, segs map[int]string) (string, string) {
		// Translate by keeping the masked text's links and replacing the rest.
		var b strings.Builder
		for id := 1; id <= len(segs); id++ {
			b.WriteString(`<seg id="` + string(rune('0'+id)) + `">See [the site](L1).</seg>`)
		}
		return b.String(), ""
	}}
	tr := newTestTranslator(t, c, cache.Nop{}, 1500)
	out, err := tr.Translate(context.Background(), Input{Texts: []string{"见[官网](https://example.com/a_b)。"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.reqs[0].Messages[1].Content, "example.com") {
		t.Errorf("URL sent to the model: %q", c.reqs[0].Messages[1].Content)
	}
	if out.Texts[0] != "See [the site](https://example.com/a_b)." {
		t.Errorf("translation = %q", out.Texts[0])
	}
}

// TestMaskCode: code spans travel as placeholders and come back verbatim,
// Chinese in them included; a missing or repeated one makes the answer bad.
func TestMaskCode(t *testing.T) {
	src := "运行 `pip install x` 后，点击 ``设置 `菜单` `` 和 [链接](https://a.example/x)。转义的 \\`不是代码`"
	masked, items := mask(src)
	want := "运行 `C1` 后，点击 `C2` 和 [链接](L3)。转义的 \\`不是代码`"
	if masked != want {
		t.Fatalf("mask = %q\nwant   %q", masked, want)
	}
	if !isCode(items[0]) || !isCode(items[1]) || isCode(items[2]) {
		t.Fatalf("items %q", items)
	}
	got, err := unmask("Run `C1`, then click `C2` and [the link](L3). An escaped \\`not code`", items)
	if err != nil || got != "Run `pip install x`, then click ``设置 `菜单` `` and [the link](https://a.example/x). An escaped \\`not code`" {
		t.Errorf("unmask = %q, %v", got, err)
	}
	for _, bad := range []string{"Run, then click `C2` and [the link](L3).", "Run `C1` `C1`, `C2` [l](L3)."} {
		if _, err := unmask(bad, items); err == nil {
			t.Errorf("unmask(%q) accepted", bad)
		}
		if keepsLinks(masked, bad) {
			t.Errorf("keepsLinks(%q) = true", bad)
		}
	}
}

func TestMissingLinks(t *testing.T) {
	for _, c := range []struct {
		src, text string
		want      []string
	}{
		{"见[这里](https://a.cn/x)。", "See [here](https://a.cn/x).", nil},
		{"见[这里](https://a.cn/x)。", "See here.", []string{"https://a.cn/x"}},
		{"见<https://a.cn/>和`代码`。", "See <https://a.cn/> and code.", nil},
		{"[一](https://a.cn/1)[二](https://a.cn/1)", "[one](https://a.cn/1)", []string{"https://a.cn/1"}},
		{"没有链接。", "No link, [but one](https://b.cn/).", nil},
	} {
		if got := MissingLinks(c.src, c.text); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("MissingLinks(%q, %q) = %q, want %q", c.src, c.text, got, c.want)
		}
	}
}
