// Package lang knows the target languages of a translation and how Chinese
// text is recognised: the names and codes of languages, the script each is
// written in, and the checks that tell Chinese left untranslated from a
// translation. translate, summarize and pipeline share it.
package lang

import (
	"strings"
	"unicode"
)

// Target languages. The checks of an answer depend on how the target
// language is written: an answer in Japanese legitimately holds Han
// characters (kanji), one in Traditional Chinese is Han throughout, and
// languages written without spaces rejoin a split paragraph without them.
// Everything the package knows about a language is in the table below.

// Script is how a target language is written, as far as the checks need.
type Script int

const (
	// ScriptOther is any script without Han characters: Latin, Cyrillic,
	// Greek, Arabic, Thai, … and every language not in the table.
	ScriptOther    Script = iota
	ScriptHans            // Simplified Chinese
	ScriptHant            // Traditional Chinese
	ScriptJapanese        // kanji with kana
	ScriptKorean          // hangul (Han rarely)
)

// Language is a target language.
type Language struct {
	// Name is the language's English name ("Japanese") for a known name or
	// code ("ja", "日本語", "ja-JP"), else the name as given. Prompts and
	// cache keys use it.
	Name   string
	Script Script
	// Spaced tells that sentences are separated by a space (false for
	// Chinese and Japanese): the pieces of a split paragraph are rejoined
	// with one.
	Spaced bool
	// letters are the scripts an answer in the language must use (nil:
	// not checked). Latin is listed for Latin-script languages, so an
	// answer in Chinese or Cyrillic is caught, an English one is not.
	letters []*unicode.RangeTable
	// Rate is the typical number of letters (and digits) a translation
	// into the language has per Han character of its source; 0 for a
	// language the table does not know. translate/validate.go uses it.
	Rate float64
}

type langInfo struct {
	name    string
	script  Script
	letters []*unicode.RangeTable
	keys    string  // lowercase names and codes, separated by "|"
	rate    float64 // see Language.Rate
}

var (
	latin = []*unicode.RangeTable{unicode.Latin}
	han   = []*unicode.RangeTable{unicode.Han}
)

// languages is the table of known languages; any other name is used as
// given, with ScriptOther, spaced and no script check. The last column is
// the language's rate (translate/validate.go tells where each comes from);
// Vietnamese has none measured, so its lengths are judged leniently.
var languages = []langInfo{
	{"English", ScriptOther, latin, "english|en", 3.0},
	{"German", ScriptOther, latin, "german|de|deutsch", 3.48},
	{"French", ScriptOther, latin, "french|fr|français|francais", 3.33},
	{"Spanish", ScriptOther, latin, "spanish|es|español|espanol", 3.36},
	{"Portuguese", ScriptOther, latin, "portuguese|pt|português|portugues", 3.21},
	{"Italian", ScriptOther, latin, "italian|it|italiano", 3.42},
	{"Dutch", ScriptOther, latin, "dutch|nl|nederlands", 3.66},
	{"Polish", ScriptOther, latin, "polish|pl|polski", 3.24},
	{"Turkish", ScriptOther, latin, "turkish|tr|türkçe|turkce", 3.03},
	{"Vietnamese", ScriptOther, latin, "vietnamese|vi|tiếng việt", 0},
	{"Indonesian", ScriptOther, latin, "indonesian|id|bahasa indonesia", 3.69},
	{"Russian", ScriptOther, []*unicode.RangeTable{unicode.Cyrillic}, "russian|ru|русский", 3.42},
	{"Ukrainian", ScriptOther, []*unicode.RangeTable{unicode.Cyrillic}, "ukrainian|uk|українська", 3.06},
	{"Greek", ScriptOther, []*unicode.RangeTable{unicode.Greek}, "greek|el|ελληνικά", 3.57},
	{"Arabic", ScriptOther, []*unicode.RangeTable{unicode.Arabic}, "arabic|ar|العربية", 2.10},
	{"Hebrew", ScriptOther, []*unicode.RangeTable{unicode.Hebrew}, "hebrew|he|iw|עברית", 1.98},
	{"Hindi", ScriptOther, []*unicode.RangeTable{unicode.Devanagari}, "hindi|hi|हिन्दी", 2.94},
	{"Thai", ScriptOther, []*unicode.RangeTable{unicode.Thai}, "thai|th|ไทย", 3.12},
	{"Japanese", ScriptJapanese, []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana}, "japanese|ja|jp|日本語|日语|日文", 1.31},
	{"Korean", ScriptKorean, []*unicode.RangeTable{unicode.Hangul}, "korean|ko|kr|한국어|韩语|韓國語", 1.17},
	{"Simplified Chinese", ScriptHans, han, "simplified chinese|chinese (simplified)|chinese|zh|zh-cn|zh-sg|zh-hans|zh-hans-cn|cmn|中文|简体中文|简体|汉语|普通话", 1.0},
	{"Traditional Chinese", ScriptHant, han, "traditional chinese|chinese (traditional)|zh-tw|zh-hk|zh-mo|zh-hant|zh-hant-tw|zh-hant-hk|繁體中文|繁体中文|繁體|繁体|正體中文|中文（繁體）", 1.0},
}

