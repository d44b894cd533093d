package translate

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/lang"
)

// The validator judges each answer as a translation of its segment, not only
// as a well-formed answer. A model that fails quietly keeps the <seg> tags
// right and gets one segment's text wrong: it echoes the source, stops after
// the first sentence or word, opens a tag twice, obeys an instruction inside
// the article, or joins the lines of a segment. Every check below is named in
// the reason it gives, and every threshold is listed here with where it
// comes from.
//
// # Measures
//
// Han is the count of CJK letters (Han, kana, hangul) in the source outside
// code spans; other is the count of the other letters, digits and combining
// marks of the source, code spans included (they are kept as they are). The
// answer's letters are all its letters, digits and marks. A language's rate
// is the typical number of answer letters per source Han character: English
// 3.0; a language of the table in lang.go has 3.0 times its length relative
// to English; Japanese, Korean and Chinese count their own characters.
//
// Sources of the rates:
//
//   - English, 3.0 letters per Han character. Translation agencies quote 600
//     to 700 English words per 1,000 Chinese characters (Tianheng
//     Consulting, "Chinese Character Count vs. English Word Count"; AnyCount
//     and KantanMT give 1,300 to 1,800 characters per 1,000 words), and
//     English prose averages 4.7 to 4.8 letters a word: 2.8 to 3.4 letters
//     per character. The official Chinese and English texts of the Universal
//     Declaration of Human Rights (UDHR) give 3.57 (8,424 letters, 2,361
//     Han). The 163 human translations of testdata/pairs/zh-en.tsv give a
//     median of 2.75 to 3.3 by segment size. 3.0 is the middle of these.
//   - Other languages: the UDHR's official or published translations (the
//     Unicode UDHR collection), letters relative to the English text:
//     German 1.16, French 1.11, Spanish 1.12, Portuguese 1.07, Italian 1.14,
//     Dutch 1.22, Polish 1.08, Turkish 1.01, Indonesian 1.23, Russian 1.14,
//     Ukrainian 1.02, Greek 1.19, Arabic 0.70, Hebrew 0.66, Hindi 0.98,
//     Thai 1.04, Japanese 0.44 (kanji and kana), Korean 0.39 (hangul).
//     Chinese targets keep one character per character: 1.0. Vietnamese
//     (not measured) and languages outside the table are judged leniently
//     (rate 3.0, floors at a fifth).
//
// # Checks
//
//   - Length, for every segment. The answer has at least
//     rate·(0.5·Han − 2) + 0.5·other letters: half the typical rate, less an
//     allowance of two characters' worth, so that a terse answer to a short
//     segment ("你用跑的。" as "Run.") passes. For English that is 1.5
//     letters per character; human translations go down to 1.75 (segments
//     of 8 or more characters in testdata/pairs; 0.75 for the four
//     characters of "你用跑的"), and the closest pair is 1.24 times its
//     floor. When the answer has fewer sentences than its source (below),
//     the floor rises to rate·(0.7·Han − 1) + 0.5·other, 2.1 English
//     letters per character: a sentence cut off leaves a short answer. One
//     human pair of the 163 has fewer sentences than its source (2 for 3),
//     at 2.97 letters per character. At most
//     rate·(2.7·Han + 8) + 2·other letters: 8.1 English letters per
//     character and 24 more, above the 7.3 of the shortest pairs and the
//     4.8 of the longer ones.
//   - Sentence coverage. A source's sentences end in 。！？, in ! ? after a
//     CJK character, or in . ! ? before a space; an answer's in . ! ?
//     (also 。！？ in Chinese and Japanese, ؟ in Arabic, । in Hindi) before
//     more text, after a space or glued to a capital, a digit or a quote;
//     code spans aside. A source of three or more sentences (of four or
//     more characters on average: "好。走吧。快点！" may well become "OK,
//     let's go, hurry!") answered with fewer than half as many is suspect:
//     the human pairs have as many sentences in English or more, but for
//     one (a long Chinese sentence is split, two are seldom merged). Not
//     judged for Thai and for languages outside the table, which end
//     sentences otherwise.
//   - Retained source, for targets written without Han (all but Chinese and
//     Japanese, which keep Han characters by design). Han characters of the
//     answer that copy the source in runs of two or more (one, for a source
//     of one) are retained. An answer equal to its source, or retaining
//     half of the source's Han characters (at least two), echoes it,
//     whatever the Latin around them ("打开网站www.topscinet.com" answered
//     as itself); one retaining a run of four or more keeps part of it
//     untranslated. Not counted: code spans, the glossary targets of the
//     segment's terms, and runs inside parentheses the source does not have
//     around them, where translations give a name's original ("Xi Jinping
//     (习近平)", Korean hanja). Latin text of the source (names it quotes,
//     URLs, code) is kept by design and never counted.
//   - Markup. An answer holding more of the prompt's markup (<seg, </seg,
//     <summary, <note, <article, <notes, <summaries, <think, and their
//     closing tags, in any case) than its source is suspect: an echo of the
//     request, or a tag opened twice (<seg id="3">T\n<seg id="3">T</seg>).
//     Summaries and notes may hold none of it, nor the request's context
//     labels (summarize.EchoesPrompt).
//   - Line structure. A segment's lines (hard breaks) are kept: an answer
//     with another number of lines than its source (leading and trailing
//     line breaks aside) merged or split them.
//   - Identical answers, per request (see judgeAnswer). One answer given to
//     sources that clearly differ is suspect: their letters and digits,
//     lower-cased and full-width folded, differ in half or more of the
//     longer one's characters (edit distance), the longer having six or
//     more. "图1" and "图 1" both "Figure 1" is not suspect, nor "等等" and
//     "等一下" both "Wait!" (testdata/pairs); "HELLO" for a paragraph and
//     for its heading is.
//
// The length and sentence checks hold the same for the fake model's
// pseudo-English (internal/fakeopenai): 2.8 letters per character like
// real English, one sentence per source sentence; over the whole corpus its
// answers are 1.80 times their floor at the closest.
//
// What the checks cannot see: a one-word or one-sentence answer to a
// segment of a few characters (it can be the whole right answer), a second
// sentence of a two-sentence paragraph dropped when it is short, an answer
// of the right size that says something else.
//
// A suspect answer is never accepted or cached; the segment is asked again
// (see translatePieces), unless Options.AcceptSuspect takes the last
// suspect answer with a warning.

