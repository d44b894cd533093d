package translate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
)

func TestLookupLang(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		script Script
		spaced bool
	}{
		{"", "English", ScriptOther, true},
		{"English", "English", ScriptOther, true},
		{"en-US", "English", ScriptOther, true},
		{"de", "German", ScriptOther, true},
		{"Deutsch", "German", ScriptOther, true},
		{"pt_BR", "Portuguese", ScriptOther, true},
		{"Japanese", "Japanese", ScriptJapanese, false},
		{"ja-JP", "Japanese", ScriptJapanese, false},
		{"日本語", "Japanese", ScriptJapanese, false},
		{"ko", "Korean", ScriptKorean, true},
		{"Chinese", "Simplified Chinese", ScriptHans, false},
		{"zh-CN", "Simplified Chinese", ScriptHans, false},
		{"Traditional Chinese", "Traditional Chinese", ScriptHant, false},
		{"zh-Hant", "Traditional Chinese", ScriptHant, false},
		{"zh-Hant-TW", "Traditional Chinese", ScriptHant, false},
		{"zh_TW", "Traditional Chinese", ScriptHant, false},
		{"繁體中文", "Traditional Chinese", ScriptHant, false},
		{"Chinese (Traditional, Hong Kong)", "Traditional Chinese", ScriptHant, false},
		{"Klingon", "Klingon", ScriptOther, true},
	}
	for _, tt := range tests {
		l := LookupLang(tt.in)
		if l.Name != tt.name || l.Script != tt.script || l.Spaced != tt.spaced {
			t.Errorf("LookupLang(%q) = %+v, want %s/%d/spaced %v", tt.in, l, tt.name, tt.script, tt.spaced)
		}
	}
}

func TestScriptSets(t *testing.T) {
	if utf8.RuneCountInString(simplifiedOnly) != utf8.RuneCountInString(traditionalOnly) {
		t.Fatal("simplifiedOnly and traditionalOnly are not pairwise")
	}
	seen := map[rune]bool{}
	for _, r := range simplifiedOnly + traditionalOnly {
		if seen[r] {
			t.Errorf("%c listed twice", r)
		}
		seen[r] = true
	}
}

func TestUntranslatedByLanguage(t *testing.T) {
	const (
		src      = "这是一个很长的句子，说的是马斯克和奥尔特曼之间的关系。"  // Simplified
		srcTrad  = "這是一個很長的句子，說的是馬斯克和奧爾特曼之間的關係。"  // the same in Traditional
		japanese = "これはマスクとアルトマンの関係について述べた長い文です。" // kanji and kana
	)
	tests := []struct {
		lang, src, out string
		want           bool
	}{
		{"English", src, "This long sentence is about Musk and Altman.", false},
		{"English", src, src, true},
		{"German", src, "Dies ist ein langer Satz über Musk und Altman.", false},
		{"German", src, src, true},
		{"Japanese", src, japanese, false},
		{"Japanese", src, src, true},        // Han throughout, no kana
		{"Japanese", "北京大学", "北京大学", false}, // a short name is the same in Japanese
		{"Japanese", "中华人民共和国国务院办公厅", "中華人民共和国国務院弁公庁", false}, // kanji only, but short
		{"Traditional Chinese", src, srcTrad, false},
		{"Traditional Chinese", src, src, true},          // not converted
		{"Traditional Chinese", srcTrad, srcTrad, false}, // already Traditional
		{"Traditional Chinese", "马斯克说。", "马斯克说。", true},  // unchanged with a Simplified-only character
		{"Traditional Chinese", "马斯克说。", "馬斯克說。", false},
		{"Simplified Chinese", src, src, false}, // already Simplified
		{"Simplified Chinese", srcTrad, srcTrad, true},
	}
	for _, tt := range tests {
		if got := LookupLang(tt.lang).untranslated(tt.src, tt.out); got != tt.want {
			t.Errorf("%s: untranslated(%q, %q) = %v, want %v", tt.lang, tt.src, tt.out, got, tt.want)
		}
	}
}