// Lookup returns the target language called name (an English or native
// name, or a BCP 47 code such as "ja" or "zh-Hant", in any case). An empty
// name is English.
func Lookup(name string) Language {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "English"
	}
	key := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	if l, ok := findLang(key); ok {
		return l
	}
	switch {
	case strings.HasPrefix(key, "zh-") && containsAny(key, "hant", "tw", "hk", "mo"),
		containsAny(key, "traditional", "繁"):
		l, _ := findLang("zh-hant")
		return l
	case strings.HasPrefix(key, "zh-") || containsAny(key, "chinese", "中文", "mandarin"):
		l, _ := findLang("zh")
		return l
	}
	if base, _, ok := strings.Cut(key, "-"); ok { // en-US, pt-BR
		if l, ok := findLang(base); ok {
			return l
		}
	}
	return Language{Name: name, Script: ScriptOther, Spaced: true}
}

func findLang(key string) (Language, bool) {
	for _, li := range languages {
		for _, k := range strings.Split(li.keys, "|") {
			if k == key {
				spaced := li.script != ScriptHans && li.script != ScriptHant && li.script != ScriptJapanese
				return Language{Name: li.name, Script: li.script, Spaced: spaced, letters: li.letters, Rate: li.rate}, true
			}
		}
	}
	return Language{}, false
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// CJK reports a target written in Han, kana or hangul.
func (l Language) CJK() bool { return l.Script != ScriptOther }

// Join rejoins the translations of a paragraph that was split at sentence
// ends. A part that ends in a line break (translate keeps the break that ended it) is followed by the
// next on a new line.
func (l Language) Join(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && l.Spaced && !strings.HasSuffix(parts[i-1], "\n") {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
}

// Untranslated reports whether out, given as the translation of src, is
// mostly the Chinese source left as it was.
//
//   - Other scripts and Korean: most of the source's Han characters remain
//     and they make up a large part of the answer; Han in parentheses the
//     source does not have is a name's original or a Korean hanja gloss,
//     not counted.
//   - Japanese: kanji are Han, so Han alone proves nothing; a long answer
//     (16 or more Han characters) with no kana at all is Chinese.
//   - Chinese: the answer may equal the source when the source is already
//     in the target script; it is untranslated when it equals a source
//     holding characters of the other script, or when it holds mostly the
//     other script's characters (see simplifiedOnly).
func (l Language) Untranslated(src, out string) bool {
	switch l.Script {
	case ScriptJapanese:
		return HanCount(out) >= 16 && countIn(out, unicode.Hiragana, unicode.Katakana) == 0
	case ScriptHans, ScriptHant:
		wrong := traditionalOnly
		if l.Script == ScriptHant {
			wrong = simplifiedOnly
		}
		ws, wo := countOf(src, wrong), countOf(out, wrong)
		return (ws > 0 && strings.TrimSpace(src) == out) || (wo >= 2 && 2*wo > ws)
	}
	// Han in parentheses gives a name's original ("Xi Jinping (习近平)",
	// Korean hanja), unless the source has them there too.
	hs, ho := HanCount(src), HanCount(out)-parenthesizedHan(src, out)
	if ho <= 0 {
		return false
	}
	letters := 0
	for _, r := range out {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Han, r) {
			letters++
		}
	}
	return float64(ho) > 0.5*float64(hs) && float64(ho) > 0.3*float64(ho+letters)
}

// parenthesizedHan counts the Han characters of out inside parentheses
// that src does not have around them.
func parenthesizedHan(src, out string) int {
	n, depth := 0, 0
	rs := []rune(out)
	for i := 0; i < len(rs); {
		switch rs[i] {
		case '(', '（':
			depth++
		case ')', '）':
			depth = max(0, depth-1)
		}
		if depth == 0 || !unicode.Is(unicode.Han, rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
			j++
		}
		if run := string(rs[i:j]); !strings.Contains(src, "("+run) && !strings.Contains(src, "（"+run) {
			n += j - i
		}
		i = j
	}
	return n
}

// WrongScript reports an answer to a substantial source (10 or more Han
// characters) with no letter of the target language's script: a model that
// answered in English when asked for Japanese.
func (l Language) WrongScript(src, out string) bool {
	return l.letters != nil && HanCount(src) >= 10 && countIn(out, l.letters...) == 0
}

// LooksChinese reports whether s, a text meant to be in language l (a
// summary, a note), reads as Chinese left untranslated: for scripts without
// Han, Han characters outnumber a third of the other letters; for Japanese,
// 10 or more Han characters and no kana; for Traditional Chinese, more
// Simplified-only characters than Traditional-only ones; never for
// Simplified Chinese.
func (l Language) LooksChinese(s string) bool {
	switch l.Script {
	case ScriptJapanese:
		return HanCount(s) >= 10 && countIn(s, unicode.Hiragana, unicode.Katakana) == 0
	case ScriptHant:
		return countOf(s, simplifiedOnly) > countOf(s, traditionalOnly)
	case ScriptHans:
		return false
	}
	han, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.IsLetter(r):
			other++
		}
	}
	return han > 0 && han*3 > other
}

