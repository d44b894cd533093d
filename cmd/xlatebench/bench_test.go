package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestReplicaSmall(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraph", "第一段。\n第二段", "第一段（3）。\n第二段（3）"},
		{"no han", "plain English 123\n", "plain English 123\n"},
		{"tags kept", `<p class="中文">第一段<span>粗体</span>。</p>`, `<p class="中文">第一段（3）<span>粗体（3）</span>。</p>`},
		{"footer kept", `<a href="https://x">原文链接</a>`, `<a href="https://x">原文链接</a>`},
		{"markdown footer kept", "[原文链接](https://x)", "[原文链接](https://x)"},
		{"less-than is text", "甲 < 乙", "甲 < 乙（3）"},
		{"yaml title", `title: "华盛顿内幕：如何"`, `title: "华盛顿内幕：如何（3）"`},
		{"table cells", "| 加速地址 | 说明 |", "| 加速地址（3） | 说明（3） |"},
		{"unterminated tag", "文字<p 未完", "文字<p 未完（3）"},
		{"tag across lines is text", "甲<p\n乙>丙", "甲（3）<p\n乙>丙（3）"},
		{"unclosed angle bracket is text", "第三段<Thaler 说", "第三段<Thaler 说（3）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replica(tt.in, 3); got != tt.want {
				t.Errorf("replica(%q, 3) = %q, want %q", tt.in, got, tt.want)
			}
			if got := replica(tt.in, 0); got != tt.in {
				t.Errorf("replica 0 changed the text: %q", got)
			}
		})
	}
}

// parsed is what the benchmark relies on in a replica: the same structure,
// with every Chinese text changed.
type parsed struct {
	title string
	kinds []article.Kind
	segs  []string
}

func parseText(t *testing.T, data []byte) parsed {
	t.Helper()
	a, err := article.Parse(data, article.SyntaxAuto)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p := parsed{title: a.Title}
	for _, b := range a.Blocks {
		p.kinds = append(p.kinds, b.Kind)
	}
	for _, s := range a.Segments(false) {
		p.segs = append(p.segs, s.Text)
	}
	return p
}

func TestReplicaCorpus(t *testing.T) {
	files, err := loadCorpus("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			orig := parseText(t, f.Raw)
			seen := map[string]int{}
			for _, k := range []int{1, 7} {
				rep := parseText(t, []byte(replica(f.Text, k)))
				if strings.Join(kindNames(rep.kinds), " ") != strings.Join(kindNames(orig.kinds), " ") {
					t.Fatalf("replica %d blocks %v, original %v", k, rep.kinds, orig.kinds)
				}
				if len(rep.segs) != len(orig.segs) {
					t.Fatalf("replica %d has %d segments, original %d", k, len(rep.segs), len(orig.segs))
				}
				if hasHan(orig.title) && rep.title == orig.title {
					t.Errorf("replica %d keeps the title %q", k, orig.title)
				}
				for i, s := range rep.segs {
					if !hasHan(orig.segs[i]) || footerWords[hanOnly(orig.segs[i])] {
						continue // kept on purpose: boilerplate every replica shares
					}
					if s == orig.segs[i] {
						t.Errorf("replica %d keeps segment %d: %q", k, i, s)
					}
					if j, dup := seen[s]; dup && j != k {
						t.Errorf("segment %q in replicas %d and %d", s, j, k)
					}
					seen[s] = k
				}
			}
		})
	}
}

func hanOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if hasHan(string(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func kindNames(ks []article.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	return out
}

func TestTreeLayout(t *testing.T) {
	got := treeLayout([]string{"a.md", "b.txt"}, 5)
	want := []treeFile{
		{"r00000/a.md", "a.md", 0}, {"r00000/b.txt", "b.txt", 0},
		{"r00001/a.md", "a.md", 1}, {"r00001/b.txt", "b.txt", 1},
		{"r00002/a.md", "a.md", 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("file %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if treeLayout(nil, 3) != nil || treeLayout([]string{"a"}, 0) != nil {
		t.Error("empty input should give no files")
	}
}

func TestWriteTree(t *testing.T) {
	files, err := loadCorpus("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	layout, err := writeTree(dir, files, len(files)+1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range layout {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tf.Rel)))
		if err != nil {
			t.Fatal(err)
		}
		var src corpusFile
		for _, f := range files {
			if f.Name == tf.Source {
				src = f
			}
		}
		want := src.Raw
		if tf.K > 0 {
			want = []byte(replica(src.Text, tf.K))
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s: content differs from replica %d of %s", tf.Rel, tf.K, tf.Source)
		}
	}
}

func TestEditParagraph(t *testing.T) {
	files, err := loadCorpus("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			edited, ok := editParagraph(f.Text)
			if !ok {
				t.Fatal("no paragraph edited")
			}
			before, after := parseText(t, []byte(f.Text)), parseText(t, []byte(edited))
			if before.title != after.title {
				t.Errorf("title changed: %q -> %q", before.title, after.title)
			}
			if len(before.segs) != len(after.segs) {
				t.Fatalf("%d segments became %d", len(before.segs), len(after.segs))
			}
			changed := 0
			for i := range before.segs {
				if before.segs[i] != after.segs[i] {
					changed++
				}
			}
			if changed != 1 {
				t.Errorf("%d segments changed, want 1", changed)
			}
		})
	}
	for _, text := range []string{"短\n没有", "标题\n\n重复的一段很长的文字啊。\n\n重复的一段很长的文字啊。\n"} {
		if got, ok := editParagraph(text); ok {
			t.Errorf("editParagraph(%q) = %q, want no edit (no unique run of 8 Han characters)", text, got)
		}
	}
}

func rec(kind, system, user string) fakeopenai.Recorded {
	return fakeopenai.Recorded{Kind: kind, Messages: []fakeopenai.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}}
}

func TestComputeIdeal(t *testing.T) {
	p := provider{TTFT: 100 * time.Millisecond, TPS: 10}
	tr := func(title, seg string) fakeopenai.Recorded {
		return rec(fakeopenai.KindTranslate, "translate", "Title: "+title+"\n\n<seg id=\"1\">"+seg+"</seg>")
	}
	sum := func(tag, title string) fakeopenai.Recorded {
		return rec(fakeopenai.KindSummary, "summarize", "<"+tag+">\nTitle: "+fakeopenai.Translate(title)+"\n\ntext\n</"+tag+">")
	}
	svc := func(r fakeopenai.Recorded) time.Duration { return p.serviceTime(completionTokens(&r)) }
	long, short := strings.Repeat("长", 400), "短"
	a1, a2, a3 := tr("甲", long), tr("甲", short), tr("乙", short)
	s1, s2 := sum("article", "甲"), sum("summaries", "甲")
	limited := tr("丙", long)
	limited.RateLimited = true
	untitled := rec(fakeopenai.KindTranslate, "translate", "<seg id=\"1\">"+long+long+"</seg>")
	tests := []struct {
		name      string
		recs      []fakeopenai.Recorded
		conc      int
		total     time.Duration
		chain     time.Duration
		chainName string
		bound     time.Duration
	}{
		{"empty", nil, 8, 0, 0, "", 0},
		{"one article, chain bound", []fakeopenai.Recorded{a1, a2, s1, s2}, 8,
			svc(a1) + svc(a2) + svc(s1) + svc(s2), svc(a1) + svc(s1) + svc(s2), fakeopenai.Translate("甲"), svc(a1) + svc(s1) + svc(s2)},
		{"concurrency 1, slot bound", []fakeopenai.Recorded{a1, a3, s1}, 1,
			svc(a1) + svc(a3) + svc(s1), svc(a1) + svc(s1), fakeopenai.Translate("甲"), svc(a1) + svc(a3) + svc(s1)},
		{"429s and other kinds ignored", []fakeopenai.Recorded{a3, limited, {Kind: fakeopenai.KindModels}}, 8,
			svc(a3), svc(a3), fakeopenai.Translate("乙"), svc(a3)},
		{"untitled request is its own chain", []fakeopenai.Recorded{a3, untitled}, 8,
			svc(a3) + svc(untitled), svc(untitled), "(untitled request)", svc(untitled)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeIdeal(tt.recs, p, tt.conc)
			if got.TotalService != tt.total || got.LongestChain != tt.chain || got.ChainArticle != tt.chainName || got.Bound != tt.bound {
				t.Errorf("got total %v chain %v (%q) bound %v, want %v %v (%q) %v",
					got.TotalService, got.LongestChain, got.ChainArticle, got.Bound, tt.total, tt.chain, tt.chainName, tt.bound)
			}
			if want := tt.total / time.Duration(tt.conc); got.PerSlot != want {
				t.Errorf("per slot %v, want %v", got.PerSlot, want)
			}
		})
	}
}

