package translate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/lang"
	"github.com/xlate/xlate/llm"
)

// fakeModel is an llm.Client answering as the fake server's model does
// (glossary honoured), recording requests.
type fakeModel struct {
	mu   sync.Mutex
	reqs []llm.Request
}

func (m *fakeModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	system, user := req.Messages[0].Content, req.Messages[1].Content
	return llm.Response{Content: fakeopenai.TranslateSegments(user) + fakeopenai.Brief(system, user), FinishReason: "stop"}, nil
}

var names = glossary.Glossary{
	{Source: "马斯克", Target: "Musk"}, {Source: "伊隆·马斯克", Target: "Elon Musk"},
	{Source: "奥尔特曼", Target: "Altman"}, {Source: "星际之门", Target: "Stargate"},
}

func TestCheckAnswerGlossary(t *testing.T) {
	c := checker{lang: lang.Lookup("English"), gloss: names}
	texts := []string{"马斯克说。", "伊隆·马斯克说。", "今天很好。"}
	tests := []struct {
		name    string
		answer  string
		wantBad []int
		why     string
	}{
		{"renderings kept", `<seg id="1">Musk said.</seg><seg id="2">Elon Musk said.</seg><seg id="3">Fine today.</seg>`, nil, ""},
		{"case and possessive", `<seg id="1">MUSK's word.</seg><seg id="2">elon musk said.</seg><seg id="3">Fine today.</seg>`, nil, ""},
		{"other rendering", `<seg id="1">Mask said.</seg><seg id="2">Elon Musk said.</seg><seg id="3">Fine today.</seg>`, []int{0},
			`segment 1 lacks the glossary rendering "Musk" of 马斯克`},
		{"longer term needs its own rendering", `<seg id="1">Musk said.</seg><seg id="2">Musk said.</seg><seg id="3">Fine today.</seg>`, []int{1},
			`segment 2 lacks the glossary rendering "Elon Musk" of 伊隆·马斯克`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, bad, why := checkAnswer(texts, tt.answer, c)
			if len(bad) != len(tt.wantBad) || (len(bad) > 0 && (bad[0] != tt.wantBad[0] || why[0] != tt.why)) {
				t.Errorf("bad = %v %q, want %v %q", bad, why, tt.wantBad, tt.why)
			}
		})
	}
}

func TestRequestCarriesOnlyTermsInIt(t *testing.T) {
	m := &fakeModel{}
	tr := New(m, cache.Nop{}, chunk.Default(), Options{Model: "m", Glossary: names, Budget: 24})
	texts := []string{"马斯克说，伊隆·马斯克是首富。", "今天天气很好，大家都出去玩了。", "奥尔特曼回答了。"}
	if _, err := tr.Translate(context.Background(), Input{Texts: texts}); err != nil {
		t.Fatal(err)
	}
	if len(m.reqs) != 3 {
		t.Fatalf("%d requests, want 3 (budget 24 keeps the paragraphs apart)", len(m.reqs))
	}
	want := map[string]string{ // segment -> its glossary line
		texts[0]: "Glossary: 伊隆·马斯克 = Elon Musk; 马斯克 = Musk\n",
		texts[1]: "",
		texts[2]: "Glossary: 奥尔特曼 = Altman\n",
	}
	for _, r := range m.reqs {
		system, user := r.Messages[0].Content, r.Messages[1].Content
		seg := fakeopenai.ParseSegments(user)[0].Text
		line := ""
		if i := strings.Index(user, "Glossary: "); i >= 0 {
			line = user[i : i+strings.Index(user[i:], "\n")+1]
		}
		if line != want[seg] {
			t.Errorf("request for %q: glossary line %q, want %q", seg, line, want[seg])
		}
		if got := strings.Contains(system, "Glossary line"); got != (line != "") {
			t.Errorf("request for %q: system prompt mentions the glossary: %v", seg, got)
		}
		if strings.Contains(user, "星际之门") {
			t.Error("an entry that occurs nowhere was sent")
		}
	}
}

