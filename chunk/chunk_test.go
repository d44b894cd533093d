package chunk

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// runeCounter charges a fixed number of tokens per rune, so expected cuts
// can be worked out by hand: with runeCounter(4), MinBudget (32) is 8 runes.
type runeCounter int

func (w runeCounter) Count(s string) int { return int(w) * utf8.RuneCountInString(s) }

// checkPieces fails unless pieces are non-empty, rejoin to text, respect the
// limit under c and, for valid UTF-8 text, are valid UTF-8 themselves.
func checkPieces(t testing.TB, text string, pieces []string, limit int, c Counter) {
	t.Helper()
	if got := strings.Join(pieces, ""); got != text {
		t.Fatalf("pieces do not rejoin to the text:\n got %q\nwant %q", got, text)
	}
	valid := utf8.ValidString(text)
	for i, p := range pieces {
		if p == "" {
			t.Fatalf("piece %d is empty", i)
		}
		if n := c.Count(p); n > limit {
			t.Errorf("piece %d has %d tokens, limit %d: %q", i, n, limit, p)
		}
		if valid && !utf8.ValidString(p) {
			t.Errorf("piece %d splits a rune: %q", i, p)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		budget int // with runeCounter(4): budget/4 runes
		want   []string
	}{
		{"empty", "", 32, nil},
		{"fits", "一二三。四五六。", 32, []string{"一二三。四五六。"}},
		{"sentences", "一二三。四五六。七八九。", 32,
			[]string{"一二三。四五六。", "七八九。"}},
		{"closing quote stays", "他说“好。”然后走了。", 32,
			[]string{"他说“好。”", "然后走了。"}},
		{"question and exclamation runs", "真的吗？！是的！！好……再见", 32,
			[]string{"真的吗？！", "是的！！好……", "再见"}},
		{"newlines", "第一行\n第二行\n第三行", 32,
			[]string{"第一行\n第二行\n", "第三行"}},
		{"ascii sentences keep their space", "Hi you. Go on! Ok", 40,
			[]string{"Hi you. ", "Go on! Ok"}},
		{"decimal point is no sentence end", "pi is 3.14159 ok", 48,
			[]string{"pi is ", "3.14159 ok"}},
		{"clause marks", "一二三四五，六七八九十，甲乙", 32,
			[]string{"一二三四五，", "六七八九十，甲乙"}},
		{"ascii clause needs a space", "ab,cd,ef, gh ij", 40,
			[]string{"ab,cd,ef, ", "gh ij"}},
		{"whitespace", "aaaa bbbb cccc dddd", 40,
			[]string{"aaaa bbbb ", "cccc dddd"}},
		{"hard cut", "一二三四五六七八九十甲乙", 32,
			[]string{"一二三四五六七八", "九十甲乙"}},
		{"sentence end beats filling", "短。一二三四五六七八九十。", 32,
			[]string{"短。", "一二三四五六七八", "九十。"}},
		{"runt merges with next sentence", "一二三四五六七八九。甲。乙。", 32,
			[]string{"一二三四五六七八", "九。甲。乙。"}},
		{"link kept whole", "甲乙丙丁戊己庚辛壬癸[链接](http://a.b)子丑", 64,
			[]string{"甲乙丙丁戊己庚辛壬癸", "[链接](http://a.b)", "子丑"}},
		{"image kept whole", "甲乙丙丁![图](x.png)子丑寅卯", 48,
			[]string{"甲乙丙丁", "![图](x.png)子", "丑寅卯"}},
		{"code span kept whole", "一二三四五六七八`a, b c`九十", 48,
			[]string{"一二三四五六七八", "`a, b c`九十"}},
		{"sentence end inside link ignored", "看[一。二](u)好。三四五六七八", 48,
			[]string{"看[一。二](u)好。", "三四五六七八"}},
		{"oversized link is cut", "[一二三四五六七八九十](u)", 32,
			[]string{"[一二三四五六七", "八九十](u)"}},
		{"oversized code cut at its spaces", "`aaa bbb ccc`", 32,
			[]string{"`aaa ", "bbb ccc`"}},
		{"budget below minimum", "一二三四五六七八九十", 0,
			[]string{"一二三四五六七八", "九十"}},
		{"negative budget", "一二三四五六七八九十", -5,
			[]string{"一二三四五六七八", "九十"}},
	}
	c := runeCounter(4)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.text, tt.budget, c)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitText(%q, %d)\n got %q\nwant %q", tt.text, tt.budget, got, tt.want)
			}
			checkPieces(t, tt.text, got, max(tt.budget, MinBudget), c)
		})
	}
}