func countIn(s string, tables ...*unicode.RangeTable) int {
	n := 0
	for _, r := range s {
		if unicode.In(r, tables...) {
			n++
		}
	}
	return n
}

func countOf(s, set string) int {
	n := 0
	for _, r := range s {
		if strings.ContainsRune(set, r) {
			n++
		}
	}
	return n
}

// Frequent characters written differently in Simplified and Traditional
// Chinese, pairwise: each Simplified one is not used in Traditional text and
// the other way round. Enough to tell which script a sentence is in, not to
// convert it.
const (
	simplifiedOnly  = "这个们为国说时会来对发过还没实经现开关长门问间东车书见认让从电无爱业动产员头体点种话样进机当应区华顿总统领导议报网亿马乐万与两义习买卖难题数单钱银计设资术条场军纪据处务师将观织战记权变边达运选图级际该证质传厂类气热转论历飞鱼鸟龙齐远压价约极测标环积调语读写讲许识词试诉谈请谁钟铁错闻阳阴陆险随隐顺须风饭馆验鲜"
	traditionalOnly = "這個們為國說時會來對發過還沒實經現開關長門問間東車書見認讓從電無愛業動產員頭體點種話樣進機當應區華頓總統領導議報網億馬樂萬與兩義習買賣難題數單錢銀計設資術條場軍紀據處務師將觀織戰記權變邊達運選圖級際該證質傳廠類氣熱轉論歷飛魚鳥龍齊遠壓價約極測標環積調語讀寫講許識詞試訴談請誰鐘鐵錯聞陽陰陸險隨隱順須風飯館驗鮮"
)

// HanCount counts Han characters.
func HanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

// NeedsTranslation reports whether s holds Chinese text. Text without any
// Han character (numbers, English, URLs) is kept as it is and never sent.
func NeedsTranslation(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// codes are the BCP 47 codes of the known languages.
var codes = map[string]string{
	"English": "en", "German": "de", "French": "fr", "Spanish": "es", "Portuguese": "pt", "Italian": "it",
	"Dutch": "nl", "Polish": "pl", "Turkish": "tr", "Vietnamese": "vi", "Indonesian": "id", "Russian": "ru",
	"Ukrainian": "uk", "Greek": "el", "Arabic": "ar", "Hebrew": "he", "Hindi": "hi", "Thai": "th",
	"Japanese": "ja", "Korean": "ko", "Simplified Chinese": "zh-Hans", "Traditional Chinese": "zh-Hant",
}

// Code returns the BCP 47 code of the language called name (as Lookup
// reads it), or false for a name Lookup does not know.
func Code(name string) (string, bool) {
	c, ok := codes[Lookup(name).Name]
	return c, ok
}