// measure is what the checks count in a text.
type measure struct {
	han   int // CJK letters outside code spans
	other int // other letters, digits and marks; code spans wholly
}

// isCJKLetter reports Han, kana and hangul.
func isCJKLetter(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// isLetterLike reports what a length counts: letters, digits and marks.
func isLetterLike(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// splitCode returns s with its code spans (between runs of backticks) cut out, and the
// spans' contents.
func splitCode(s string) (prose, code string) {
	if !strings.Contains(s, "`") {
		return s, ""
	}
	var p, c strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			p.WriteString(s)
			break
		}
		p.WriteString(s[:i])
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		fence := s[i : i+n]
		end := strings.Index(s[i+n:], fence)
		if end < 0 { // unclosed: the backticks are text
			p.WriteString(fence)
			s = s[i+n:]
			continue
		}
		c.WriteString(s[i+n : i+n+end])
		c.WriteByte(' ')
		p.WriteByte(' ')
		s = s[i+n+end+n:]
	}
	return p.String(), c.String()
}

// measureSource counts a (masked) source segment.
func measureSource(src string) measure {
	prose, code := splitCode(src)
	var m measure
	for _, r := range prose {
		switch {
		case isCJKLetter(r):
			m.han++
		case isLetterLike(r):
			m.other++
		}
	}
	for _, r := range code {
		if isLetterLike(r) {
			m.other++
		}
	}
	return m
}

// letterCount counts the letters, digits and marks of an answer.
func letterCount(s string) int {
	n := 0
	for _, r := range s {
		if isLetterLike(r) {
			n++
		}
	}
	return n
}

// Length thresholds, in multiples of the language's rate (see the comment at
// the top of the file).
const (
	floorPerHan     = 0.5 // the floor: half the typical rate
	floorAllowance  = 2   // Han characters' worth the floor forgives
	lossPerHan      = 0.7 // the floor when sentences are missing
	lossAllowance   = 1
	otherFloor      = 0.5 // share of the source's other letters the answer keeps at least
	ceilingPerHan   = 2.7
	ceilingAllow    = 8
	otherCeiling    = 2.0
	defaultRate     = 3.0 // English; for languages without a rate
	lenientFloorCut = 0.2 // floors for languages without a rate are scaled by this
)

// lengthBounds returns the least and most letters a translation into l of a
// source measured m should have; lost tells that the answer has fewer
// sentences than the source.
func lengthBounds(l lang.Language, m measure, lost bool) (lo, hi float64) {
	rate, cut := l.Rate, 1.0
	if rate == 0 {
		rate, cut = defaultRate, lenientFloorCut
	}
	h := float64(m.han)
	lo = rate * (floorPerHan*h - floorAllowance)
	if lost {
		lo = rate * (lossPerHan*h - lossAllowance)
	}
	lo = cut * (lo + otherFloor*float64(m.other))
	hi = rate*(ceilingPerHan*h+ceilingAllow) + otherCeiling*float64(m.other)
	if cut < 1 {
		hi *= 2
	}
	return lo, hi
}

