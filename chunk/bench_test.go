package chunk

import (
	"strings"
	"testing"
)

// repeatTo repeats s until the result is n bytes long, cut at a rune start.
func repeatTo(s string, n int) string {
	out := strings.Repeat(s, n/len(s)+1)
	for n > 0 && n < len(out) && out[n]&0xC0 == 0x80 {
		n--
	}
	return out[:n]
}

func BenchmarkSplitText(b *testing.B) {
	article := readTestdata(b, "plain-seed-cnbeta.txt")
	cjk := stripPunct(readTestdata(b, "plain-long-kahneman.txt"))
	cases := []struct {
		name   string
		text   string
		budget int
	}{
		{"1MB-cjk-no-punct", repeatTo(cjk, 1<<20), 1000},
		{"1MB-ascii-no-punct", repeatTo("lorem ipsum dolor sit amet consectetur adipiscing elit ", 1<<20), 1000},
		{"1MB-cjk-no-punct-budget-50", repeatTo(cjk, 1<<20), 50},
		{"3KB-article", article[:3072-1], 300},
		{"3KB-article-fits", article[:3072-1], 4000},
	}
	c := Default()
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.text)))
			for b.Loop() {
				SplitText(tc.text, tc.budget, c)
			}
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	items := corpusItems(b, "plain-long-kahneman.txt")
	c := Default()
	for b.Loop() {
		Split(items, 1000, c)
	}
}
