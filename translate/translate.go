// Package translate turns an article's Chinese segments into another
// language through an LLM, one token-budgeted chunk per request.
//
// Segments already in the cache, and segments with no Chinese in them, are
// never sent. The rest are packed into chunks (package chunk), sent with the
// segment protocol (see protocol.go), and every answer is validated: each id
// exactly once, nothing empty, nothing left in Chinese, in the target
// language's script, not implausibly short or long, links kept, glossary
// renderings used (see Options.Glossary). Segments that fail are asked
// again, then the chunk is bisected down to single segments. A segment
// that still fails fails the whole call with a *SegmentError; nothing partial
// is returned, but every segment that did succeed is already in the cache.
//
// Answers are judged as translations too (validate.go): an answer that keeps
// its tags but echoes the source, is far too short for it, drops most of its
// sentences, carries prompt markup, merges its lines, or repeats the answer
// to another, different segment is suspect. A suspect answer is asked again
// like a bad one and is never cached. Re-asks are capped per call
// (Options.MaxReasks) and counted (Output.Reasks, Stats.Reasks); suspect
// answers are listed in Output.Suspects. Options.AcceptSuspect takes a
// segment's last suspect answer, with a warning, instead of failing.
package translate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/lang"
	"github.com/xlate/xlate/llm"
)

// PromptVersion is part of every cache key: change it whenever the prompt or
// the protocol changes in a way that changes translations.
const PromptVersion = "t2"

// DefaultBudget is the default chunk budget in tokens of source text.
const DefaultBudget = 1500

// Options configure a Translator.
type Options struct {
	Model string // part of the cache key
	// Lang is the target language (default "English"): a name or code that
	// LookupLang knows ("Japanese", "ja", "zh-Hant"), or any other name,
	// which the prompts use as given.
	Lang   string
	Budget int // chunk budget in tokens, default DefaultBudget
	// Glossary fixes the renderings of terms. A request carries only the
	// entries whose source occurs in its segments; an answer that lacks the
	// target of a term its source has is asked again; and each segment's
	// cache key includes the entries that occur in it, so changing one
	// entry re-translates only the segments that contain its source.
	Glossary glossary.Glossary
	// AcceptSuspect takes a segment's last suspect answer (see
	// validate.go), when it gets no plausible one, instead of failing the
	// call: the answer is used, listed in Output.Suspects with Accepted
	// set, and not cached, so that a later run asks for it again.
	AcceptSuspect bool
	// Extra is what the requests ask for besides the translations when
	// Input.Brief is set (the summary, or notes for it); nil: nothing.
	Extra *Extra
	// MaxReasks caps the re-asks of one Translate call: requests made
	// again after a broken or suspect answer, bisections included. 0 means
	// DefaultMaxReasks; a negative value, no cap. When the cap is reached,
	// the segments still without a good answer fail at once (or are taken,
	// with AcceptSuspect).
	MaxReasks int
}

// DefaultMaxReasks returns the default cap on the re-asks of a call whose
// segments take chunks requests: 8 and 2 per chunk. One damaged segment
// per answer costs one re-ask (the segment alone); a model that fails a
// third of its answers costs well under one per chunk on average.
func DefaultMaxReasks(chunks int) int { return 8 + 2*chunks }

// Translator translates segments through an LLM client and a cache. It is
// safe for concurrent use; requests in flight are bounded by the client.
type Translator struct {
	client  llm.Client
	store   cache.Store
	counter chunk.Counter
	opts    Options
	lang    lang.Language
	stats   Stats

	mu      sync.Mutex
	flights map[string]*flight // cache key -> a translation in progress
}

// flight is one segment being translated by one Translate call, which other
// calls needing the same text wait for instead of asking again.
type flight struct {
	done chan struct{}
	text string // the translation, "" if the owner failed
}

