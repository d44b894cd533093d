package summarize

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/llm"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		want    Summary
		wantErr string
	}{
		{"plain", "TL;DR: Musk and Altman fight.\n- One.\n- Two.\n- Three.", Summary{TLDR: "Musk and Altman fight.", Points: []string{"One.", "Two.", "Three."}}, ""},
		{"bold label, star bullets, think block", "<think>\nlet me see\n</think>\n**TL;DR:** It works.\n\n* A.\n* B.\n* C.\n* D.", Summary{TLDR: "It works.", Points: []string{"A.", "B.", "C.", "D."}}, ""},
		{"numbered", "TLDR: X.\n1. A.\n2) B.\n3. C.", Summary{TLDR: "X.", Points: []string{"A.", "B.", "C."}}, ""},
		{"more than five cut", "TL;DR: X.\n- 1\n- 2\n- 3\n- 4\n- 5\n- 6", Summary{TLDR: "X.", Points: []string{"1", "2", "3", "4", "5"}}, ""},
		{"no tldr", "- A.\n- B.\n- C.", Summary{}, "no TL;DR"},
		{"too few points", "TL;DR: X.\n- A.", Summary{}, "1 key points"},
		{"chinese", "TL;DR: 马斯克和奥尔特曼的争斗。\n- A.\n- B.\n- C.", Summary{}, "Chinese"},
		{"prompt echo", "TL;DR: <notes> Title: Musk and Altman.\n- A.\n- B.\n- C.", Summary{}, "echoes the prompt"},
		{"markup in a point", "TL;DR: Musk and Altman fight.\n- A.\n- <seg id=\"2\">B.</seg>\n- C.", Summary{}, "echoes the prompt"},
		{"title label", "TL;DR: Title: Musk and Altman.\n- A.\n- B.\n- C.", Summary{}, "echoes the prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.answer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want.String() {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

type stub struct {
	mu    sync.Mutex
	users []string
	reply func(user string) string
}

func (s *stub) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	s.mu.Lock()
	s.users = append(s.users, req.Messages[1].Content)
	s.mu.Unlock()
	return llm.Response{Content: s.reply(req.Messages[1].Content), FinishReason: "stop"}, nil
}

const fixed = "TL;DR: Summary.\n- A.\n- B.\n- C."

func TestSummarizeShortIsOneRequestAndCached(t *testing.T) {
	store, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &stub{reply: func(string) string { return fixed }}
	sz := New(s, store, chunk.Default(), Options{Model: "m"})
	texts := []string{"第一段。", "第二段。"}
	sum, err := sz.Summarize(context.Background(), "标题", texts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.TLDR != "Summary." || len(s.users) != 1 || !strings.Contains(s.users[0], "<article>") || !strings.Contains(s.users[0], "第二段。") {
		t.Fatalf("sum %q, requests %q", sum, s.users)
	}
	if _, err := New(s, store, chunk.Default(), Options{Model: "m"}).Summarize(context.Background(), "标题", texts); err != nil || len(s.users) != 1 {
		t.Errorf("second run: err %v, requests %d, want 1 in all", err, len(s.users))
	}
	texts[1] = "第二段改了。"
	if _, err := New(s, store, chunk.Default(), Options{Model: "m"}).Summarize(context.Background(), "标题", texts); err != nil || len(s.users) != 2 {
		t.Errorf("edited article: err %v, requests %d, want 2 in all", err, len(s.users))
	}
}

func TestSummarizeLongIsMapReduce(t *testing.T) {
	s := &stub{reply: func(string) string { return fixed }}
	var texts []string
	for range 40 {
		texts = append(texts, strings.Repeat("这是一篇很长的文章中的一个段落。", 10))
	}
	sum, err := New(s, cache.Nop{}, chunk.Default(), Options{Model: "m", Budget: 500}).Summarize(context.Background(), "标题", texts)
	if err != nil {
		t.Fatal(err)
	}
	var parts, combine int
	for _, u := range s.users {
		switch {
		case strings.HasPrefix(u, "<article>"):
			parts++
		case strings.HasPrefix(u, "<summaries>"):
			combine++
			if strings.Count(u, "TL;DR:") != parts {
				t.Errorf("combine step has %d partial summaries, want %d", strings.Count(u, "TL;DR:"), parts)
			}
		}
	}
	if parts < 3 || combine != 1 || sum.TLDR != "Summary." {
		t.Errorf("parts %d, combine %d, sum %q", parts, combine, sum)
	}
}

func TestSummarizeRetriesBadFormat(t *testing.T) {
	n := 0
	s := &stub{reply: func(string) string {
		n++
		if n == 1 {
			return "Sure! This article is about things."
		}
		return fixed
	}}
	sum, err := New(s, cache.Nop{}, chunk.Default(), Options{}).Summarize(context.Background(), "", []string{"一。"})
	if err != nil || sum.TLDR != "Summary." || n != 2 {
		t.Errorf("sum %q, err %v, requests %d", sum, err, n)
	}
	s = &stub{reply: func(string) string { return "nope" }}
	if _, err := New(s, cache.Nop{}, chunk.Default(), Options{}).Summarize(context.Background(), "", []string{"一。"}); err == nil || len(s.users) != maxAsks {
		t.Errorf("err %v after %d requests, want an error after %d", err, len(s.users), maxAsks)
	}
}

func TestClaimWaitsForTheMaker(t *testing.T) {
	store, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(&stub{reply: func(string) string { return fixed }}, store, chunk.Default(), Options{})
	texts := []string{"一。"}
	_, ok, release, err := s.Claim(context.Background(), "题", texts)
	if ok || release == nil || err != nil {
		t.Fatalf("first claim: ok %v, release %v, err %v", ok, release != nil, err)
	}
	got := make(chan Summary)
	go func() {
		sum, ok, rel, err := s.Claim(context.Background(), "题", texts)
		if !ok || rel != nil || err != nil {
			t.Errorf("second claim: ok %v, release %v, err %v", ok, rel != nil, err)
		}
		got <- sum
	}()
	sum, _ := Parse(fixed)
	s.Remember("题", texts, sum)
	release()
	if g := <-got; g.TLDR != sum.TLDR {
		t.Errorf("waiter got %q", g.TLDR)
	}
	// A maker that gives up lets the next caller make it.
	_, _, release, _ = s.Claim(context.Background(), "别的", texts)
	release()
	if _, ok, rel, _ := s.Claim(context.Background(), "别的", texts); ok || rel == nil {
		t.Error("after a failed maker, the next caller should make the summary")
	}
}

func TestParseLang(t *testing.T) {
	tests := []struct {
		lang, answer string
		wantErr      bool
	}{
		{"Japanese", "TL;DR: マスクとアルトマンの争いが激化している。\n- 一つ目。\n- 二つ目。\n- 三つ目。", false},
		{"Japanese", "TL;DR: 米国大統領選挙\n- 一。\n- 二。\n- 三。", false}, // short, kanji only
		{"Japanese", "TL;DR: 马斯克和奥尔特曼之间的争斗愈演愈烈。\n- A\n- B\n- C", true},
		{"German", "TL;DR: Musk und Altman streiten.\n- Eins.\n- Zwei.\n- Drei.", false},
		{"German", "TL;DR: 马斯克和奥尔特曼的争斗。\n- A\n- B\n- C", true},
		{"Traditional Chinese", "TL;DR: 馬斯克和奧爾特曼的爭鬥愈演愈烈。\n- 一。\n- 二。\n- 三。", false},
		{"Traditional Chinese", "TL;DR: 马斯克和奥尔特曼的争斗说明了这个问题。\n- 一。\n- 二。\n- 三。", true},
		{"zh", "TL;DR: 马斯克和奥尔特曼的争斗。\n- 一。\n- 二。\n- 三。", false},
	}
	for _, tt := range tests {
		_, err := ParseLang(tt.answer, tt.lang)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: ParseLang(%.30q) err = %v, want error %v", tt.lang, tt.answer, err, tt.wantErr)
		}
		s := New(&stub{}, nil, chunk.Default(), Options{Lang: tt.lang})
		if _, err2 := s.Parse(tt.answer); (err2 != nil) != (err != nil) {
			t.Errorf("%s: Summarizer.Parse and ParseLang disagree: %v, %v", tt.lang, err2, err)
		}
	}
}

func TestSummarizeInOtherLanguages(t *testing.T) {
	answers := map[string]string{
		"Japanese":            "TL;DR: マスクとアルトマンの関係について。\n- 一つ目の点。\n- 二つ目の点。\n- 三つ目の点。",
		"German":              "TL;DR: Über Musk und Altman.\n- Erstens.\n- Zweitens.\n- Drittens.",
		"Traditional Chinese": "TL;DR: 關於馬斯克和奧爾特曼的關係。\n- 第一點。\n- 第二點。\n- 第三點。",
	}
	for lang, answer := range answers {
		var system string
		s := &stub{reply: func(string) string { return answer }}
		c := clientFunc(func(ctx context.Context, req llm.Request) (llm.Response, error) {
			system = req.Messages[0].Content
			return s.Complete(ctx, req)
		})
		sum, err := New(c, nil, chunk.Default(), Options{Model: "m", Lang: lang}).Summarize(context.Background(), "标题", []string{"马斯克和奥尔特曼。"})
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if sum.String() != answer+"\n" {
			t.Errorf("%s: summary %q", lang, sum)
		}
		// Every language slot of the prompt names the target; the label stays.
		if strings.Count(system, lang) != 3 || strings.Contains(system, "English") || !strings.Contains(system, `"TL;DR:"`) {
			t.Errorf("%s: system prompt %q", lang, system)
		}
	}
}

type clientFunc func(context.Context, llm.Request) (llm.Response, error)

func (f clientFunc) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return f(ctx, req)
}