func TestServiceTime(t *testing.T) {
	tests := []struct {
		p    provider
		n    int
		want time.Duration
	}{
		{provider{TTFT: 300 * time.Millisecond, TPS: 100}, 250, 2800 * time.Millisecond},
		{provider{TTFT: 15 * time.Millisecond, TPS: 2000}, 1000, 515 * time.Millisecond},
		{provider{TTFT: time.Second}, 1000, time.Second},
	}
	for _, tt := range tests {
		if got := tt.p.serviceTime(tt.n); got != tt.want {
			t.Errorf("%+v.serviceTime(%d) = %v, want %v", tt.p, tt.n, got, tt.want)
		}
	}
}

func TestRateBound(t *testing.T) {
	tests := []struct {
		name                       string
		requests, tokens, rpm, tpm int
		want                       time.Duration
	}{
		{"no limits", 1000, 1e6, 0, 0, 0},
		{"fits the first bucketful", 100, 1000, 100, 1000, 0},
		{"requests bind", 300, 1000, 100, 1e6, 2 * time.Minute},
		{"tokens bind", 10, 25000, 100, 10000, 90 * time.Second},
		{"the larger wins", 300, 40000, 100, 10000, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rateBound(tt.requests, tt.tokens, tt.rpm, tt.tpm); got != tt.want {
				t.Errorf("rateBound = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLimitsFor(t *testing.T) {
	for _, target := range []time.Duration{30 * time.Second, 3 * time.Minute, 20 * time.Minute} {
		rpm, tpm := limitsFor(1500, 4_000_000, target)
		got := rateBound(1500, 4_000_000, rpm, tpm)
		if d := got - target; d < -time.Second || d > time.Second {
			t.Errorf("target %v: limits %d/%d need %v", target, rpm, tpm, got)
		}
		if rb := rateBound(1500, 0, rpm, 0); rb > target*3/4 {
			t.Errorf("target %v: the request limit binds too (%v)", target, rb)
		}
	}
	if rpm, tpm := limitsFor(0, 10, time.Minute); rpm != 0 || tpm != 0 {
		t.Errorf("no requests: got %d/%d, want no limits", rpm, tpm)
	}
}

func TestArticleOf(t *testing.T) {
	tests := []struct {
		r    fakeopenai.Recorded
		want string
	}{
		{rec(fakeopenai.KindTranslate, "", "Title: 马斯克  与奥尔特曼\nPrevious text: x\n\n<seg id=\"1\">一</seg>"), strings.Join(strings.Fields(fakeopenai.Translate("马斯克  与奥尔特曼")), " ")},
		{rec(fakeopenai.KindSummary, "", "<article>\nTitle: Musk and  Altman\n\ntext</article>"), "Musk and Altman"},
		{rec(fakeopenai.KindTranslate, "", "<seg id=\"1\">一</seg>"), ""},
	}
	for _, tt := range tests {
		if got := articleOf(&tt.r); got != tt.want {
			t.Errorf("articleOf(%q) = %q, want %q", tt.r.User(), got, tt.want)
		}
	}
}

// TestAnswerMatchesFake checks the recomputed answers against the usage the
// fake server reports, and serverCost against the messages.
func TestAnswerMatchesFake(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{})
	users := []struct{ system, user string }{
		{"Translate. Reply with <summary>.", "Title: 标题\n\n<seg id=\"1\">第一段。</seg>\n<seg id=\"2\">第二段，**粗体**。</seg>"},
		{"Translate. Add a <note>.", "<seg id=\"a\">没有标题的段落。</seg>"},
		{"Summarize.", "<article>\nTitle: Some title\n\nSome English text.\n</article>"},
	}
	for _, u := range users {
		body, _ := json.Marshal(map[string]any{"model": "m", "messages": []map[string]string{
			{"role": "system", "content": u.system}, {"role": "user", "content": u.user}}})
		resp, err := http.Post(srv.URL()+"/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
			Usage struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || len(out.Choices) != 1 {
			t.Fatalf("decode answer: %v (%d choices)", err, len(out.Choices))
		}
		recs := srv.Requests()
		r := &recs[len(recs)-1]
		if got := answerText(r); got != out.Choices[0].Message.Content {
			t.Errorf("answerText = %q, the fake answered %q", got, out.Choices[0].Message.Content)
		}
		if got := completionTokens(r); got != out.Usage.Completion {
			t.Errorf("completionTokens = %d, usage says %d", got, out.Usage.Completion)
		}
		if got, want := serverCost(r), out.Usage.Prompt+out.Usage.Completion; got != want {
			t.Errorf("serverCost = %d, want prompt+completion %d", got, want)
		}
	}
}
