package translate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/llm"
)

// refuse is a client that fails every request: whatever Translate needs
// must come from the cache.
type refuse struct{ calls int }

func (r *refuse) Complete(context.Context, llm.Request) (llm.Response, error) {
	r.calls++
	return llm.Response{}, errors.New("no request allowed")
}

// batchArticles are two articles sharing a paragraph, with a link and a
// paragraph long enough to be split over several requests.
func batchArticles() []Input {
	long := strings.Repeat("这是一个很长的段落，用来测试分段翻译是否正确。", 60)
	return []Input{
		{Title: "第一篇文章", Texts: []string{"点击上方蓝字关注我们", "第一篇的正文，见[官网](https://example.com/a)。", long, "English kept."}, Brief: true},
		{Title: "第二篇文章", Texts: []string{"点击上方蓝字关注我们", "第二篇的正文。"}, Brief: true},
	}
}

// TestPlanAcceptMatchesTranslate checks that answering Plan's requests and
// feeding the answers to Accept fills the cache so that Translate needs no
// request and returns what an online Translate returns.
func TestPlanAcceptMatchesTranslate(t *testing.T) {
	opts := Options{Model: "m", Budget: 200, Extra: testExtra(nil)}
	dir, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := New(&refuse{}, dir, chunk.Default(), opts)
	planned := map[string]bool{}
	claim := func(key string) bool {
		if planned[key] {
			return false
		}
		planned[key] = true
		return true
	}
	var reqs []Request
	for _, in := range batchArticles() {
		reqs = append(reqs, tr.Plan(in, PlanOptions{Claim: claim, SkipParts: true}).Requests...)
	}
	// The shared paragraph is sent once, and the long one in parts.
	var sent []string
	split := false
	for _, r := range reqs {
		for _, p := range r.Pieces {
			sent = append(sent, p.Text)
			split = split || p.Parts > 1
		}
	}
	if n := strings.Count(strings.Join(sent, "\n"), "点击上方蓝字关注我们"); n != 1 {
		t.Errorf("shared paragraph sent %d times, want 1", n)
	}
	if !split {
		t.Errorf("no request carries a part of the long paragraph")
	}
	// Answer in reverse order, as a batch may.
	notes := 0
	for _, r := range slices.Backward(reqs) {
		v := tr.Accept(r, fakeopenai.TranslateSegments(r.User)+fakeopenai.Brief(r.System, r.User), "stop")
		if v.Bad != 0 || v.Good != len(r.Pieces) {
			t.Fatalf("Accept: %+v", v)
		}
		if r.Brief == "note" && v.Brief != "" {
			notes++
		}
	}
	if notes == 0 {
		t.Errorf("no note stored for the multi-request article")
	}
	if again := tr.Plan(batchArticles()[0], PlanOptions{SkipParts: true}); len(again.Requests) != 0 || again.Missing() != 0 {
		t.Errorf("Plan after Accept: %d requests, %d missing, want 0", len(again.Requests), again.Missing())
	}

	online := New(&fakeModel{}, cache.Nop{}, chunk.Default(), opts)
	for _, in := range batchArticles() {
		in.Brief = false
		want, err := online.Translate(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		rf := &refuse{}
		got, err := New(rf, dir, chunk.Default(), opts).Translate(context.Background(), in)
		if err != nil {
			t.Fatalf("from the cache: %v", err)
		}
		if rf.calls != 0 || got.Title != want.Title || !slices.Equal(got.Texts, want.Texts) {
			t.Errorf("from the cache: %d requests\n got %q\nwant %q", rf.calls, got.Texts, want.Texts)
		}
	}
}

// TestAcceptJudgesLikeTranslate checks that bad answers store nothing for
// the bad segments and that a later Plan asks only for those.
func TestAcceptJudgesLikeTranslate(t *testing.T) {
	in := Input{Title: "标题", Texts: []string{"第一段。", "第二段。", "第三段。"}}
	tests := []struct {
		name    string
		answer  func(r Request) string
		finish  string
		bad     int
		replans int // pieces planned again afterwards
	}{
		{"good", func(r Request) string { return fakeopenai.TranslateSegments(r.User) }, "stop", 0, 0},
		{"truncated", func(r Request) string { return fakeopenai.TranslateSegments(r.User) }, "length", 4, 4},
		{"one left in Chinese", func(r Request) string {
			segs := fakeopenai.ParseSegments(fakeopenai.TranslateSegments(r.User))
			segs[2].Text = "第二段。"
			return fakeopenai.FormatSegments(segs)
		}, "stop", 1, 1},
		// As online, the segment before a missing one is suspect too: it
		// may hold the missing one's text.
		{"one dropped", func(r Request) string {
			segs := fakeopenai.ParseSegments(fakeopenai.TranslateSegments(r.User))
			return fakeopenai.FormatSegments(segs[:len(segs)-1])
		}, "stop", 2, 2},
		{"unrelated", func(Request) string { return "I cannot help with that." }, "stop", 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := cache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tr := New(&refuse{}, dir, chunk.Default(), Options{Model: "m"})
			reqs := tr.Plan(in, PlanOptions{}).Requests
			if len(reqs) != 1 || len(reqs[0].Pieces) != 4 {
				t.Fatalf("Plan: %d requests", len(reqs))
			}
			v := tr.Accept(reqs[0], tc.answer(reqs[0]), tc.finish)
			if v.Bad != tc.bad || v.Good != 4-tc.bad || (tc.bad > 0) != (len(v.Why) > 0) {
				t.Errorf("Accept: %+v, want %d bad", v, tc.bad)
			}
			n := 0
			plan := tr.Plan(in, PlanOptions{SkipParts: true})
			again, missing := plan.Requests, plan.Missing()
			if missing != tc.replans {
				t.Errorf("missing %d, want %d", missing, tc.replans)
			}
			for _, r := range again {
				n += len(r.Pieces)
			}
			if n != tc.replans {
				t.Errorf("planned again: %d pieces, want %d", n, tc.replans)
			}
		})
	}
}

// testExtra is an Options.Extra as package summarize makes it: the fake
// model answers its <summary> and <note> instructions
// (fakeopenai.Brief). Notes read go to notes, when not nil, by the first
// text of their request.
func testExtra(notes map[string]string) *Extra {
	read := func(answer string, whole bool) (string, bool) {
		tag := "note"
		if whole {
			tag = "summary"
		}
		_, rest, ok := strings.Cut(answer, "<"+tag+">")
		text, _, closed := strings.Cut(rest, "</"+tag+">")
		return strings.TrimSpace(text), ok && closed && strings.TrimSpace(text) != ""
	}
	var mu sync.Mutex
	return &Extra{
		Whole: "\n- After the last segment add <summary>TL;DR: <one English sentence></summary>",
		Part:  "\n- After the last segment add <note>the key facts</note>",
		Read:  read,
		Note: func(texts []string, note string) {
			if notes != nil {
				mu.Lock()
				notes[texts[0]] = note
				mu.Unlock()
			}
		},
	}
}