// units returns the pieces t falls into at one mark kind.
func units(t string, cuts func(string, func(int))) []string {
	var out []string
	last := 0
	cuts(t, func(i int) {
		if i > last && i < len(t) {
			out = append(out, t[last:i])
			last = i
		}
	})
	return append(out, t[last:])
}

func TestCuts(t *testing.T) {
	tests := []struct {
		name string
		cuts func(string, func(int))
		text string
		want []string
	}{
		{"cjk", sentenceCuts, "一。二！三？四；五……六", []string{"一。", "二！", "三？", "四；", "五……", "六"}},
		{"closers", sentenceCuts, "「好。」他说。（对！）", []string{"「好。」", "他说。", "（对！）"}},
		{"trailing space and newline", sentenceCuts, "一。 \n  二", []string{"一。 \n", "  二"}},
		{"crlf", sentenceCuts, "a\r\nb\n\nc", []string{"a\r\n", "b\n\n", "c"}},
		{"ascii", sentenceCuts, "Yes. No! Why? So; ok", []string{"Yes. ", "No! ", "Why? ", "So; ", "ok"}},
		{"ascii quote", sentenceCuts, `He said "hi." Then`, []string{`He said "hi." `, "Then"}},
		{"ascii no space", sentenceCuts, "v1.2.3 example.com a.b", []string{"v1.2.3 example.com a.b"}},
		{"ellipsis ascii", sentenceCuts, "wait... what", []string{"wait... ", "what"}},
		{"clauses", clauseCuts, "甲，乙、丙：丁, e: f,g", []string{"甲，", "乙、", "丙：", "丁, ", "e: ", "f,g"}},
		{"spaces", spaceCuts, "a  b\tc\u3000d", []string{"a  ", "b\t", "c\u3000", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := units(tt.text, tt.cuts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestProtectedSpans(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"a [b](c) d", []string{"[b](c)"}},
		{"![i](s.png) x", []string{"![i](s.png)"}},
		{"[![i](s)](h) x", []string{"[![i](s)](h)"}},
		{"[a] (b) [c](d(e)f)", []string{"[c](d(e)f)"}},
		{"x `a` y ``b ` c`` z", []string{"`a`", "``b ` c``"}},
		{"`[a](b)` and [`x`](y)", []string{"`[a](b)`", "[`x`](y)"}},
		{"unclosed ` and [a](b", nil},
		{"[a\n\nb](c)", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range protectedSpans(tt.text) {
			got = append(got, tt.text[s.start:s.end])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("protectedSpans(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// layout renders chunks as "ID.Part/Parts" lists, one per chunk.
func layout(chunks []Chunk) [][]string {
	var out [][]string
	for _, ch := range chunks {
		var ids []string
		for _, p := range ch.Pieces {
			ids = append(ids, fmt.Sprintf("%d.%d/%d", p.ID, p.Part, p.Parts))
		}
		out = append(out, ids)
	}
	return out
}

func TestSplitPacking(t *testing.T) {
	n := func(k int) string { return strings.Repeat("字", k) }
	tests := []struct {
		name   string
		items  []Item
		budget int // runeCounter(1): a piece of k runes costs k+PieceOverhead
		want   [][]string
	}{
		{"none", nil, 50, nil},
		{"all in one", []Item{{1, n(5)}, {2, n(5)}}, 50, [][]string{{"1.0/1", "2.0/1"}}},
		{"greedy", []Item{{0, n(10)}, {1, n(10)}, {2, n(10)}, {3, n(25)}, {4, n(5)}}, 50,
			[][]string{{"0.0/1", "1.0/1"}, {"2.0/1"}, {"3.0/1", "4.0/1"}}},
		{"exactly full", []Item{{0, n(15)}, {1, n(15)}}, 50, [][]string{{"0.0/1", "1.0/1"}}},
		{"one over", []Item{{0, n(15)}, {1, n(16)}}, 50, [][]string{{"0.0/1"}, {"1.0/1"}}},
		{"fitting item is not split", []Item{{0, n(30)}, {1, n(40)}}, 50,
			[][]string{{"0.0/1"}, {"1.0/1"}}},
		{"big item split, tail shares", []Item{{0, n(10)}, {1, n(100)}, {2, n(10)}}, 50,
			[][]string{{"0.0/1"}, {"1.0/3"}, {"1.1/3"}, {"1.2/3", "2.0/1"}}},
		{"empty item kept", []Item{{0, ""}, {1, n(3)}}, 50, [][]string{{"0.0/1", "1.0/1"}}},
		{"ids are not reordered", []Item{{9, n(1)}, {3, n(1)}, {7, n(1)}}, 50,
			[][]string{{"9.0/1", "3.0/1", "7.0/1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := Split(tt.items, tt.budget, runeCounter(1))
			if got := layout(chunks); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("layout\n got %v\nwant %v", got, tt.want)
			}
			checkSplit(t, tt.items, tt.budget, runeCounter(1), chunks)
		})
	}
}

// checkSplit checks Split's invariants: pieces come in item order, each item
// exactly once as consecutive parts rejoining to its text, counts are right
// and every chunk is within budget.
func checkSplit(t testing.TB, items []Item, budget int, c Counter, chunks []Chunk) {
	t.Helper()
	budget = max(budget, MinBudget)
	var pieces []Piece
	for i, ch := range chunks {
		if len(ch.Pieces) == 0 {
			t.Fatalf("chunk %d is empty", i)
		}
		sum := 0
		for _, p := range ch.Pieces {
			if p.Tokens != c.Count(p.Text) {
				t.Errorf("chunk %d piece %d.%d: Tokens %d, Count %d", i, p.ID, p.Part, p.Tokens, c.Count(p.Text))
			}
			sum += p.Tokens + PieceOverhead
		}
		if sum != ch.Tokens {
			t.Errorf("chunk %d: Tokens %d, pieces sum to %d", i, ch.Tokens, sum)
		}
		if ch.Tokens > budget {
			t.Errorf("chunk %d: %d tokens over budget %d", i, ch.Tokens, budget)
		}
		pieces = append(pieces, ch.Pieces...)
	}
	k := 0
	for _, it := range items {
		if k >= len(pieces) {
			t.Fatalf("item %d missing", it.ID)
		}
		parts := pieces[k].Parts
		var sb strings.Builder
		for part := range parts {
			p := pieces[k]
			if p.ID != it.ID || p.Part != part || p.Parts != parts {
				t.Fatalf("piece %d is %d.%d/%d, want %d.%d/%d", k, p.ID, p.Part, p.Parts, it.ID, part, parts)
			}
			if parts > 1 && p.Text == "" {
				t.Errorf("item %d part %d is empty", it.ID, part)
			}
			sb.WriteString(p.Text)
			k++
		}
		if sb.String() != it.Text {
			t.Errorf("item %d does not reassemble:\n got %q\nwant %q", it.ID, sb.String(), it.Text)
		}
		if parts > 1 && c.Count(it.Text)+PieceOverhead <= budget {
			t.Errorf("item %d fits the budget but was split into %d", it.ID, parts)
		}
	}
	if k != len(pieces) {
		t.Errorf("%d extra pieces", len(pieces)-k)
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// corpusItems returns the blank-line separated blocks of a testdata file.
func corpusItems(t testing.TB, name string) []Item {
	var items []Item
	for i, p := range strings.Split(readTestdata(t, name), "\n\n") {
		items = append(items, Item{ID: i, Text: p})
	}
	return items
}

func TestSplitCorpus(t *testing.T) {
	c := Default()
	files := []string{"plain-long-kahneman.txt", "plain-seed-cnbeta.txt", "mdbody-dockerhub.md", "mdbody-seed-cnbeta.md"}
	for _, name := range files {
		items := corpusItems(t, name)
		for _, budget := range []int{0, 40, 100, 300, 1000, 4000} {
			t.Run(fmt.Sprintf("%s/%d", name, budget), func(t *testing.T) {
				chunks := Split(items, budget, c)
				checkSplit(t, items, budget, c, chunks)
			})
		}
		// The whole file as one item exercises every cut level.
		text := readTestdata(t, name)
		for _, budget := range []int{32, 57, 200, 1500} {
			pieces := SplitText(text, budget, c)
			checkPieces(t, text, pieces, budget, c)
		}
	}
}

// TestSplitFill checks that greedy packing leaves little room: each chunk
// but the last could not have taken the next piece.
func TestSplitFill(t *testing.T) {
	c := Default()
	items := corpusItems(t, "plain-long-kahneman.txt")
	const budget = 800
	chunks := Split(items, budget, c)
	for i := 0; i+1 < len(chunks); i++ {
		next := chunks[i+1].Pieces[0]
		if chunks[i].Tokens+next.Tokens+PieceOverhead <= budget {
			t.Errorf("chunk %d (%d tokens) had room for the next piece (%d)", i, chunks[i].Tokens, next.Tokens)
		}
	}
}

// TestSplitTextFill checks that hard cuts fill pieces: with a real BPE each
// piece but the last of a punctuation-free text ends within a few tokens of
// the limit.
func TestSplitTextFill(t *testing.T) {
	c := Default()
	text := strings.Repeat(stripPunct(readTestdata(t, "plain-seed-cnbeta.txt")), 3)
	for _, budget := range []int{50, 300, 1000} {
		pieces := SplitText(text, budget, c)
		checkPieces(t, text, pieces, budget, c)
		for i, p := range pieces[:len(pieces)-1] {
			if n := c.Count(p); n < budget-4 {
				t.Errorf("budget %d: piece %d has only %d tokens", budget, i, n)
			}
		}
	}
}

// stripPunct drops everything but letters and digits: one long "sentence".
func stripPunct(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return -1
		}
		if r >= 0x80 && (r < 0x4e00 || r > 0x9fff) {
			return -1
		}
		return r
	}, s)
}

func TestTinyBudgetsTerminate(t *testing.T) {
	c := Default()
	texts := []string{
		strings.Repeat("😀", 50),
		strings.Repeat("a", 500),
		strings.Repeat(" ", 300),
		strings.Repeat("\n", 300),
		strings.Repeat("。", 300),
		strings.Repeat("[", 100) + strings.Repeat("](", 100),
		"\xff\xfe\xfd" + strings.Repeat("\x80", 200),
	}
	for _, text := range texts {
		for _, budget := range []int{-1, 0, 1, 31, 32, 33} {
			pieces := SplitText(text, budget, c)
			checkPieces(t, text, pieces, max(budget, MinBudget), c)
			items := []Item{{1, text}, {2, text}}
			checkSplit(t, items, budget, c, Split(items, budget, c))
		}
	}
}

// TestPieceOverhead checks the constant against the tokenizer, for IDs up to
// 99999 and against real paragraphs (tokens merge across the joins).
func TestPieceOverhead(t *testing.T) {
	c := Default()
	ids := []int{0, 7, 12, 99, 100, 999, 1234, 9999, 12345, 99999}
	for id := 0; id < 100000; id += 1009 {
		ids = append(ids, id)
	}
	texts := []string{"x", "一", "Hello.", "<b>"}
	for _, it := range corpusItems(t, "plain-seed-cnbeta.txt")[:8] {
		texts = append(texts, it.Text)
	}
	for _, id := range ids {
		open := fmt.Sprintf("<seg id=\"%d\">", id)
		if n := c.Count(open) + c.Count("</seg>\n"); n > PieceOverhead {
			t.Fatalf("id %d: wrapper alone is %d tokens > PieceOverhead %d", id, n, PieceOverhead)
		}
		for _, text := range texts {
			if n := c.Count(open+text+"</seg>\n") - c.Count(text); n > PieceOverhead {
				t.Fatalf("id %d: wrapping %q costs %d tokens > PieceOverhead %d", id, text, n, PieceOverhead)
			}
		}
	}
}

func TestCounter(t *testing.T) {
	c, err := NewCounter()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"</seg>\n", 3},
	}
	for _, tt := range tests {
		if got := c.Count(tt.text); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
	if Default() != Default() {
		t.Error("Default builds a new counter on each call")
	}
}

// countTexts are inputs that exercise each alternative of o200k_base's split
// pattern, the edges of the merge and the codec's handling of invalid UTF-8
// and specials (kept from the differential tests of the hand-written
// tokenizer this package once had).
var countTexts = []string{
	"", " ", "\n", "\r\n", "a", "一", "'s", "don't", "DON'T", "Don'T", "x'ſ", "ǅ'd", "a\u0301's",
	"Hello World", "XMLHttpRequest", "ǅemal ǈudevit", "ＡＢＣａｂｃ", "𝐀𝐁𝐂𝐚𝐛𝐜",
	"1234567", "3.14159", "１２３", "①②③④", "v1.2.3-beta",
	"...", " !!!", "?!\n\n", "http://example.com/a/b?c=d&e=f#g", "<seg id=\"12\">", "</seg>\n",
	"a  b", "a \n\n b", "trailing   ", "\u00a0x", "中\u3000\u3000文", "\u2028x", "\v\f",
	"你好，世界！", "“中文引号”", "今天天气很好。明天呢？", "中English混合文本123测试", "GPT-4o是OpenAI的模型",
	"😀😃😄", "👨‍👩‍👧‍👦", "<|endoftext|>", "\x00", "\x7f", "a\x7fb", "\xff", "a\xffb", "中\xff文",
	"\xed\xa0\x80", strings.Repeat("没有标点的长句子", 40), strings.Repeat("😀", 40),
}

// TestCountMatchesTiktoken checks that Default and NewCounter count as
// tiktoken-go's o200k_base codec does, on a first count and on a count served
// by the memo.
func TestCountMatchesTiktoken(t *testing.T) {
	codec, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		t.Fatal(err)
	}
	own, err := NewCounter()
	if err != nil {
		t.Fatal(err)
	}
	texts := slices.Clone(countTexts)
	for i := 1; i < len(countTexts); i++ {
		texts = append(texts, "x "+countTexts[i]+" y", countTexts[i-1]+countTexts[i])
	}
	for _, name := range []string{"plain-seed-cnbeta.txt", "mdbody-dockerhub.md"} {
		text := readTestdata(t, name)
		texts = append(texts, text)
		texts = append(texts, strings.SplitAfter(text, "\n")...)
	}
	for _, s := range texts {
		want, err := codec.Count(s)
		if err != nil {
			t.Fatalf("codec.Count(%.40q): %v", s, err)
		}
		for _, c := range []Counter{Default(), own} {
			for try := range 2 {
				if got := c.Count(s); got != want {
					t.Errorf("count %d of %.80q: %d tokens, codec %d", try+1, s, got, want)
				}
			}
		}
	}
}

// TestMemo checks that a memo counts each text once and keeps texts apart.
func TestMemo(t *testing.T) {
	m := newMemo()
	calls := 0
	f := func(s string) int { calls++; return len(s) }
	for range 3 {
		for _, s := range []string{"a", "bb", "ccc", "一二"} {
			if got := m.count(s, f); got != len(s) {
				t.Errorf("count(%q) = %d, want %d", s, got, len(s))
			}
		}
	}
	if calls != 4 {
		t.Errorf("%d counts for 4 distinct texts", calls)
	}
}

// TestCounterConcurrent shares one counter between goroutines; run with -race.
func TestCounterConcurrent(t *testing.T) {
	c := Default()
	items := corpusItems(t, "plain-seed-cnbeta.txt")
	want := make([]int, len(items))
	for i, it := range items {
		want[i] = c.Count(it.Text)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(items))
	for range 8 {
		wg.Go(func() {
			for i, it := range items {
				if got := c.Count(it.Text); got != want[i] {
					errs <- fmt.Sprintf("item %d: %d tokens, serially %d", i, got, want[i])
				}
			}
			Split(items, 200, c)
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestNilCounterMeansDefault(t *testing.T) {
	text := readTestdata(t, "plain-seed-cnbeta.txt")
	if got, want := SplitText(text, 100, nil), SplitText(text, 100, Default()); !slices.Equal(got, want) {
		t.Error("SplitText with nil counter differs from Default")
	}
	items := corpusItems(t, "plain-seed-cnbeta.txt")
	if got, want := layout(Split(items, 100, nil)), layout(Split(items, 100, Default())); !reflect.DeepEqual(got, want) {
		t.Error("Split with nil counter differs from Default")
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("一二三。四五六，七八九 十\n[链接](http://a.b) `code`", 32)
	f.Add("Hello, world. This is a test! Is it? Yes; done.", 40)
	f.Add(strings.Repeat("没有标点的长句子", 40), 33)
	f.Add("\xff\x80abc。", 0)
	c := Default()
	f.Fuzz(func(t *testing.T, text string, budget int) {
		budget = budget % 200 // keep cuts frequent
		pieces := SplitText(text, budget, c)
		if text == "" && pieces != nil {
			t.Fatalf("empty text gave %q", pieces)
		}
		checkPieces(t, text, pieces, max(budget, MinBudget), c)
		// A counter of another density.
		checkPieces(t, text, SplitText(text, budget, runeCounter(3)), max(budget, MinBudget), runeCounter(3))
	})
}

func ExampleSplit() {
	items := []Item{
		{ID: 1, Text: "第一段。"},
		{ID: 2, Text: "第二段很长。" + strings.Repeat("这一句没有标点所以很长", 6) + "。最后一句。"},
		{ID: 3, Text: "第三段。"},
	}
	for i, ch := range Split(items, 64, Default()) {
		fmt.Printf("chunk %d (%d tokens):\n", i, ch.Tokens)
		for _, p := range ch.Pieces {
			fmt.Printf("  seg %d part %d/%d, %d tokens: %s\n", p.ID, p.Part+1, p.Parts, p.Tokens, p.Text)
		}
	}
	// Output:
	// chunk 0 (13 tokens):
	//   seg 1 part 1/1, 3 tokens: 第一段。
	// chunk 1 (63 tokens):
	//   seg 2 part 1/2, 53 tokens: 第二段很长。这一句没有标点所以很长这一句没有标点所以很长这一句没有标点所以很长这一句没有标点所以很长这一句没有标点所以很长这一句没有标点所以很长。
	// chunk 2 (26 tokens):
	//   seg 2 part 2/2, 3 tokens: 最后一句。
	//   seg 3 part 1/1, 3 tokens: 第三段。
}

// meter counts the bytes a counter is asked to tokenize.
type meter struct {
	c     Counter
	bytes int
	calls int
}

func (m *meter) Count(s string) int { m.bytes += len(s); m.calls++; return m.c.Count(s) }

// TestSplitTextLinear checks the work done, not the time taken: splitting a
// long punctuation-free text must not re-count it quadratically, and the
// density guesses must keep the counts per piece few.
func TestSplitTextLinear(t *testing.T) {
	text := repeatTo(stripPunct(readTestdata(t, "plain-long-kahneman.txt")), 128<<10)
	tests := []struct {
		name     string
		c        Counter
		maxBytes int // tokenized bytes allowed, as a multiple of len(text)
	}{
		{"bpe", Default(), 8},
		{"generic", runeCounter(1), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &meter{c: tt.c}
			pieces := SplitText(text, 1000, m)
			if len(pieces) < 30 {
				t.Fatalf("only %d pieces", len(pieces))
			}
			checkPieces(t, text, pieces, 1000, tt.c)
			if m.bytes > tt.maxBytes*len(text) {
				t.Errorf("tokenized %d bytes for a %d-byte text (%.1fx), want at most %dx",
					m.bytes, len(text), float64(m.bytes)/float64(len(text)), tt.maxBytes)
			}
			t.Logf("tokenized %.1fx the text, %.1f counts per piece", float64(m.bytes)/float64(len(text)), float64(m.calls)/float64(len(pieces)))
		})
	}
}