// Stats counts a Translator's work.
type Stats struct {
	Segments atomic.Int64 // segments asked for
	Cached   atomic.Int64 // served from the cache
	Kept     atomic.Int64 // kept as they are (no Chinese)
	Sent     atomic.Int64 // segments sent to the model (counting re-asks)
	Requests atomic.Int64 // translation requests made
	Retried  atomic.Int64 // re-asks and bisections after a bad answer
	Shared   atomic.Int64 // waited for another file's request for the same text
	// Reasks counts the requests made again after a broken or suspect
	// answer (part of Requests); Suspect the answers judged suspect
	// (one per segment and answer); Accepted the suspect answers taken
	// under Options.AcceptSuspect.
	Reasks   atomic.Int64
	Suspect  atomic.Int64
	Accepted atomic.Int64
	// Pinned counts the segments a person's translation was used for
	// (Input.Pinned).
	Pinned atomic.Int64
}

// New returns a Translator.
func New(client llm.Client, store cache.Store, counter chunk.Counter, opts Options) *Translator {
	l := lang.Lookup(opts.Lang)
	opts.Lang = l.Name
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if store == nil {
		store = cache.Nop{}
	}
	return &Translator{client: client, store: store, counter: counter, opts: opts, lang: l, flights: map[string]*flight{}}
}

// Stats returns the translator's counters.
func (t *Translator) Stats() *Stats { return &t.stats }

// SegmentError says which segment could not be translated and why.
type SegmentError struct {
	Index  int    // index into Input.Texts; -1 for the title
	Text   string // the source text
	Reason string
	// Suspect tells that the segment got a suspect answer, which
	// Options.AcceptSuspect would have taken.
	Suspect bool
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
	// Brief asks the model for Options.Extra: the article's summary in the
	// same request when the whole article goes in one request, or a short
	// note per request when it takes several, so that the summary costs no
	// second reading of the article. It is asked only when the model sees
	// (nearly) all of the article: not when some segments come from the
	// cache.
	Brief bool
	// Pinned holds translations a person wrote, by source text (the
	// title's or a segment's): they are used as given, whatever the model,
	// prompt or glossary, and never sent or checked. A pinned text counts
	// as neither requested nor cached.
	Pinned map[string]string
}

// Output holds translations aligned with Input.
type Output struct {
	Title string
	Texts []string
	// Requested counts the segments that had to be sent to the model, by
	// this call or by another one translating the same text at the same
	// time (the rest came from the cache or needed no translation).
	Requested int
	// Summary is what Extra.Read made of the answer of a one-request
	// article, when Brief was set and the model gave a usable summary.
	Summary string
	// SourceTokens counts the tokens of the texts that need translation,
	// cached or not: the size of the job, for reports.
	SourceTokens int
	// Reasks counts the requests this call made again after a broken or
	// suspect answer (see Options.MaxReasks).
	Reasks int
	// Pinned counts the texts that had a person's translation
	// (Input.Pinned), repeats included.
	Pinned int
	// Suspects lists, in order, the segments that got a suspect answer,
	// whether a later answer was plausible or the suspect one was
	// accepted (Options.AcceptSuspect).
	Suspects []Suspect
}

// Suspect is a segment that got an answer the validator judged an
// implausible translation (see validate.go).
type Suspect struct {
	Index  int    // index into Input.Texts; -1 for the title
	Reason string // why its last suspect answer was rejected
	Answer string // that answer (URLs masked as L1, L2, …)
	// Accepted tells that the answer was used (Options.AcceptSuspect);
	// otherwise a later answer was plausible and replaced it.
	Accepted bool
}

// key is the cache key of one segment's translation: the glossary entries
// that occur in the segment (as sent, URLs masked) are part of it, other
// entries are not. Without any, the key is what it was before glossaries.
func (t *Translator) key(text string) string {
	if len(t.opts.Glossary) > 0 {
		masked, _ := mask(text)
		if g := t.opts.Glossary.In(masked).Key(); g != "" {
			return cache.Key("translate", PromptVersion, t.opts.Model, t.opts.Lang, text, g)
		}
	}
	return cache.Key("translate", PromptVersion, t.opts.Model, t.opts.Lang, text)
}

