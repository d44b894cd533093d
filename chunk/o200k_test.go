package chunk

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/tiktoken-go/tokenizer"
)

// The tests in this file are differential: fastBPE must give exactly the
// counts, token boundaries and pieces of tiktoken-go's codec.

// o200kPattern is the codec's split pattern (codec/o200k_base.go). Compiling
// it picks up the matcher the codec registered for it (regexp.gen.go).
const o200kPattern = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`

type reference struct {
	codec tokenizer.Codec
	split *regexp2.Regexp
	fast  *fastBPE
}

var loadReference = sync.OnceValues(func() (*reference, error) {
	codec, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil, err
	}
	fast, err := newFastBPEFromCodec(codec)
	if err != nil {
		return nil, err
	}
	return &reference{codec: codec, split: regexp2.MustCompile(o200kPattern, regexp2.None), fast: fast}, nil
})

func getReference(t testing.TB) *reference {
	t.Helper()
	ref, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// refPieces returns the end offsets of the pieces regexp2 splits s into,
// in bytes of the text the codec encodes (validUTF8(s)).
func (ref *reference) refPieces(t testing.TB, s string) []int {
	t.Helper()
	var ends []int
	runes := []rune(s)
	off, ri := 0, 0 // bytes and runes consumed
	m, err := ref.split.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = ref.split.FindNextMatch(m) {
		for ; ri < m.RuneIndex; ri++ { // skipped runes
			off += utf8.RuneLen(runes[ri])
			ends = append(ends, -off)
		}
		off += len(m.String())
		ri += m.RuneLength
		ends = append(ends, off)
	}
	for ; ri < len(runes); ri++ {
		off += utf8.RuneLen(runes[ri])
		ends = append(ends, -off)
	}
	if err != nil {
		t.Fatalf("regexp2: %v", err)
	}
	return ends
}

// fastPieces returns the end offsets of the pieces of validUTF8(s), and
// for a skipped DEL the negated offset after it.
func fastPieces(s string) []int {
	s = validUTF8(s)
	var ends []int
	for p := 0; p < len(s); {
		if e := pieceEnd(s, p); e > p {
			ends = append(ends, e)
			p = e
		} else {
			p++
			ends = append(ends, -p)
		}
	}
	return ends
}

// compare fails t unless the fast counter agrees with the codec on s.
func (ref *reference) compare(t testing.TB, name, s string) {
	t.Helper()
	_, toks, err := ref.codec.Encode(s)
	if err != nil {
		t.Fatalf("%s: codec: %v", name, err)
	}
	wantEnds := make([]int, len(toks))
	off := 0
	for i, tok := range toks {
		off += len(tok)
		wantEnds[i] = off
	}
	if got, want := ref.fast.Count(s), len(toks); got != want {
		t.Errorf("%s: Count(%.80q) = %d, codec %d", name, s, got, want)
	}
	if got, want := fastPieces(s), ref.refPieces(t, s); !slices.Equal(got, want) {
		i := firstDiff(got, want)
		t.Errorf("%s: %.80q: piece %d ends at %v, regexp2 at %v", name, s, i, at(got, i), at(want, i))
	}
	if utf8.ValidString(s) && !strings.ContainsRune(s, del) {
		if got := ref.fast.tokenEnds(s); !slices.Equal(got, wantEnds) {
			i := firstDiff(got, wantEnds)
			t.Errorf("%s: %.80q: token %d ends at %v, codec at %v", name, s, i, at(got, i), at(wantEnds, i))
		}
	} else {
		if got := ref.fast.tokenEnds(s); got != nil {
			t.Errorf("%s: tokenEnds(%.80q) = %v, want nil (tokens do not cover the text)", name, s, got)
		}
	}
	if !strings.ContainsRune(s, del) && !utf8.ValidString(s) {
		if got := ref.fast.tokenEnds(validUTF8(s)); !slices.Equal(got, wantEnds) {
			i := firstDiff(got, wantEnds)
			t.Errorf("%s: %.80q (replaced): token %d ends at %v, codec at %v", name, s, i, at(got, i), at(wantEnds, i))
		}
	}
}

func firstDiff(a, b []int) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func at(s []int, i int) any {
	if i < len(s) {
		return s[i]
	}
	return "none"
}

// trickyTexts are inputs that exercise each alternative of the split
// pattern and the edges of the merge.
var trickyTexts = []string{
	"", " ", "  ", "\n", "\r\n", "\r", "\t", "a", "A", "1", "'", "'s", "é", "一",
	// contractions, case folding
	"don't", "DON'T", "Don'T", "it's", "IT'S", "It'S", "we're", "WE'RE", "We'Re", "they've",
	"I'm", "I'M", "you'll", "YOU'LL", "You'lL", "he'd", "HE'D", "x'sx", "x'ſ", "X'ſ", "xſ'ſ'ſ",
	"'re", "'ve", "'ll", "'l", "'r", "'v", "a'", "a'l", "a're'", "a'S'T", "ab'cd", "a'ſt",
	"l'amour", "O'Neil", "rock'n'roll", "'''", "a''s", "ΑΒΓ'S", "ßSS's", "ǅx'S", "ǅ'd",
	"\u02b0'm", "a\u0301's", "‘s", "a’s", "A\u2019S",
	// upper/lower/title/modifier/other letters and marks
	"Hello World", "HELLO world", "hELLO", "CamelCaseWord", "XMLHttpRequest", "iPhone",
	"ǅemal ǈudevit ǋa", "ᾈᾉᾊ ᾀ", "ʰʱʲ", "ˆaˆ", "a\u0301b\u0302", "\u0301", "\u0301A", "\u0301a",
	" \u0301A", "!\u0301A", "A\u0301", "e\u0301\u0302\u0303", "\u20dd\u20de", "x\u0903y",
	"ÀÉÎõü", "Straße STRASSE", "ＡＢＣａｂｃ", "𝐀𝐁𝐂𝐚𝐛𝐜", "𝔄𝔅", "ꟸꟹ", "ᴬᴮ",
	// digits
	"1", "12", "123", "1234", "12345", "123456", "1234567", "3.14159", "1,000,000",
	"١٢٣٤٥", "०१२३४५६", "①②③④", "Ⅻⅻ", "¼½¾", "²³¹", "x1y22z333w4444", "a1234b",
	"２０２４年", "v1.2.3-beta", "0x1F", "1e10", "-42", " 42", "  42",
	// punctuation runs, [\r\n/]* tail
	"...", "!!!", " !!!", "  !!!", "?!\n\n", "//", "/a", "a/b/c", "http://example.com/a/b?c=d&e=f#g",
	"https://www.cnbeta.com.tw/articles/tech/1234567.htm", "<a href=\"x\">y</a>", "</seg>\n",
	"<seg id=\"12\">", "**bold**", "`code`", "```go\nfunc f() {}\n```", "$$", "#!/bin/sh\n",
	"a.\r\n/b", ".\n\r/\n", " .\n/", "foo()\n\n\n", "x = y + 1;\n\tz--\n",
	// whitespace
	"a  b", "a   b", "a \n b", "a\n\nb", "a \n\n b", "a\t\tb", "  \n  \n  x", "\n \n\tx", " \r\n x",
	"trailing   ", "trailing \n", "\t\t", "\u00a0x", "a\u00a0\u00a0b", "\u3000中", "中\u3000\u3000文",
	"\u2028x", "x\u2029\u2029y", "\u0085x", "\u1680 \u2000\u2001", "\u200bzero\u200bwidth",
	"\x1c\x1d\x1e\x1f", "\v\f", " \v", "end\n", "end\n\n", "end \n ", "\r\r\n\n\r",
	"line1\r\nline2\r\n", "a \r\n\r\n b",
	// CJK, fullwidth punctuation, other scripts
	"中文", "你好，世界！", "“中文引号”", "《书名》", "【标题】", "（括号）", "……", "——",
	"今天天气很好。明天呢？", "这是一个很长的句子没有任何标点符号所以它会是一个很长的片段用来测试合并",
	"日本語のテキスト、カタカナ。", "한국어 텍스트입니다", "ภาษาไทยไม่มีช่องว่าง", "العربية نص",
	"हिन्दी पाठ", "Ελληνικά", "Русский текст", "עברית", "ქართული", "ᠮᠣᠩᠭᠣᠯ", "𠀀𠀁𪜀",
	"中English混合文本123测试", "GPT-4o是OpenAI的模型", "ChatGPT在学术探索中的妙用",
	// emoji, symbols, specials
	"😀", "😀😃😄", "👨‍👩‍👧‍👦", "🇨🇳🇺🇸", "👍🏽", "♥️", "a😀b", " 😀", "©®™", "€£¥", "→←↑↓",
	"<|endoftext|>", "<|endofprompt|>", "\x00", "a\x00b", "\x00\x00\x00",
	// DEL matches no alternative of the generated matcher: skipped
	"\x7f", "a\x7fb", "!!\x7f!!", " \x7f", "\x7f ", "\x7f\x7f1", "A\x7f's", "\n\x7f\n", "\x7f\xff",
	"\x01\x02\x1b[0m\x08",
	// invalid UTF-8
	"\xff", "\xfe\xff", "a\xffb", "\x80", "\xc3", "\xc3(", "\xe4\xb8", "\xe4\xb8x",
	"\xf0\x9f\x98", "\xed\xa0\x80", "\xed\xb0\x80", "\xed\xa0\xbd\xed\xb8\x80", "\xef\xbf\xbd",
	"中\xff文", " \xff", "\xff ", "'\xff", "a'\xff", "\xc0\x80", "\xf8\x88\x80\x80\x80",
	// long pieces and repeats
	strings.Repeat("a", 200), strings.Repeat("ab", 100), strings.Repeat("中", 100),
	strings.Repeat("的", 60), strings.Repeat(" ", 100), strings.Repeat("\n", 50), strings.Repeat("1", 20),
	strings.Repeat("!", 80), strings.Repeat("😀", 40), strings.Repeat("\xff", 30),
	strings.Repeat("没有标点的长句子", 40), strings.Repeat("abc", 50) + "'S",
}

func TestFastBPETricky(t *testing.T) {
	ref := getReference(t)
	for i, s := range trickyTexts {
		ref.compare(t, "tricky", s)
		// Each case also in context, to catch edge effects.
		ref.compare(t, "tricky in context", "x "+s+" y")
		ref.compare(t, "tricky in CJK", "中"+s+"文")
		if i > 0 {
			ref.compare(t, "tricky pair", trickyTexts[i-1]+s)
		}
	}
}

func corpusFiles(t testing.TB) map[string]string {
	t.Helper()
	// The repository's corpus (../testdata/corpus, the articles) and the
	// corpus's index files, kept here.
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := filepath.Glob(filepath.Join("testdata", "corpus-meta", "*"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, meta...)
	if len(paths) < 52 {
		t.Fatalf("only %d corpus files", len(paths))
	}
	files := make(map[string]string, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
	}
	return files
}

func TestFastBPECorpus(t *testing.T) {
	ref := getReference(t)
	for name, text := range corpusFiles(t) {
		ref.compare(t, name, text)
		for line := range strings.SplitAfterSeq(text, "\n") {
			ref.compare(t, name+" line", line)
			if trimmed := strings.TrimRight(line, "\r\n"); trimmed != line {
				ref.compare(t, name+" line", trimmed)
			}
		}
	}
}

// TestClassTable checks the precomputed classes of the Basic Multilingual
// Plane against the unicode package.
func TestClassTable(t *testing.T) {
	tab := bmpClasses()
	for r := range rune(1 << 16) {
		if got, want := tab[r], classOf(r); got != want {
			t.Fatalf("class of %U = %05b, want %05b", r, got, want)
		}
	}
}

// TestCounterIsFast pins what Default and NewCounter return.
func TestCounterIsFast(t *testing.T) {
	c, err := NewCounter()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Default().(lazy); !ok {
		t.Errorf("Default is %T, want lazy", Default())
	}
	for _, c := range []Counter{c, defaultCounter()} {
		if _, ok := c.(*fastBPE); !ok {
			t.Errorf("counter is %T, want *fastBPE", c)
		}
	}
}

func FuzzCountMatchesTiktoken(f *testing.F) {
	for _, s := range trickyTexts {
		f.Add(s)
	}
	// Corpus lines, cut to about 1 KB: TestFastBPECorpus has them whole,
	// and short inputs fuzz faster.
	for _, text := range corpusFiles(f) {
		lines := strings.SplitAfter(text, "\n")
		for i := 0; i < len(lines); i += max(1, len(lines)/8) {
			line := lines[i]
			if len(line) > 1024 {
				n := 1024
				for n > 0 && !utf8.RuneStart(line[n]) {
					n--
				}
				line = line[:n]
			}
			f.Add(line)
		}
	}
	ref := getReference(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 16<<10 {
			t.Skip("long inputs are covered by TestFastBPECorpus")
		}
		ref.compare(t, "fuzz", s)
	})
}

// BenchmarkCount compares the codec ("tiktoken") with fastBPE ("fast").
func BenchmarkCount(b *testing.B) {
	ref := getReference(b)
	texts := []struct{ name, file string }{
		{"zh-article", "corpus/一个38岁前媒体人的中产坠落___谷雨.md"},
		{"zh-plain", "plain-long-kahneman.txt"},
		{"en-article", "corpus/文献带读___STAligner.md"},
	}
	counters := []struct {
		name string
		c    Counter
	}{
		{"tiktoken", &bpe{codec: ref.codec}},
		{"fast", ref.fast},
	}
	for _, tx := range texts {
		text := readTestdata(b, tx.file)
		for _, c := range counters {
			b.Run(tx.name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					c.c.Count(text)
				}
			})
		}
	}
}

// BenchmarkBuildFastBPE measures indexing the vocabulary of a loaded codec,
// the one-time cost NewCounter adds to tokenizer.Get.
func BenchmarkBuildFastBPE(b *testing.B) {
	ref := getReference(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newFastBPEFromCodec(ref.codec); err != nil {
			b.Fatal(err)
		}
	}
}