func TestEchoesPrompt(t *testing.T) {
	for s, want := range map[string]bool{
		"TL;DR: <notes> Title: Musk and Altman.": true,
		"TL;DR: Musk and Altman fight.":          false,
		"The <SEG id=\"2\"> tag.":                true,
		"a < b and c > d":                        false,
	} {
		if got := EchoesPrompt(s) != ""; got != want {
			t.Errorf("EchoesPrompt(%q) = %v, want %v", s, got, want)
		}
	}
	if EchoesPrompt("The key facts. Previous text: …") == "" {
		t.Error("a note repeating the request's context was accepted")
	}
}

func TestInstructionsUseTargetLanguage(t *testing.T) {
	for _, lang := range []string{"Japanese", "German", "Traditional Chinese"} {
		s := New(nil, nil, chunk.Default(), Options{Lang: lang})
		whole, part := s.Instructions()
		if strings.Count(whole, lang) != 2 || strings.Count(part, lang) != 1 || strings.Contains(whole+part, "English") {
			t.Errorf("%s: instructions name another language or not this one: %q, %q", lang, whole, part)
		}
		if !strings.Contains(whole, "<summary>TL;DR:") || !strings.Contains(part, "<note>") {
			t.Errorf("%s: instructions lack their tags: %q, %q", lang, whole, part)
		}
	}
}

