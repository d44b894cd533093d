package fakeopenai

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The fake model. It is a set of pure, deterministic functions so tests
// elsewhere can compute the exact answer the server gives.

// Kinds of chat requests, as recorded in [Recorded.Kind].
const (
	KindTranslate = "translate" // the last user message holds <seg id="ID">…</seg> segments
	KindSummary   = "summary"   // the last user message holds <article>…</article> or <summaries>…</summaries>
	KindOther     = "other"     // any other chat request
	KindModels    = "models"    // GET /v1/models
	KindInvalid   = "invalid"   // a request the server rejected before reading it as chat (bad path, bad JSON)
)

var (
	segRE     = regexp.MustCompile(`(?s)<seg id="([^"<>]{1,32})">(.*?)</seg>`)
	articleRE = regexp.MustCompile(`(?s)<(article|summaries|notes)\b[^>]*>(.*?)</(?:article|summaries|notes)>`)
	tagRE     = regexp.MustCompile(`<[^>]*>`)
)

// Segment is one <seg id="ID">Text</seg> element of a translation request.
type Segment struct {
	ID   string
	Text string
}

// ParseSegments returns the <seg id="ID">TEXT</seg> elements of s in order.
// TEXT is returned as is (it may span lines).
//
// It finds what segRE.FindAllStringSubmatch finds (TestParseSegmentsIsSegRE
// checks), without a regexp: the fake parses every request two or three
// times, and under the race detector the regexp was a tenth of a test's CPU.
func ParseSegments(s string) []Segment {
	var segs []Segment
	for {
		seg, end, ok := nextSegment(s)
		if !ok {
			return segs
		}
		segs = append(segs, seg)
		s = s[end:]
	}
}

// nextSegment finds the leftmost match of segRE in s and returns it and the
// offset of its end. segRE is `(?s)<seg id="([^"<>]{1,32})">(.*?)</seg>`:
// at a start "<seg id=\"", the id runs to the first '"' (it has none of
// `"<>` and 1 to 32 runes), then comes `">`, and the text runs to the first
// "</seg>"; without a "</seg>" after a start there is none after any later
// start either. (The regexp counts the id in runes, an invalid byte one.)
func nextSegment(s string) (Segment, int, bool) {
	const open, closing = `<seg id="`, "</seg>"
	for from := 0; ; {
		i := strings.Index(s[from:], open)
		if i < 0 {
			return Segment{}, 0, false
		}
		start := from + i
		from = start + 1
		idStart := start + len(open)
		n := strings.IndexAny(s[idStart:], `"<>`)
		if n < 1 || s[idStart+n] != '"' || !strings.HasPrefix(s[idStart+n:], `">`) || utf8.RuneCountInString(s[idStart:idStart+n]) > 32 {
			continue
		}
		textStart := idStart + n + 2
		j := strings.Index(s[textStart:], closing)
		if j < 0 {
			return Segment{}, 0, false
		}
		return Segment{ID: s[idStart : idStart+n], Text: s[textStart : textStart+j]}, textStart + j + len(closing), true
	}
}

// FormatSegments renders segments the way the fake model answers: one
// <seg id="ID">TEXT</seg> element per segment, separated by newlines.
func FormatSegments(segs []Segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "<seg id=%q>%s</seg>", s.ID, s.Text)
	}
	return b.String()
}

// hasSegment is segRE.MatchString(s).
func hasSegment(s string) bool {
	_, _, ok := nextSegment(s)
	return ok
}

// classify tells what kind of request a user message is.
func classify(user string) string {
	switch {
	case hasSegment(user):
		return KindTranslate
	case articleRE.MatchString(user):
		return KindSummary
	default:
		return KindOther
	}
}

// Brief is what the fake model adds to a translation answer when the
// request's system message asks for it: a "<summary>" of the whole text
// (as [Summarize] would write it for the segments), or a "<note>" on the
// chunk (the [Translate] of its first segment's first 30 runes). It returns
// "" when neither is asked.
func Brief(system, user string) string {
	segs := ParseSegments(user)
	if len(segs) == 0 {
		return ""
	}
	switch {
	case strings.Contains(system, "<summary>"):
		return "\n<summary>" + Summarize(user) + "</summary>"
	case strings.Contains(system, "<note>"):
		return "\n<note>" + sentence(segs[0].Text, 30) + "</note>"
	}
	return ""
}

// TranslateSegments is the fake model's answer to a translation request
// whose user message is user: every segment translated with
// [TranslateWithGlossary] and the message's glossary ([ParseGlossary]), in
// order, formatted by [FormatSegments]. Without a glossary line that is
// [Translate] of every segment.
func TranslateSegments(user string) string {
	g := ParseGlossary(user)
	segs := ParseSegments(user)
	for i := range segs {
		segs[i].Text = TranslateWithGlossary(segs[i].Text, g)
	}
	return FormatSegments(segs)
}

// AnswerSegments is the segments of the fake model's answer to a
// translation request whose user message is user under the segment faults
// of f (the quiet damages included): [TranslateSegments] when f has none.
func AnswerSegments(user string, f Fault) string {
	return FormatSegments(breakSegments(ParseSegments(user), ParseGlossary(user), f))
}

