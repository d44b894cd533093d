package pipeline

import (
	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/lang"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/render"
	"github.com/xlate/xlate/summarize"
	"github.com/xlate/xlate/translate"
)

// Settings are the choices that shape an output.
type Settings struct {
	Model    string
	Lang     string // target language (lang.Lookup)
	Layout   render.Layout
	Summary  bool
	Budget   int // chunk budget in tokens (0 = translate.DefaultBudget)
	Glossary glossary.Glossary
	Syntax   article.Syntax // the inputs' body syntax (article.SyntaxAuto: by content)
	HugoLang string         // the outputs' language code in a Hugo multilingual site (LangOfSuffix), or ""
	// AcceptSuspect takes a segment's last suspect answer instead of
	// failing its file (translate.Options.AcceptSuspect).
	AcceptSuspect bool
}

// New returns the Pipeline for s, requesting through client and caching
// in store (translations, summaries and whole outputs).
func New(client llm.Client, store cache.Store, s Settings) *Pipeline {
	counter := chunk.Default()
	p := &Pipeline{
		Layout:   s.Layout,
		Model:    s.Model,
		Syntax:   s.Syntax,
		HugoLang: s.HugoLang,
		Outputs:  store,
		Lang:     lang.Lookup(s.Lang).Name,
	}
	opts := translate.Options{Model: s.Model, Lang: s.Lang, Budget: s.Budget, Glossary: s.Glossary, AcceptSuspect: s.AcceptSuspect}
	if s.Summary {
		p.Summarizer = summarize.New(client, store, counter, summarize.Options{Model: s.Model, Lang: s.Lang})
		opts.Extra = extra(p.Summarizer)
	}
	p.Translator = translate.New(client, store, counter, opts)
	return p
}

// extra is what translation requests ask for, for the summary of sum.
func extra(sum *summarize.Summarizer) *translate.Extra {
	whole, part := sum.Instructions()
	return &translate.Extra{Whole: whole, Part: part, Read: sum.Read, Note: sum.Note}
}