func TestWrongScriptAndLength(t *testing.T) {
	src := strings.Repeat("这是一个用于测试长度的句子。", 4) // 56 Han characters
	en := strings.Repeat("This is a sentence used to test the length. ", 4)
	ja := strings.Repeat("これは長さを試すための文です。", 4)
	trad := strings.Repeat("這是一個用於測試長度的句子。", 4)
	tests := []struct {
		lang, out           string
		wrongScript, length bool
	}{
		{"English", en, false, false},
		{"German", en, false, false}, // Latin script: English is not caught, by design
		{"Japanese", ja, false, false},
		{"Japanese", en, true, false},
		{"Traditional Chinese", trad, false, false},
		{"Traditional Chinese", en, true, false},
		{"Japanese", strings.Repeat(ja, 5), false, true},
		{"Russian", en, true, false},
		{"Russian", strings.Repeat("Это предложение для проверки длины. ", 4), false, false},
		{"Japanese", "短い。", false, true},
		{"English", "Short.", false, true},
		{"Klingon", en, false, false}, // unknown script: not checked
	}
	for _, tt := range tests {
		l := LookupLang(tt.lang)
		if got := l.wrongScript(src, tt.out); got != tt.wrongScript {
			t.Errorf("%s: wrongScript(%.20q) = %v, want %v", tt.lang, tt.out, got, tt.wrongScript)
		}
		if got := badLength(l, src, tt.out); got != tt.length {
			t.Errorf("%s: badLength(%.20q) = %v, want %v", tt.lang, tt.out, got, tt.length)
		}
	}
}

// badLength reports an answer outside the length bounds (validate.go).
func badLength(l Language, src, out string) bool {
	lo, hi := l.lengthBounds(measureSource(src), false)
	n := float64(letterCount(out))
	return n < lo || n > hi
}

func TestLooksChinese(t *testing.T) {
	tests := []struct {
		lang, s string
		want    bool
	}{
		{"English", "Musk and Altman fight.", false},
		{"English", "马斯克和奥尔特曼的争斗。", true},
		{"German", "Musk (马斯克) und Altman streiten.", false},
		{"Japanese", "マスクとアルトマンの争い。", false},
		{"Japanese", "马斯克和奥尔特曼之间的争斗愈演愈烈。", true},
		{"Japanese", "米国大統領選挙", false}, // short kanji-only text is Japanese enough
		{"Traditional Chinese", "馬斯克和奧爾特曼的爭鬥。", false},
		{"Traditional Chinese", "马斯克和奥尔特曼的争斗说明了这个问题。", true},
		{"Simplified Chinese", "马斯克和奥尔特曼的争斗。", false},
	}
	for _, tt := range tests {
		if got := LookupLang(tt.lang).LooksChinese(tt.s); got != tt.want {
			t.Errorf("%s: LooksChinese(%q) = %v, want %v", tt.lang, tt.s, got, tt.want)
		}
	}
}

// TestPromptsUseTargetLanguage checks that every prompt of a request names
// the target language and no other: nothing is English by accident.
func TestPromptsUseTargetLanguage(t *testing.T) {
	for _, lang := range []string{"Japanese", "German", "Traditional Chinese"} {
		for _, kind := range []brief{briefNone, briefNote, briefSummary} {
			tr := New(nil, nil, chunk.Default(), Options{Lang: lang})
			system, _ := tr.request(job{title: "标题", brief: kind}, []string{"第一段。"})
			want := 1 // the translation line; the note and the summary name it again
			switch kind {
			case briefNote:
				want = 2
			case briefSummary:
				want = 3
			}
			if got := strings.Count(system, lang); got != want || strings.Contains(system, "English") {
				t.Errorf("%s, brief %d: %d mentions of the language (want %d): %s", lang, kind, got, want, system)
			}
		}
	}
}