// sentenceEnders are the answer's sentence ends by language; "" turns the
// sentence check off.
func sentenceEnders(l lang.Language) string {
	switch {
	case l.Rate == 0 || l.Name == "Thai":
		return ""
	case l.Script == lang.ScriptHans || l.Script == lang.ScriptHant || l.Script == lang.ScriptJapanese:
		return "。！？!?"
	case l.Name == "Arabic":
		return ".!?؟"
	case l.Name == "Hindi":
		return ".!?।"
	}
	return ".!?"
}

// closers may follow a sentence end before the space.
const closers = "\"'”’」』）)]】》*_"

// sourceSentences counts the sentences of a source segment: ends in 。！？,
// in ! ? after a CJK letter, or in . ! ? followed by a space, with text
// after them, plus one.
func sourceSentences(src string) int {
	prose, _ := splitCode(src)
	rs := []rune(strings.TrimSpace(prose))
	n := 0
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		end := strings.ContainsRune("。！？", r) ||
			(strings.ContainsRune("!?", r) && i > 0 && isCJKLetter(rs[i-1])) ||
			(strings.ContainsRune(".!?", r) && i+1 < len(rs) && rs[i+1] == ' ' && i > 0 && !isCJKLetter(rs[i-1]) && unicode.IsLetter(rs[i-1]))
		if !end {
			continue
		}
		j := i + 1
		for j < len(rs) && (strings.ContainsRune("。！？!?", rs[j]) || strings.ContainsRune(closers, rs[j])) {
			j++
		}
		if hasText(rs[j:]) {
			n++
		}
		i = j - 1
	}
	return n + 1
}

// answerSentences counts the sentences of an answer in l: ends from enders
// followed by closers, a space (for spaced languages) and more text.
func answerSentences(out, enders string, spaced bool) int {
	prose, _ := splitCode(out)
	rs := []rune(strings.TrimSpace(prose))
	n := 0
	for i := 0; i < len(rs); i++ {
		if !strings.ContainsRune(enders, rs[i]) {
			continue
		}
		j := i + 1
		for j < len(rs) && (strings.ContainsRune(enders, rs[j]) || strings.ContainsRune(closers, rs[j])) {
			j++
		}
		// Spaced languages put a space after a sentence. One glued to the
		// next (`."Next`, `.- Next`: a model's slip) counts after a
		// closing quote or bracket, or before anything but a small letter
		// or a digit ("e.g.", "3.5" are no ends).
		if spaced && j < len(rs) && !unicode.IsSpace(rs[j]) && j == i+1 && (unicode.IsLower(rs[j]) || unicode.IsDigit(rs[j])) {
			i = j - 1
			continue
		}
		if hasText(rs[j:]) {
			n++
		}
		i = j - 1
	}
	return n + 1
}

func hasText(rs []rune) bool {
	for _, r := range rs {
		if isLetterLike(r) {
			return true
		}
	}
	return false
}

// promptMarkup is the markup of xlate's prompts, lower case.
var promptMarkup = []string{"<seg", "</seg", "<summary", "</summary", "<note", "</note", "<article", "</article", "<summaries", "</summaries", "<think", "</think"}

// markupIn returns the first piece of prompt markup that s has more often
// than src (case-insensitive; a markdown escape before "<" is ignored), or "".
func markupIn(src, s string) string {
	if !strings.Contains(s, "<") {
		return ""
	}
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), `\<`, "<") }
	ls, lsrc := norm(s), norm(src)
	for _, m := range promptMarkup {
		if strings.Count(ls, m) > strings.Count(lsrc, m) {
			return m
		}
	}
	return ""
}

// retained measures how much of the source's Han text out keeps: covered is
// the number of out's Han characters (outside code spans, the glossary
// targets keep, and parentheses the source does not have around them) that
// copy src in runs of two or more (one, for a source of one Han character),
// and longest the longest such run.
func retained(src, out string, keep []string) (covered, longest int) {
	srcProse, _ := splitCode(src)
	outProse, _ := splitCode(out)
	for _, k := range keep {
		if k != "" {
			outProse = strings.ReplaceAll(outProse, k, " ")
		}
	}
	minRun := min(2, measureSource(src).han)
	rs := []rune(outProse)
	depth := 0
	for i := 0; i < len(rs); {
		switch rs[i] {
		case '(', '（':
			depth++
		case ')', '）':
			depth = max(0, depth-1)
		}
		if !unicode.Is(unicode.Han, rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
			j++
		}
		run := rs[i:j]
		i = j
		if depth > 0 && !strings.Contains(srcProse, "("+string(run)) && !strings.Contains(srcProse, "（"+string(run)) {
			continue // an original given in parentheses: "Xi Jinping (习近平)"
		}
		for k := 0; k < len(run); {
			n := 0
			for e := len(run); e >= k+max(minRun, 1); e-- {
				if strings.Contains(srcProse, string(run[k:e])) {
					n = e - k
					break
				}
			}
			if n == 0 {
				k++
				continue
			}
			covered += n
			longest = max(longest, n)
			k += n
		}
	}
	return covered, longest
}