// glossaryRE matches the glossary line of a translation request:
// "Glossary: 马斯克 = Musk; 奥尔特曼 = Altman".
var glossaryRE = regexp.MustCompile(`(?m)^Glossary: (.*)$`)

// ParseGlossary returns the entries of the "Glossary: A = B; C = D" line of
// a translation request's user message, source term -> target, or nil when
// there is none. Only the context before the first segment is read: a
// segment's own text saying "Glossary:" is data, not a glossary.
func ParseGlossary(user string) map[string]string {
	if i := strings.Index(user, "<seg "); i >= 0 {
		user = user[:i]
	}
	m := glossaryRE.FindStringSubmatch(user)
	if m == nil {
		return nil
	}
	g := map[string]string{}
	for _, e := range strings.Split(m[1], "; ") {
		src, tgt, ok := strings.Cut(e, " = ")
		if src, tgt = strings.TrimSpace(src), strings.TrimSpace(tgt); ok && src != "" && tgt != "" {
			g[src] = tgt
		}
	}
	return g
}

// TranslateWithGlossary is [Translate] of text after every occurrence of a
// source term of g has been replaced by its target, so that a target
// without CJK letters (ASCII, Latin) appears as it is in the answer, once
// per occurrence of its source. Occurrences do not overlap and longer
// sources win, as package glossary's In finds them: sources are tried
// longest first (ties in byte order), and an occurrence overlapping one
// already taken is skipped. With an empty g it is Translate(text).
func TranslateWithGlossary(text string, g map[string]string) string {
	return Translate(applyGlossary(text, g))
}