// Translate translates every text of in. It returns an error if any text
// could not be translated; translations already made are cached either way.
// Its first requests are the ones Plan makes.
//
// A text that another Translate call of this Translator is already
// translating (the same boilerplate paragraph in two files at once) is not
// asked for again: this call waits for that one's answer.
func (t *Translator) Translate(ctx context.Context, in Input) (Output, error) {
	// Index 0 is the title; texts follow.
	all := append([]string{in.Title}, in.Texts...)
	out := make([]string, len(all))
	var (
		owned   = map[int]*flight{}    // index -> the flight this call owns
		waiting = map[int]*flight{}    // index -> another call's flight
		keys    = map[*flight]string{} // owned flight -> its key
		foreign = map[int]string{}     // index -> key another process claimed
	)
	claimer, _ := t.store.(cache.Claimer)
	var releases []func()
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	if claimer != nil {
		// Another process working on the same article (a second run over
		// the same tree) is waited for whole, rather than raced for each
		// paragraph, which would split the chunks of both.
		release, err := t.claimArticle(ctx, claimer, all, in.Pinned)
		if err != nil {
			return Output{}, err
		}
		releases = append(releases, release)
	}
	// A text is asked for here unless another call of this process, or
	// another process sharing the cache, is asking for it now.
	admit := func(i int, key string) bool {
		t.mu.Lock()
		f, busy := t.flights[key]
		if !busy {
			f = &flight{done: make(chan struct{})}
			t.flights[key] = f
			owned[i], keys[f] = f, key
		}
		t.mu.Unlock()
		if busy {
			waiting[i] = f
			return false
		}
		if claimer != nil {
			release, mine := claimer.Claim(key)
			if !mine {
				foreign[i] = key
				return false
			}
			releases = append(releases, release)
		}
		return true
	}
	plan := t.plan(in, memo(t.counter), admit, out, planFlags{})
	for i, s := range all {
		switch {
		case i == 0 && s == "":
		case in.pinned(s):
			t.stats.Segments.Add(1)
			t.stats.Pinned.Add(1)
		case !lang.NeedsTranslation(s):
			t.stats.Segments.Add(1)
			t.stats.Kept.Add(1)
			out[i] = s
		default:
			t.stats.Segments.Add(1)
		}
	}
	t.stats.Cached.Add(int64(plan.Cached))
	st := &callState{max: t.opts.MaxReasks, suspects: map[int]Suspect{}, taken: map[int]bool{}}
	// Settle this call's flights (also on error) before waiting for any
	// other call's, so that two calls waiting for each other cannot block.
	settled := false
	settle := func() {
		if settled {
			return
		}
		settled = true
		t.mu.Lock()
		defer t.mu.Unlock()
		for id, f := range owned {
			f.text = out[id]
			if st.isTaken(id) {
				f.text = "" // a suspect answer: the waiter asks on its own
			}
			delete(t.flights, keys[f])
			close(f.done)
		}
	}
	defer settle()

	res := Output{Requested: plan.Missing(), SourceTokens: plan.SourceTokens, Pinned: plan.Pinned}
	if len(plan.Requests) > 0 {
		if err := t.execute(ctx, all, plan.Requests, out, &res, st); err != nil {
			return Output{}, err // the deferred settle releases the waiters
		}
	}
	if err := t.awaitForeign(ctx, claimer, in.Title, all, foreign, out, st, &releases); err != nil {
		return Output{}, err
	}
	settle()
	if err := t.await(ctx, in.Title, all, waiting, out, st); err != nil {
		return Output{}, err
	}
	res.Reasks, res.Suspects = st.report()
	// A text repeated in the article has its first occurrence's
	// translation; never a silent gap.
	first := map[string]int{}
	for i, s := range all {
		if !lang.NeedsTranslation(s) || in.pinned(s) {
			continue
		}
		j, dup := first[s]
		if !dup {
			first[s] = i
			if out[i] == "" {
				return Output{}, &SegmentError{Index: i - 1, Text: s, Reason: "no translation came back"}
			}
			continue
		}
		out[i] = out[j]
		if st.isTaken(j) {
			// The copy of an accepted suspect answer is one too.
			for _, sp := range res.Suspects {
				if sp.Index == j-1 {
					sp.Index = i - 1
					res.Suspects = append(res.Suspects, sp)
					break
				}
			}
		}
	}
	slices.SortFunc(res.Suspects, func(a, b Suspect) int { return a.Index - b.Index })
	res.Title, res.Texts = out[0], out[1:]
	return res, nil
}

