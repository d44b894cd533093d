package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/render"
)

// fakeModel answers as the fake server's model does and counts requests.
type fakeModel struct{ requests atomic.Int64 }

func (m *fakeModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	m.requests.Add(1)
	system, user := req.Messages[0].Content, req.Messages[len(req.Messages)-1].Content
	if len(fakeopenai.ParseSegments(user)) == 0 {
		return llm.Response{Content: fakeopenai.Summarize(user), FinishReason: "stop"}, nil
	}
	return llm.Response{Content: fakeopenai.TranslateSegments(user) + fakeopenai.Brief(system, user), FinishReason: "stop"}, nil
}

// countingStore counts Get calls.
type countingStore struct {
	cache.Store
	gets atomic.Int64
}

func (s *countingStore) Get(key string) ([]byte, bool) {
	s.gets.Add(1)
	return s.Store.Get(key)
}

type settings struct {
	model   string
	lang    string
	layout  render.Layout
	syntax  article.Syntax
	gloss   glossary.Glossary
	summary bool
}

func (c settings) pipeline(m llm.Client, store cache.Store) *Pipeline {
	return New(m, store, Settings{Model: c.model, Lang: c.lang, Layout: c.layout, Summary: c.summary, Glossary: c.gloss, Syntax: c.syntax})
}

// TestOutputRecords checks that an unchanged input with unchanged settings
// is served from its output record (one cache read, no request, the same
// bytes), and that changing any setting that shapes the output misses the
// record and renders afresh.
func TestOutputRecords(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "DockerHub_国内镜像解决方案.md"))
	if err != nil {
		t.Fatal(err)
	}
	base := settings{model: "m1", lang: "English", layout: render.Bilingual, summary: true}
	ctx := context.Background()
	dir, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: dir}

	// fresh renders the article with c and no cache at all: the output an
	// output record must reproduce.
	fresh := func(c settings) []byte {
		res, err := c.pipeline(&fakeModel{}, cache.Nop{}).Article(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		return res.Markdown
	}

	m := &fakeModel{}
	first, err := base.pipeline(m, store).Article(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if m.requests.Load() == 0 || first.Cached {
		t.Fatalf("first run: %d requests, cached %v", m.requests.Load(), first.Cached)
	}

	store.gets.Store(0)
	m = &fakeModel{}
	again, err := base.pipeline(m, store).Article(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.gets.Load(); got != 1 || m.requests.Load() != 0 {
		t.Errorf("re-run: %d cache reads and %d requests, want 1 and 0", got, m.requests.Load())
	}
	if !again.Cached || again.SourceTokens != first.SourceTokens || !bytes.Equal(again.Markdown, first.Markdown) {
		t.Errorf("re-run: cached %v, source tokens %d (want %d), same output %v",
			again.Cached, again.SourceTokens, first.SourceTokens, bytes.Equal(again.Markdown, first.Markdown))
	}

	english := base
	english.layout = render.English
	noSummary := base
	noSummary.summary = false
	french := base
	french.lang = "French"
	model := base
	model.model = "m2"
	plain := base
	plain.syntax = article.SyntaxText
	gloss := base
	gloss.gloss = glossary.Glossary{{Source: "镜像", Target: "mirror"}}
	tests := []struct {
		name  string
		c     settings
		input []byte
	}{
		{"layout", english, data},
		{"no summary", noSummary, data},
		{"language", french, data},
		{"model", model, data},
		{"glossary", gloss, data},
		{"input edited", base, bytes.Replace(data, []byte("镜像"), []byte("镜象"), 1)},
		{"parser", plain, data},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store.gets.Store(0)
			res, err := tc.c.pipeline(&fakeModel{}, store).Article(ctx, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if store.gets.Load() == 1 {
				t.Errorf("served from a record made with other settings")
			}
			if bytes.Equal(tc.input, data) {
				if want := fresh(tc.c); !bytes.Equal(res.Markdown, want) {
					t.Errorf("output differs from a cacheless run with the same settings")
				}
			}
		})
	}
}

// TestOutputRecordDamaged checks that a record that is not one (foreign
// value under the key) is ignored and the output rendered afresh.
func TestOutputRecordDamaged(t *testing.T) {
	data := []byte("---\ntitle: 测试\n---\n<p>第一段中文。</p><p>第二段中文。</p>")
	dir, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := settings{model: "m1", lang: "English", layout: render.Bilingual, summary: true}
	p := c.pipeline(&fakeModel{}, dir)
	want, err := p.Article(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "no newline", "-5\nx", "abc\nx"} {
		if err := dir.Put(p.outputKey(data), []byte(bad)); err != nil {
			t.Fatal(err)
		}
		got, err := c.pipeline(&fakeModel{}, dir).Article(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Markdown, want.Markdown) {
			t.Errorf("record %q: output %q, want %q", bad, got.Markdown, want.Markdown)
		}
	}
}

func TestEnglishTitle(t *testing.T) {
	long := "The quick brown fox jumps over the lazy dog while the cat watches from the window and the bird sings on."
	tests := []struct {
		name, tldr string
		texts      []string
		want       string
	}{
		{"from the TL;DR", "Altman won **Trump's** support.", []string{"x"}, "Altman won Trump's support."},
		{"first sentence without a summary", "", []string{"", "See [the report](L1) first. Then more."}, "See the report first"},
		{"escapes dropped", "", []string{`A \*star\* is born`}, "A *star* is born"},
		{"cut at a word", long, nil, "The quick brown fox jumps over the lazy dog while the cat watches from the…"},
		{"nothing", "", []string{" "}, ""},
	}
	for _, tt := range tests {
		if got := englishTitle(tt.tldr, tt.texts); got != tt.want {
			t.Errorf("%s: englishTitle = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestOwnOutputIsNotAnInput: an input carrying the key xlate writes is one
// of its outputs, refused before anything is asked.
func TestOwnOutputIsNotAnInput(t *testing.T) {
	p := settings{model: "m1", lang: "English", layout: render.Bilingual, summary: true}.pipeline(&fakeModel{}, cache.Nop{})
	out, err := p.Article(context.Background(), []byte("---\ntitle: 测试\n---\n<p>第一段中文。</p>"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Article(context.Background(), out.Markdown); !errors.Is(err, ErrOwnOutput) {
		t.Errorf("an output as input: err = %v, want ErrOwnOutput", err)
	}
	if _, err := p.Estimate(out.Markdown); !errors.Is(err, ErrOwnOutput) {
		t.Errorf("dry run of an output: err = %v, want ErrOwnOutput", err)
	}
}

// TestBuildStampWithoutVCS: a binary built without VCS stamps (go test's,
// or -buildvcs=false) is identified by its bytes, so that a rebuilt xlate
// never serves outputs an older one rendered.
func TestBuildStampWithoutVCS(t *testing.T) {
	sum := executableSum()
	if len(sum) != 64 {
		t.Fatalf("executableSum = %q, want a sha256 in hex", sum)
	}
	if !strings.HasSuffix(build(), " "+sum) {
		t.Errorf("build() = %q: the test binary has no VCS stamp, want it to end in the executable's hash", build())
	}
}