// langStub answers in a given language: a translation of n source runes is
// n runes of say's output.
func langStub(say func(src string) string) func(int, map[int]string) (string, string) {
	return func(_ int, segs map[int]string) (string, string) {
		var b strings.Builder
		for id := 1; id <= len(segs); id++ {
			fmt.Fprintf(&b, "<seg id=\"%d\">%s</seg>\n", id, say(segs[id]))
		}
		return b.String(), ""
	}
}

func TestTranslateOtherLanguages(t *testing.T) {
	long := strings.Repeat("这是一个用于测试长度的句子。", 4)
	texts := []string{"马斯克说。", long}
	tests := []struct {
		lang     string
		say      func(string) string // a good answer
		bad      func(string) string // an answer that must be asked again
		joinSpan string              // what joins the halves of a split paragraph
	}{
		{"Japanese",
			func(s string) string {
				return strings.Repeat("これは文です。", max(1, utf8.RuneCountInString(s)/7))
			},
			func(s string) string { return s }, // left in Chinese
			""},
		{"German",
			func(s string) string {
				return strings.TrimSpace(strings.Repeat("Das ist ein Satz. ", max(1, utf8.RuneCountInString(s)/6)))
			},
			func(s string) string { return s },
			" "},
		{"Traditional Chinese",
			func(s string) string {
				return strings.NewReplacer("这", "這", "个", "個", "于", "於", "试", "試", "长", "長", "马", "馬", "说", "說", "测", "測").Replace(s)
			},
			func(s string) string { return s }, // unchanged Simplified
			""},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			c := &stubClient{answer: langStub(tt.say)}
			tr := New(c, cache.Nop{}, chunk.Default(), Options{Model: "m", Lang: tt.lang})
			out, err := tr.Translate(context.Background(), Input{Texts: texts})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range texts {
				if want := tt.say(s); out.Texts[i] != want {
					t.Errorf("text %d = %q, want %q", i, out.Texts[i], want)
				}
			}
			if c.count() != 1 || !strings.Contains(c.reqs[0].Messages[0].Content, tt.lang) {
				t.Errorf("%d requests; system prompt %q", c.count(), c.reqs[0].Messages[0].Content)
			}
			// A bad answer is asked again, then fails the paragraph.
			c = &stubClient{answer: langStub(tt.bad)}
			_, err = New(c, cache.Nop{}, chunk.Default(), Options{Model: "m", Lang: tt.lang}).Translate(context.Background(), Input{Texts: []string{long}})
			if err == nil || !strings.Contains(err.Error(), "left in Chinese") || c.count() < 2 {
				t.Errorf("bad answer: err %v after %d requests, want left in Chinese after re-asks", err, c.count())
			}
			if got := LookupLang(tt.lang).join([]string{"A", "B"}); got != "A"+tt.joinSpan+"B" {
				t.Errorf("join = %q", got)
			}
		})
	}
}

// TestTranslateLangKeys checks that the language is part of the cache key
// under its canonical name: "ja" and "Japanese" share translations, English
// and Japanese do not.
func TestTranslateLangKeys(t *testing.T) {
	store, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(lang string) int {
		c := &stubClient{answer: langStub(func(string) string { return "これです。" })}
		if lang == "English" {
			c.answer = good
		}
		if _, err := New(c, store, chunk.Default(), Options{Model: "m", Lang: lang}).Translate(context.Background(), Input{Texts: []string{"第一段。"}}); err != nil {
			t.Fatal(err)
		}
		return c.count()
	}
	for _, step := range []struct {
		lang string
		reqs int
	}{{"Japanese", 1}, {"ja", 0}, {"English", 1}, {"", 0}, {"ja-JP", 0}} {
		if got := run(step.lang); got != step.reqs {
			t.Errorf("%q: %d requests, want %d", step.lang, got, step.reqs)
		}
	}
}