// pinned reports whether s has a translation a person wrote.
func (in Input) pinned(s string) bool {
	_, ok := in.Pinned[s]
	return ok && s != ""
}

// claimArticle claims, across the processes sharing the cache, the texts
// of an article that the cache lacks, as one: when another process holds
// the same claim, it waits until that one is done, and the cache has its
// answers. It returns the claim's release (a no-op when nothing is missing).
func (t *Translator) claimArticle(ctx context.Context, claimer cache.Claimer, all []string, pinned map[string]string) (func(), error) {
	keys := []string{"translate-article", PromptVersion}
	for i, s := range all {
		if _, pin := pinned[s]; pin || i == 0 && s == "" || !lang.NeedsTranslation(s) {
			continue
		}
		if k := t.key(s); !t.has(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 2 {
		return func() {}, nil
	}
	key := cache.Key(keys...)
	for {
		if release, mine := claimer.Claim(key); mine {
			return release, nil
		}
		if _, err := claimer.WaitClaim(ctx, key); err != nil {
			return nil, fmt.Errorf("translate: %w", err)
		}
	}
}

// has reports whether the cache holds a valid translation under key.
func (t *Translator) has(key string) bool {
	v, ok := t.store.Get(key)
	if ok {
		_, _, ok = decodeEntry(v)
	}
	return ok
}

// awaitForeign fills out with the entries that other processes sharing the
// cache were asking for (claimed) when this call looked. A text whose
// claim went without an entry (its owner failed or died) is claimed and
// translated here.
func (t *Translator) awaitForeign(ctx context.Context, claimer cache.Claimer, title string, all []string, foreign map[int]string, out []string, st *callState, releases *[]func()) error {
	var again []int
	for i, key := range foreign {
		ok, err := claimer.WaitClaim(ctx, key)
		if err != nil {
			return fmt.Errorf("translate: %w", err)
		}
		if v, found := t.store.Get(key); ok && found {
			if text, _, valid := decodeEntry(v); valid {
				t.stats.Shared.Add(1)
				out[i] = text
				continue
			}
		}
		if release, mine := claimer.Claim(key); mine {
			*releases = append(*releases, release)
		}
		again = append(again, i)
	}
	return t.translateAgain(ctx, title, all, again, out, st)
}

// await fills out with the answers of other calls' flights. A text whose
// owner failed (or took a suspect answer) is translated here after all.
func (t *Translator) await(ctx context.Context, title string, all []string, waiting map[int]*flight, out []string, st *callState) error {
	var again []int
	for i, f := range waiting {
		select {
		case <-f.done:
		case <-ctx.Done():
			return fmt.Errorf("translate: %w", ctx.Err())
		}
		if f.text != "" {
			t.stats.Shared.Add(1)
			out[i] = f.text
			continue
		}
		again = append(again, i)
	}
	return t.translateAgain(ctx, title, all, again, out, st)
}

// translateAgain translates the texts all[i] for i in ids that another
// call or process was to answer and did not.
func (t *Translator) translateAgain(ctx context.Context, title string, all []string, ids []int, out []string, st *callState) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	again := Input{Title: title, Texts: make([]string, len(all)-1)}
	for _, i := range ids {
		if i == 0 {
			continue // the title is the title
		}
		again.Texts[i-1] = all[i]
	}
	if !slices.Contains(ids, 0) {
		again.Title = ""
	}
	plan := t.plan(again, memo(t.counter), func(int, string) bool { return true }, out, planFlags{})
	for r := range plan.Requests {
		// Context as the article has it, not as the sparse copy.
		plan.Requests[r].job.title = title
		plan.Requests[r].job.prev = previous(all, plan.Requests[r].Pieces[0].id)
	}
	return t.execute(ctx, all, plan.Requests, out, &Output{}, st)
}

// callState is what one Translate call's chunks share: the re-ask budget
// and the suspect answers met.
type callState struct {
	max    int     // Options.MaxReasks
	budget *budget // made by the first translateItems, grown by later ones

	mu       sync.Mutex
	suspects map[int]Suspect // by index into Translate's all (0: title)
	taken    map[int]bool    // indexes whose translation has a taken suspect answer
}

// grow makes room in the budget for chunks more chunks: the default cap
// grows with them; a set cap is the call's whole.
func (st *callState) grow(chunks int) {
	switch {
	case st.budget == nil && st.max != 0:
		st.budget = &budget{limit: int64(st.max)}
	case st.budget == nil:
		st.budget = &budget{limit: int64(DefaultMaxReasks(chunks))}
	case st.max == 0:
		st.budget.limit += int64(DefaultMaxReasks(chunks) - DefaultMaxReasks(0))
	}
}

func (st *callState) noteSuspect(id int, a suspectAnswer, taken bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.suspects[id] = Suspect{Index: id - 1, Reason: a.why, Answer: a.text, Accepted: taken}
	if taken {
		st.taken[id] = true
	}
}

func (st *callState) isTaken(id int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.taken[id]
}

// report returns the call's re-asks and its suspects in order.
func (st *callState) report() (int, []Suspect) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var list []Suspect
	for _, s := range st.suspects {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b Suspect) int { return a.Index - b.Index })
	n := 0
	if st.budget != nil {
		n = int(st.budget.used.Load())
	}
	return n, list
}

