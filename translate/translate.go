// Package translate turns an article's Chinese segments into another
// language through an LLM, one token-budgeted chunk per request.
//
// Segments already in the cache, and segments with no Chinese in them, are
// never sent. The rest are packed into chunks (package chunk), sent with the
// segment protocol (see protocol.go), and every answer is validated: each id
// exactly once, nothing empty, nothing left in Chinese. Segments that fail are
// asked again, then the chunk is bisected down to single segments. A segment
// that still fails fails the whole call with a *SegmentError; nothing partial
// is returned, but every segment that did succeed is already in the cache.
package translate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/llm"
)

// PromptVersion is part of every cache key: change it whenever the prompt or
// the protocol changes in a way that changes translations.
const PromptVersion = "t1"

// DefaultBudget is the default chunk budget in tokens of source text.
const DefaultBudget = 1500

// Options configure a Translator.
type Options struct {
	Model  string // part of the cache key
	Lang   string // target language, default "English"
	Budget int    // chunk budget in tokens, default DefaultBudget
}

// Translator translates segments through an LLM client and a cache. It is
// safe for concurrent use; requests in flight are bounded by the client.
type Translator struct {
	client  llm.Client
	store   cache.Store
	counter chunk.Counter
	opts    Options
	stats   Stats
}

// Stats counts a Translator's work.
type Stats struct {
	Segments atomic.Int64 // segments asked for
	Cached   atomic.Int64 // served from the cache
	Kept     atomic.Int64 // kept as they are (no Chinese)
	Sent     atomic.Int64 // segments sent to the model (counting re-asks)
	Requests atomic.Int64 // translation requests made
	Retried  atomic.Int64 // re-asks and bisections after a bad answer
}

// New returns a Translator.
func New(client llm.Client, store cache.Store, counter chunk.Counter, opts Options) *Translator {
	if opts.Lang == "" {
		opts.Lang = "English"
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if store == nil {
		store = cache.Nop{}
	}
	return &Translator{client: client, store: store, counter: counter, opts: opts}
}

// Stats returns the translator's counters.
func (t *Translator) Stats() *Stats { return &t.stats }

// SegmentError says which segment could not be translated and why.
type SegmentError struct {
	Index  int    // index into Input.Texts; -1 for the title
	Text   string // the source text
	Reason string
}

func (e *SegmentError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("title (%q): %s", excerpt(e.Text, 24), e.Reason)
	}
	return fmt.Sprintf("paragraph %d (%q): %s", e.Index+1, excerpt(e.Text, 24), e.Reason)
}

// Input is what Translate needs to know about one article.
type Input struct {
	Title string   // the original title, translated too; may be empty
	Texts []string // the segments, in document order
}

// Output holds translations aligned with Input.
type Output struct {
	Title string
	Texts []string
	// Requested counts the segments that had to be sent to the model (the
	// rest came from the cache or needed no translation).
	Requested int
}

// key is the cache key of one segment's translation.
func (t *Translator) key(text string) string {
	return cache.Key("translate", PromptVersion, t.opts.Model, t.opts.Lang, text)
}

// Translate translates every text of in. It returns an error if any text
// could not be translated; translations already made are cached either way.
func (t *Translator) Translate(ctx context.Context, in Input) (Output, error) {
	// Index 0 is the title; texts follow. Identical texts are requested once.
	all := append([]string{in.Title}, in.Texts...)
	out := make([]string, len(all))
	var items []chunk.Item
	first := map[string]int{}  // text -> index of its first occurrence among misses
	var dups [][2]int          // (copy, original)
	urls := map[int][]string{} // item ID -> the URLs masked in its text
	for i, s := range all {
		if i == 0 && s == "" {
			continue
		}
		t.stats.Segments.Add(1)
		if !NeedsTranslation(s) {
			t.stats.Kept.Add(1)
			out[i] = s
			continue
		}
		if v, ok := t.store.Get(t.key(s)); ok {
			t.stats.Cached.Add(1)
			out[i] = string(v)
			continue
		}
		if j, ok := first[s]; ok {
			dups = append(dups, [2]int{i, j})
			continue
		}
		first[s] = i
		masked, u := mask(s)
		urls[i] = u
		items = append(items, chunk.Item{ID: i, Text: masked})
	}
	if len(items) > 0 {
		if err := t.translateItems(ctx, in.Title, all, items, urls, out); err != nil {
			return Output{}, err
		}
		// Never a silent gap: every item sent has its translation.
		for _, it := range items {
			if out[it.ID] == "" {
				return Output{}, &SegmentError{Index: it.ID - 1, Text: all[it.ID], Reason: "no translation came back"}
			}
		}
	}
	for _, d := range dups {
		out[d[0]] = out[d[1]]
	}
	return Output{Title: out[0], Texts: out[1:], Requested: len(items)}, nil
}

// translateItems translates items into out[item.ID], chunk by chunk in
// parallel, puts their URLs back and caches each finished item.
func (t *Translator) translateItems(ctx context.Context, title string, all []string, items []chunk.Item, urls map[int][]string, out []string) error {
	chunks := chunk.Split(items, t.opts.Budget, t.counter)

	var mu sync.Mutex
	parts := map[int][]string{} // item ID -> translated pieces
	accept := func(p chunk.Piece, s string) {
		mu.Lock()
		defer mu.Unlock()
		if parts[p.ID] == nil {
			parts[p.ID] = make([]string, p.Parts)
		}
		parts[p.ID][p.Part] = s
		if done(parts[p.ID]) {
			// Each piece kept its links (checkAnswer), so unmask cannot fail.
			s, err := unmask(t.join(parts[p.ID]), urls[p.ID])
			if err != nil {
				return
			}
			out[p.ID] = s
			// A failed Put only costs a request next time.
			_ = t.store.Put(t.key(all[p.ID]), []byte(s))
		}
	}
	// A failing chunk does not cancel the others: their work lands in the
	// cache, so a re-run asks only for what failed.
	var g errgroup.Group
	for _, c := range chunks {
		g.Go(func() error {
			texts := make([]string, len(c.Pieces))
			for i, p := range c.Pieces {
				texts[i] = p.Text
			}
			err := t.translatePieces(ctx, title, previous(all, c.Pieces[0]), texts, func(i int, s string) { accept(c.Pieces[i], s) })
			var se *SegmentError
			if errors.As(err, &se) {
				p := c.Pieces[se.Index]
				se.Index, se.Text = p.ID-1, all[p.ID]
			}
			return err
		})
	}
	return g.Wait()
}

func done(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}

// join rejoins the translations of a paragraph that was split at sentence
// ends. Languages written without spaces are joined without them.
func (t *Translator) join(parts []string) string {
	sep := " "
	switch strings.ToLower(t.opts.Lang) {
	case "chinese", "japanese", "zh", "ja", "中文", "日本語":
		sep = ""
	}
	return strings.Join(parts, sep)
}

// previous returns the end of the paragraph before piece p's. It is sent as context so that names and tone carry across
// chunks.
func previous(all []string, p chunk.Piece) string {
	if p.ID > 1 {
		return tail(all[p.ID-1], 160)
	}
	return ""
}

func tail(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-n:])
}

func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
