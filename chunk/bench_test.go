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

// freshCounter returns an o200k_base Counter with an empty memo, so that a
// benchmark iteration tokenizes as a first split in a run does.
func freshCounter(b *testing.B) Counter {
	c, err := NewCounter()
	if err != nil {
		b.Fatal(err)
	}
	return c
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
	freshCounter(b) // load the codec outside the timings
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.text)))
			for b.Loop() {
				b.StopTimer()
				c := freshCounter(b)
				b.StartTimer()
				SplitText(tc.text, tc.budget, c)
			}
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	items := corpusItems(b, "plain-long-kahneman.txt")
	freshCounter(b)
	for b.Loop() {
		b.StopTimer()
		c := freshCounter(b)
		b.StartTimer()
		Split(items, 1000, c)
	}
}

// BenchmarkCount compares a count by the codec ("codec": a text not yet
// counted) with one served by the memo ("memo": a text counted before).
func BenchmarkCount(b *testing.B) {
	texts := []struct{ name, file string }{
		{"zh-plain", "plain-long-kahneman.txt"},
		{"zh-article", "plain-seed-cnbeta.txt"},
		{"md-article", "mdbody-dockerhub.md"},
	}
	for _, tx := range texts {
		text := readTestdata(b, tx.file)
		b.Run(tx.name+"/codec", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				countO200k(text)
			}
		})
		b.Run(tx.name+"/memo", func(b *testing.B) {
			c := Default()
			c.Count(text)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				c.Count(text)
			}
		})
	}
}
