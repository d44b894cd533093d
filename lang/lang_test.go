package lang

import (
	"testing"
	"unicode/utf8"
)

func TestLookup(t *testing.T) {
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
		l := Lookup(tt.in)
		if l.Name != tt.name || l.Script != tt.script || l.Spaced != tt.spaced {
			t.Errorf("Lookup(%q) = %+v, want %s/%d/spaced %v", tt.in, l, tt.name, tt.script, tt.spaced)
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
		if got := Lookup(tt.lang).Untranslated(tt.src, tt.out); got != tt.want {
			t.Errorf("%s: untranslated(%q, %q) = %v, want %v", tt.lang, tt.src, tt.out, got, tt.want)
		}
	}
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
		if got := Lookup(tt.lang).LooksChinese(tt.s); got != tt.want {
			t.Errorf("%s: LooksChinese(%q) = %v, want %v", tt.lang, tt.s, got, tt.want)
		}
	}
}

// TestPromptsUseTargetLanguage checks that every prompt of a request names

func TestJoin(t *testing.T) {
	tests := []struct {
		lang  string
		parts []string
		want  string
	}{
		{"English", []string{"One.", "Two."}, "One. Two."},
		{"English", []string{"One.\n", "Two."}, "One.\nTwo."},
		{"Japanese", []string{"一つ。", "二つ。"}, "一つ。二つ。"},
		{"Traditional Chinese", []string{"一。", "二。"}, "一。二。"},
		{"Klingon", []string{"a", "b"}, "a b"},
	}
	for _, tt := range tests {
		if got := Lookup(tt.lang).Join(tt.parts); got != tt.want {
			t.Errorf("%s: Join(%q) = %q, want %q", tt.lang, tt.parts, got, tt.want)
		}
	}
}

func TestWrongScript(t *testing.T) {
	src := "这是一个用于测试长度的句子，足够长了。" // more than 10 Han characters
	tests := []struct {
		lang, src, out string
		want           bool
	}{
		{"Japanese", src, "This is English.", true},
		{"Japanese", src, "これは日本語です。", false},
		{"Russian", src, "This is English.", true},
		{"Russian", src, "Это русский.", false},
		{"English", src, "This is English.", false},
		{"German", src, "This is English.", false}, // Latin either way
		{"Klingon", src, "whatever", false},        // unknown: not checked
		{"Japanese", "短句。", "Short.", false},       // too short a source to judge
	}
	for _, tt := range tests {
		if got := Lookup(tt.lang).WrongScript(tt.src, tt.out); got != tt.want {
			t.Errorf("%s: WrongScript(%q, %q) = %v, want %v", tt.lang, tt.src, tt.out, got, tt.want)
		}
	}
}

func TestHanAndCJK(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 0, "中文abc": 2, "日本語のテキスト": 3, "한국어": 0} {
		if got := HanCount(s); got != want {
			t.Errorf("HanCount(%q) = %d, want %d", s, got, want)
		}
		if got := NeedsTranslation(s); got != (want > 0) {
			t.Errorf("NeedsTranslation(%q) = %v", s, got)
		}
	}
	for name, want := range map[string]bool{"English": false, "Russian": false, "Japanese": true, "ko": true, "zh-TW": true, "zh": true, "Klingon": false} {
		if got := Lookup(name).CJK(); got != want {
			t.Errorf("%s: CJK() = %v, want %v", name, got, want)
		}
	}
}

func TestUntranslatedKeepsParenthesizedNames(t *testing.T) {
	src := "习近平会见了马克龙。"
	for out, want := range map[string]bool{
		"Xi Jinping (习近平) met Macron.": false, // a name's original, not the source left
		"Xi Jinping（习近平）met Macron.":   false,
		"习近平会见了马克龙 (Xi met Macron).":   true,
	} {
		if got := Lookup("English").Untranslated(src, out); got != want {
			t.Errorf("Untranslated(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestCode(t *testing.T) {
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"English", "en", true}, {"", "en", true}, {"ja", "ja", true}, {"Deutsch", "de", true},
		{"zh-TW", "zh-Hant", true}, {"简体中文", "zh-Hans", true}, {"pt-BR", "pt", true},
		{"Klingon", "", false},
	} {
		if got, ok := Code(c.name); got != c.want || ok != c.ok {
			t.Errorf("Code(%q) = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	for _, li := range languages {
		if _, ok := codes[li.name]; !ok {
			t.Errorf("%s has no code", li.name)
		}
		if code := codes[li.name]; Lookup(code).Name != li.name {
			t.Errorf("Lookup(%q) = %q, want %q", code, Lookup(code).Name, li.name)
		}
	}
}