// applyGlossary replaces the glossary's source terms in text by their
// targets.
func applyGlossary(text string, g map[string]string) string {
	if len(g) == 0 {
		return text
	}
	srcs := make([]string, 0, len(g))
	for s := range g {
		if s != "" && strings.Contains(text, s) {
			srcs = append(srcs, s)
		}
	}
	slices.SortFunc(srcs, func(a, b string) int {
		if d := utf8.RuneCountInString(b) - utf8.RuneCountInString(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	type span struct {
		start, end int
		target     string
	}
	var taken []span
	for _, s := range srcs {
		for off := 0; ; {
			i := strings.Index(text[off:], s)
			if i < 0 {
				break
			}
			st, end := off+i, off+i+len(s)
			if !slices.ContainsFunc(taken, func(t span) bool { return st < t.end && t.start < end }) {
				taken = append(taken, span{st, end, g[s]})
			}
			off = end
		}
	}
	slices.SortFunc(taken, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	last := 0
	for _, t := range taken {
		b.WriteString(text[last:t.start])
		b.WriteString(t.target)
		last = t.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// syllable tables: a Han (or kana, hangul) rune r becomes
// onsets[r%len(onsets)] + nuclei[(r/len(onsets))%len(nuclei)].
var (
	onsets = []string{"b", "ch", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "sh", "t", "v", "w", "y", "z"}
	nuclei = []string{"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "an", "en", "in", "on", "ar", "er", "or"}
)

// punct maps CJK and full-width punctuation to ASCII.
var punct = map[rune]string{
	'，': ",", '。': ".", '：': ":", '；': ";", '！': "!", '？': "?", '、': ",",
	'“': `"`, '”': `"`, '‘': "'", '’': "'", '「': `"`, '」': `"`, '『': `"`, '』': `"`,
	'（': "(", '）': ")", '【': "[", '】': "]", '《': `"`, '》': `"`, '〈': `"`, '〉': `"`,
	'〔': "(", '〕': ")", '～': "~", '　': " ", '・': "-", '￥': "¥",
}

func isCJKLetter(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo)
}

// isCJKOther reports runes in CJK blocks that are neither letters nor mapped
// punctuation; they are dropped so no CJK character survives.
func isCJKOther(r rune) bool {
	return (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF) || (r >= 0x3200 && r <= 0x33FF)
}

// Translate is the fake model's "translation": a pure, deterministic function
// that turns Chinese into English-looking text with no CJK characters left.
//
//   - Each run of Han (also kana, hangul) characters becomes pseudo-English
//     words: every rune maps by code point to a syllable from a fixed table,
//     two runes per word, words separated by spaces. A word that starts a
//     sentence is capitalized. A space separates the words from adjacent
//     letters and digits.
//   - Chinese and full-width punctuation becomes ASCII (，->, 。->. ：->:
//     “”->" （）->() 、->, ！->! ？->? ；->; a run of … -> ..., full-width
//     letters and digits -> ASCII); other CJK symbols are dropped.
//   - Everything else (ASCII, digits, markdown such as **bold**, [text](url),
//     `code`, line breaks) is unchanged.
func Translate(text string) string {
	var b strings.Builder
	b.Grow(len(text) * 2)
	rs := []rune(text)
	opens, closes := markers(rs)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isCJKLetter(r):
			j := i
			for j < len(rs) && isCJKLetter(rs[j]) {
				j++
			}
			writeWords(&b, rs[i:j], i > 0 && closes[i-1])
			if j < len(rs) && (isWordRune(rs[j]) || opens[j] || strings.ContainsRune("[(（", rs[j])) {
				b.WriteByte(' ')
			}
			i = j
		case r == '…':
			for i < len(rs) && rs[i] == '…' {
				i++
			}
			b.WriteString("...")
			spaceBeforeLetter(&b, rs, i)
		case punct[r] != "":
			s := punct[r]
			b.WriteString(s)
			i++
			if strings.ContainsAny(s, ",.:;!?") {
				spaceBeforeLetter(&b, rs, i)
			}
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			b.WriteRune(r - 0xFEE0)
			i++
		case isCJKOther(r):
			i++
		default:
			b.WriteRune(r)
			i++
		}
	}
	return b.String()
}

// isWordRune reports a non-CJK letter or digit.
func isWordRune(r rune) bool {
	return !isCJKLetter(r) && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// markers finds markdown emphasis and code markers (runs of *, _ or `),
// pairing them in order per run text: opens[i] is set at the first rune of
// an opening run, closes[i] at the last rune of a closing run. Words next to
// them get spaces on the outside only, so "**粗体**和" keeps its bold intact.
func markers(rs []rune) (opens, closes []bool) {
	opens, closes = make([]bool, len(rs)), make([]bool, len(rs))
	open := map[string]bool{}
	for i := 0; i < len(rs); {
		if !strings.ContainsRune("*_`", rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		k := string(rs[i:j])
		if open[k] {
			closes[j-1] = true
		} else {
			opens[i] = true
		}
		open[k] = !open[k]
		i = j
	}
	return opens, closes
}

// spaceBeforeLetter adds a space after converted punctuation when a letter
// or digit follows directly, as English spacing wants.
func spaceBeforeLetter(b *strings.Builder, rs []rune, i int) {
	if i < len(rs) && isWordRune(rs[i]) {
		b.WriteByte(' ')
	}
}

// writeWords writes a run of CJK letters as pseudo-English words;
// afterClose tells that the run follows a closing emphasis marker.
func writeWords(b *strings.Builder, run []rune, afterClose bool) {
	for k := 0; k < len(run); k += 2 {
		if needSpace(lastRune(b.String())) || (k == 0 && afterClose) {
			b.WriteByte(' ')
		}
		var w strings.Builder
		for _, r := range run[k:min(k+2, len(run))] {
			w.WriteString(onsets[int(r)%len(onsets)])
			w.WriteString(nuclei[(int(r)/len(onsets))%len(nuclei)])
		}
		word := w.String()
		if startsSentence(b.String()) {
			word = strings.ToUpper(word[:1]) + word[1:]
		}
		b.WriteString(word)
	}
}

// needSpace reports whether a word written after prev needs a space first.
func needSpace(prev rune) bool {
	if prev == 0 {
		return false
	}
	return unicode.IsLetter(prev) || unicode.IsDigit(prev) || strings.ContainsRune(",.:;!?)", prev)
}

// startsSentence reports whether a word written after s starts a sentence.
func startsSentence(s string) bool {
	t := strings.TrimRight(s, " \t")
	if t == "" || strings.HasSuffix(t, "\n") {
		return true
	}
	r := lastRune(t)
	return r == '.' || r == '!' || r == '?'
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	if r == utf8.RuneError {
		return 0
	}
	return r
}

// Summarize is the fake model's answer to a summary request whose user
// message is user. It depends only on the article's title (the message's
// "Title: " line), so that every route to a summary (with the translation,
// from chunk notes, from the English text, map-reduce) gives the same one,
// and outputs can be compared across runs:
//
//	TL;DR: <Translate of the title's first 60 runes, as one sentence>
//	- First point on <the same>
//	- Second point on <the same>
//	- Third point on <the same>
//
// Without a title line it summarises "an untitled article".
// (ToUpper of the first byte is enough: subject is ASCII after Translate.)
func Summarize(user string) string {
	subject := "an untitled article"
	if m := titleRE.FindStringSubmatch(user); m != nil {
		subject = strings.TrimSuffix(sentence(m[1], 60), ".")
	}
	var b strings.Builder
	b.WriteString("TL;DR: " + strings.ToUpper(subject[:1]) + subject[1:] + ".")
	for _, nth := range []string{"First", "Second", "Third"} {
		b.WriteString("\n- " + nth + " point on " + subject + ".")
	}
	return b.String()
}

var titleRE = regexp.MustCompile(`(?m)^Title: (.*\S)`)

// sentence translates the first n runes of s into one line ending in a
// period.
func sentence(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		s = string(rs[:n])
	}
	t := strings.Join(strings.Fields(Translate(s)), " ")
	t = strings.TrimRight(t, ",.:;!?-\"' ")
	if t == "" {
		return "The article is empty."
	}
	return t + "."
}

// otherReply is the fake model's answer to anything else.
func otherReply(user string) string {
	if rs := []rune(user); len(rs) > 40 {
		user = string(rs[:40])
	}
	return "This is a fake reply to: " + strings.Join(strings.Fields(Translate(user)), " ")
}