// execute sends reqs (planned for the article all), in parallel, and
// re-asks what comes back bad. Each finished text goes to out at its index,
// its URLs put back, and to the cache (unless a part of it is a suspect
// answer taken under Options.AcceptSuspect).
func (t *Translator) execute(ctx context.Context, all []string, reqs []Request, out []string, res *Output, st *callState) error {
	st.grow(len(reqs))
	var mu sync.Mutex
	parts := map[int][]string{} // index -> translated pieces
	accept := func(p Piece, s string) {
		mu.Lock()
		defer mu.Unlock()
		if parts[p.id] == nil {
			parts[p.id] = make([]string, max(p.Parts, 1))
		}
		if p.Part < p.Parts-1 {
			s = keepBreak(p.Text, s)
		}
		parts[p.id][p.Part] = s
		if done(parts[p.id]) {
			// Each piece kept its links (checkAnswer), so unmask cannot fail.
			_, urls := mask(p.Source)
			s, err := unmask(t.lang.Join(parts[p.id]), urls)
			if err != nil {
				return
			}
			out[p.id] = s
			if st.isTaken(p.id) {
				return // never cache a suspect answer
			}
			// A failed Put only costs a request next time.
			_ = t.store.Put(t.key(p.Source), encodeEntry(t.counter.Count(p.Source), s))
		}
	}
	// A failing request does not cancel the others: their work lands in
	// the cache, so a re-run asks only for what failed.
	var g errgroup.Group
	for _, r := range reqs {
		g.Go(func() error {
			texts := make([]string, len(r.Pieces))
			for i, p := range r.Pieces {
				texts[i] = p.Text
			}
			j := r.job
			j.budget = st.budget
			j.gotSummary = func(s string) { res.Summary = s }
			k := sink{
				accept:  func(i int, s string) { accept(r.Pieces[i], s) },
				suspect: func(i int, a suspectAnswer) { st.noteSuspect(r.Pieces[i].id, a, false) },
				take: func(i int, a suspectAnswer) {
					st.noteSuspect(r.Pieces[i].id, a, true)
					accept(r.Pieces[i], a.text)
				},
				last: map[int]suspectAnswer{},
				top:  func(i int) int { return i },
			}
			err := t.translatePieces(ctx, j, texts, k)
			var se *SegmentError
			if errors.As(err, &se) {
				p := r.Pieces[se.Index]
				se.Index, se.Text = p.id-1, p.Source
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

// previous returns the end of the paragraph before all[id]. It is sent as
// context so that names and tone carry across requests.
func previous(all []string, id int) string {
	if id > 1 {
		return tail(all[id-1], 80)
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

// Fingerprint identifies everything in the Translator's settings that
// shapes its translations (prompt version, model, language, glossary), so
// that a cache of whole outputs can key on it.
func (t *Translator) Fingerprint() string {
	return cache.Key("translate", PromptVersion, t.opts.Model, t.lang.Name, t.opts.Glossary.Key())
}