// TestGlossaryAgainstFakeServer runs a Translator with a real llm client
// against the fake OpenAI server: the output renders every occurrence of
// a glossary term as the glossary says, and changing one entry re-translates
// only the segments that contain its source.
func TestGlossaryAgainstFakeServer(t *testing.T) {
	// The fake model's answer with the glossary honoured, as the server
	// gives it (set as the reply so that the test does not depend on
	// which of the server's code paths applies the glossary).
	s := fakeopenai.New(t, fakeopenai.Options{Fault: func(_ int, r *fakeopenai.Recorded) fakeopenai.Fault {
		return fakeopenai.Fault{Reply: fakeopenai.TranslateSegments(r.User()) + fakeopenai.Brief(r.System(), r.User())}
	}})
	client, err := llm.New(llm.Config{BaseURL: s.URL(), Model: fakeopenai.DefaultModel, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Title: "马斯克与奥尔特曼", Texts: []string{
		"马斯克说，马斯克的公司很大。",
		"奥尔特曼赢得了特朗普的支持。",
		"今天天气很好。",
		"伊隆·马斯克和奥尔特曼见了面，马斯克很生气。",
	}}
	// run translates in with glossary g, returning the output and the
	// segments the server was asked to translate.
	run := func(g glossary.Glossary) (Output, int) {
		t.Helper()
		before := s.Requests()
		tr := New(client, store, chunk.Default(), Options{Model: "m", Glossary: g, Budget: 40})
		out, err := tr.Translate(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, r := range s.Requests()[len(before):] {
			sent += r.Segments
		}
		return out, sent
	}
	asMap := func(g glossary.Glossary) map[string]string {
		m := map[string]string{}
		for _, e := range g {
			m[e.Source] = e.Target
		}
		return m
	}

	out, sent := run(names)
	if sent != 5 {
		t.Errorf("first run sent %d segments, want 5", sent)
	}
	checkRenderings := func(out Output, g glossary.Glossary) {
		t.Helper()
		if want := fakeopenai.TranslateWithGlossary(in.Title, asMap(g)); out.Title != want {
			t.Errorf("title = %q, want %q", out.Title, want)
		}
		for i, src := range in.Texts {
			if want := fakeopenai.TranslateWithGlossary(src, asMap(g)); out.Texts[i] != want {
				t.Errorf("text %d = %q, want %q", i, out.Texts[i], want)
			}
		}
	}
	checkRenderings(out, names)
	// Every occurrence: 马斯克 twice in text 1, and in text 4 once alone and
	// once inside 伊隆·马斯克.
	for i, want := range map[int]int{0: 2, 3: 2} {
		if got := strings.Count(out.Texts[i], "Musk"); got != want {
			t.Errorf("text %d has %d Musk, want %d: %q", i, got, want, out.Texts[i])
		}
	}
	if !strings.Contains(out.Texts[3], "Elon Musk") || strings.Contains(out.Texts[3], strings.TrimSpace(fakeopenai.Translate("马斯克"))) {
		t.Errorf("text 4 = %q", out.Texts[3])
	}

	// Same glossary, other order: all from the cache.
	if _, sent := run(glossary.Glossary{names[3], names[2], names[1], names[0]}); sent != 0 {
		t.Errorf("same glossary again sent %d segments, want 0", sent)
	}

	// One entry changed: only the title and texts 2 and 4 (奥尔特曼) again.
	changed := glossary.Glossary{names[0], names[1], {Source: "奥尔特曼", Target: "Sam Altman"}, names[3]}
	out, sent = run(changed)
	if sent != 3 {
		t.Errorf("after changing 奥尔特曼 %d segments were sent, want 3 (title, texts 2 and 4)", sent)
	}
	checkRenderings(out, changed)
	if !strings.Contains(out.Texts[1], "Sam Altman") || !strings.Contains(out.Texts[3], "Sam Altman") {
		t.Errorf("new rendering missing: %q, %q", out.Texts[1], out.Texts[3])
	}

	// An unused entry added: nothing again.
	if _, sent := run(append(changed, glossary.Entry{Source: "北京", Target: "Beijing"})); sent != 0 {
		t.Errorf("an unused entry re-sent %d segments, want 0", sent)
	}

	// No glossary: the text without terms keeps its cache hit (its key never
	// had a glossary part); the four with terms are asked again.
	out, sent = run(nil)
	if sent != 4 {
		t.Errorf("without the glossary %d segments were sent, want 4", sent)
	}
	checkRenderings(out, nil)
}

// TestGlossaryIgnoredIsBad checks that a model ignoring the glossary fails
// the segments with terms, naming the rendering, after re-asks.
func TestGlossaryIgnoredIsBad(t *testing.T) {
	c := &stubClient{answer: langStub(func(s string) string { return fakeopenai.Translate(s) })}
	tr := New(c, cache.Nop{}, chunk.Default(), Options{Model: "m", Glossary: names})
	_, err := tr.Translate(context.Background(), Input{Texts: []string{"今天天气很好。", "马斯克说话了。"}})
	var se *SegmentError
	if !errors.As(err, &se) || se.Index != 1 || !strings.Contains(err.Error(), `lacks the glossary rendering "Musk" of 马斯克`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPlanWithGlossary(t *testing.T) {
	m := &fakeModel{}
	tr := New(m, cache.Nop{}, chunk.Default(), Options{Model: "m", Glossary: names, Budget: 60, Extra: testExtra(nil)})
	in := Input{Title: "马斯克与奥尔特曼", Texts: []string{
		strings.Repeat("马斯克说，伊隆·马斯克是首富。", 6), "今天天气很好。", "奥尔特曼回答了。"}, Brief: true}
	e := tr.Plan(in, PlanOptions{})
	if _, err := tr.Translate(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	var prompt int
	for _, r := range m.reqs {
		for _, msg := range r.Messages {
			prompt += tr.counter.Count(msg.Content)
		}
	}
	// The estimate adds up the parts of each request (counted once each, for
	// speed), so BPE merges across their seams may differ by a few tokens.
	if diff := e.InputTokens() - prompt; len(e.Requests) != len(m.reqs) || diff < -prompt/50 || diff > prompt/50 {
		t.Errorf("plan: %d requests, %d input tokens; translate: %d requests, %d prompt tokens", len(e.Requests), e.InputTokens(), len(m.reqs), prompt)
	}
}
