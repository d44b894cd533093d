package translate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/lang"
)

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
		l := lang.Lookup(tt.lang)
		if got := l.WrongScript(src, tt.out); got != tt.wrongScript {
			t.Errorf("%s: wrongScript(%.20q) = %v, want %v", tt.lang, tt.out, got, tt.wrongScript)
		}
		if got := badLength(l, src, tt.out); got != tt.length {
			t.Errorf("%s: badLength(%.20q) = %v, want %v", tt.lang, tt.out, got, tt.length)
		}
	}
}

// badLength reports an answer outside the length bounds (validate.go).
func badLength(l lang.Language, src, out string) bool {
	lo, hi := lengthBounds(l, measureSource(src), false)
	n := float64(letterCount(out))
	return n < lo || n > hi
}

func TestPromptsUseTargetLanguage(t *testing.T) {
	// The summary's and notes' instructions are summarize's (see its
	// TestInstructionsUseTargetLanguage); translate adds them as given.
	for _, lang := range []string{"Japanese", "German", "Traditional Chinese"} {
		tr := New(nil, nil, chunk.Default(), Options{Lang: lang, Extra: &Extra{Whole: " W", Part: " P"}})
		for kind, tail := range map[brief]string{briefNone: ".", briefNote: " P", briefSummary: " W"} {
			system, _ := tr.request(job{title: "标题", brief: kind}, []string{"第一段。"})
			if got := strings.Count(system, lang); got != 1 || strings.Contains(system, "English") || !strings.HasSuffix(system, tail) {
				t.Errorf("%s, brief %d: %d mentions of the language (want 1), ends %q: %s", lang, kind, got, tail, system)
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
			if got := lang.Lookup(tt.lang).Join([]string{"A", "B"}); got != "A"+tt.joinSpan+"B" {
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