// TestMakeUsesCachedNotes checks that a long article's summary is made in
// one request from the notes cached for its parts, a part without a note
// standing in with its translation.
func TestMakeUsesCachedNotes(t *testing.T) {
	store, _ := cache.Open(t.TempDir())
	var users []string
	client := clientFunc(func(_ context.Context, req llm.Request) (llm.Response, error) {
		users = append(users, req.Messages[len(req.Messages)-1].Content)
		return llm.Response{Content: "TL;DR: Fine.\n- a\n- b\n- c", FinishReason: "stop"}, nil
	})
	s := New(client, store, chunk.Default(), Options{Model: "m"})
	parts := []Part{
		{Sent: []string{"第一段。"}, Translation: "First."},
		{Sent: []string{"第二段。", "第三段。"}, Translation: "Second. Third."},
		{Sent: []string{"第四段。"}, Translation: "Fourth."},
	}
	s.Note(parts[0].Sent, "Note one.")
	s.Note(parts[2].Sent, "Note three.")
	s.Note([]string{"第二段。"}, "A note on other texts.")
	calls := 0
	sum, err := s.Make(context.Background(), "Title", []string{"第一段。", "第二段。", "第三段。", "第四段。"}, nil,
		func() []Part { calls++; return parts }, "")
	if err != nil || sum.TLDR != "Fine." {
		t.Fatalf("Make: %+v, %v", sum, err)
	}
	if calls != 1 || len(users) != 1 {
		t.Fatalf("%d calls of parts, %d requests; want 1 and 1", calls, len(users))
	}
	for _, want := range []string{"Note one.", "Second. Third.", "Note three."} {
		if !strings.Contains(users[0], want) {
			t.Errorf("summary request lacks %q:\n%s", want, users[0])
		}
	}
	if strings.Contains(users[0], "other texts") || strings.Contains(users[0], "First.") {
		t.Errorf("summary request used a note of other texts, or a translation where a note was cached:\n%s", users[0])
	}
	// A summary that came with the translation needs no request and no parts.
	if _, err := s.Make(context.Background(), "Title", []string{"第一段。"}, nil, func() []Part { calls++; return nil },
		"TL;DR: Carried.\n- a\n- b\n- c"); err != nil || calls != 1 || len(users) != 1 {
		t.Errorf("carried summary: %v, %d calls of parts, %d requests", err, calls, len(users))
	}
}