// checksRetained reports whether the retained-source check applies: targets
// written without Han, whose rate the table knows.
func checksRetained(l lang.Language) bool {
	return (l.Script == lang.ScriptOther || l.Script == lang.ScriptKorean) && l.Rate > 0
}

// implausible returns why out is not a plausible translation of the masked
// source src into l, or "": the checks described at the top of the file,
// except identical answers, which need the whole request. keep lists the
// glossary targets of the segment's terms.
func implausible(l lang.Language, src, out string, keep []string) string {
	if m := markupIn(src, out); m != "" {
		return fmt.Sprintf("answer holds the prompt markup %q", m)
	}
	if ls, lo := strings.Count(strings.TrimSpace(src), "\n"), strings.Count(strings.TrimSpace(out), "\n"); ls != lo {
		return fmt.Sprintf("answer has %d lines, the source %d", lo+1, ls+1)
	}
	m := measureSource(src)
	if checksRetained(l) && m.han > 0 {
		covered, longest := retained(src, out, keep)
		switch {
		case strings.TrimSpace(out) == strings.TrimSpace(src):
			return "answer is the source as it was"
		case covered >= min(2, m.han) && 2*covered >= m.han:
			return fmt.Sprintf("answer echoes the source (%d of its %d Chinese characters)", covered, m.han)
		case longest >= 4:
			return fmt.Sprintf("answer keeps %d consecutive Chinese characters of the source", longest)
		}
	}
	lost := false
	if enders := sentenceEnders(l); enders != "" {
		ns, no := sourceSentences(src), answerSentences(out, enders, l.Spaced)
		if ns >= 3 && 2*no < ns && m.han >= 4*ns {
			return fmt.Sprintf("answer has %d sentences for the source's %d", no, ns)
		}
		lost = no < ns
	}
	lo, hi := lengthBounds(l, m, lost)
	switch n := float64(letterCount(out)); {
	case n < lo && lost:
		return fmt.Sprintf("answer too short (%.0f letters, at least %.0f for %d Chinese characters, and fewer sentences)", n, lo, m.han)
	case n < lo:
		return fmt.Sprintf("answer too short (%.0f letters, at least %.0f for %d Chinese characters)", n, lo, m.han)
	case n > hi:
		return fmt.Sprintf("answer too long (%.0f letters, at most %.0f for %d Chinese characters)", n, hi, m.han)
	}
	return ""
}

// glossaryTargets returns the targets of the glossary terms src has.
func glossaryTargets(g glossary.Glossary, src string) []string {
	var out []string
	for _, e := range g.In(src) {
		out = append(out, e.Target)
	}
	return out
}

// sameAnswers returns the indexes (into texts) of answers that are the same
// for sources that clearly differ (see the comment at the top of the file),
// with a reason for each.
func sameAnswers(texts []string, answers map[int]string) map[int]string {
	groups := map[string][]int{}
	for i, s := range answers {
		k := strings.ToLower(strings.Join(strings.Fields(s), " "))
		groups[k] = append(groups[k], i)
	}
	bad := map[int]string{}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		norms := make([][]rune, len(g))
		for k, i := range g {
			norms[k] = normalized(texts[i])
		}
		differ := false
		for a := 0; a < len(g) && !differ; a++ {
			for b := a + 1; b < len(g) && !differ; b++ {
				differ = clearlyDiffer(norms[a], norms[b])
			}
		}
		if !differ {
			continue
		}
		for _, i := range g {
			bad[i] = fmt.Sprintf("segment %d has the same answer as %d other segments with other sources", i+1, len(g)-1)
		}
	}
	return bad
}

// normalized keeps the letters and digits of s, lower-cased, full-width forms
// folded.
func normalized(s string) []rune {
	var out []rune
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToLower(r))
		}
	}
	return out
}

// clearlyDiffer reports two normalized sources that differ in half or more
// of the longer one's characters, the longer having six or more.
func clearlyDiffer(a, b []rune) bool {
	n := max(len(a), len(b))
	return n >= 6 && 2*editDistance(a, b) >= n
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
