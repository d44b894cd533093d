package article

import (
	"regexp"
	"strings"
	"unicode"
)

// Inline markdown is built with sentinel runes that are resolved once a
// paragraph is complete (see finishInline): whitespace and breaks can only
// be collapsed, and emphasis delimiters only be placed, when the whole
// paragraph is known. The sentinels are Unicode noncharacters, which are
// stripped from input text so they can never collide with content.
const (
	sSoft = '\uFDD0' // collapsed whitespace that held a line break
	sHB   = '\uFDD1' // hard line break (<br>)
	sBO   = '\uFDD2' // bold open
	sBC   = '\uFDD3' // bold close
	sEO   = '\uFDD4' // emphasis open
	sEC   = '\uFDD5' // emphasis close
	sSO   = '\uFDD6' // strikethrough open
	sSC   = '\uFDD7' // strikethrough close
)

func isSentinel(r rune) bool { return r >= sSoft && r <= sSC }

func isDelim(r rune) bool { return r >= sBO && r <= sSC }

// isZeroWidth reports invisible characters that carry no text on their
// own. Zero-width joiners are kept inside text (emoji sequences) but do not
// make a paragraph non-empty.
func isZeroWidth(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return false
}

// dropped are removed from text outright.
func dropped(r rune) bool {
	switch r {
	case 0, '\u200B', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return isSentinel(r)
}

// isCollapsible reports whitespace that HTML collapses. Non-breaking and
// typographic spaces are included: scraped articles use &nbsp; for
// indentation and spacing, never for meaning. The ideographic space U+3000
// is kept as text (it is trimmed at paragraph edges only).
func isCollapsible(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', '\u00A0', '\u202F', '\u205F':
		return true
	}
	return r >= '\u2000' && r <= '\u200A'
}

// isCJK reports characters between which a line break in the source is
// not a space (CSS Text 3 segment break transformation).
func isCJK(r rune) bool {
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo):
		return true
	case r >= 0x3000 && r <= 0x303F, r >= 0xFF00 && r <= 0xFFEF, r >= 0xFE30 && r <= 0xFE4F:
		return true
	}
	return false
}

// bareURL finds URLs in text; autolinkable ones become <URL> so that
// they stay clickable and need no escaping.
var bareURL = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+`)

// textMD turns a run of source text into escaped inline markdown with
// whitespace collapsed to single spaces (sSoft where the run held a line
// break). In table cells "|" is escaped too. With autolink, bare http(s)
// URLs become autolinks.
func textMD(s string, cell, autolink bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	inSpace, sawNL := false, false
	flush := func() {
		if inSpace {
			if sawNL {
				b.WriteRune(sSoft)
			} else {
				b.WriteByte(' ')
			}
		}
		inSpace, sawNL = false, false
	}
	text := func(s string) {
		for _, r := range s {
			if dropped(r) {
				continue
			}
			if isCollapsible(r) {
				inSpace = true
				if r == '\n' || r == '\r' {
					sawNL = true
				}
				continue
			}
			flush()
			switch r {
			case '\\', '*', '_', '[', ']', '`', '<':
				b.WriteByte('\\')
			case '|':
				if cell {
					b.WriteByte('\\')
				}
			}
			b.WriteRune(r)
		}
	}
	if autolink {
		for {
			m := bareURL.FindStringIndex(s)
			if m == nil {
				break
			}
			u := trimURL(s[m[0]:m[1]])
			text(s[:m[0]])
			flush()
			b.WriteString("<" + u + ">")
			s = s[m[0]+len(u):]
		}
	}
	text(s)
	flush()
	return b.String()
}

// trimURL drops trailing punctuation that ends the sentence, not the URL,
// and a closing parenthesis without an opening one.
func trimURL(u string) string {
	for len(u) > 0 {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,:;!?'\"*", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// escapeText escapes markdown in plain text with whitespace collapsed and
// line breaks resolved as in HTML; it returns the finished inline markdown.
func escapeText(s string) string {
	return finishInline(textMD(s, false, true), true)
}

func isEdgeSpace(r rune) bool {
	return r == ' ' || r == sSoft || r == sHB || isZeroWidth(r)
}

// wrapDelims surrounds inner with open/close sentinels, keeping leading
// and trailing whitespace and breaks outside the delimiters so that the
// emphasis is valid markdown. Whitespace-only content gets no delimiters.
// A paragraph split (two breaks) inside the span closes and reopens it.
func wrapDelims(inner string, open, closer rune) string {
	rs := []rune(inner)
	i, j := 0, len(rs)
	for i < j && isEdgeSpace(rs[i]) {
		i++
	}
	for j > i && isEdgeSpace(rs[j-1]) {
		j--
	}
	if i == j {
		return inner
	}
	var b strings.Builder
	b.WriteString(string(rs[:i]))
	parts := splitDoubleBreak(rs[i:j])
	for k, p := range parts {
		if k > 0 {
			b.WriteRune(sHB)
			b.WriteRune(sHB)
		}
		if isBlankRunes(p) {
			continue
		}
		b.WriteRune(open)
		b.WriteString(string(p))
		b.WriteRune(closer)
	}
	b.WriteString(string(rs[j:]))
	return b.String()
}

// splitDoubleBreak splits at two hard breaks separated by nothing but
// whitespace: the "<br><br>" paragraph break of scraped pages.
func splitDoubleBreak(rs []rune) [][]rune {
	var parts [][]rune
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] != sHB {
			continue
		}
		k := i + 1
		for k < len(rs) && (rs[k] == ' ' || rs[k] == sSoft || isZeroWidth(rs[k])) {
			k++
		}
		if k < len(rs) && rs[k] == sHB {
			parts = append(parts, rs[start:i])
			// Swallow any further breaks of the same run.
			for k+1 < len(rs) && (rs[k+1] == sHB || rs[k+1] == ' ' || rs[k+1] == sSoft) {
				k++
			}
			start = k + 1
			i = k
		}
	}
	return append(parts, rs[start:])
}

func isBlankRunes(rs []rune) bool {
	for _, r := range rs {
		if !(unicode.IsSpace(r) || isZeroWidth(r) || isSentinel(r)) {
			return false
		}
	}
	return true
}

func isBlank(s string) bool { return isBlankRunes([]rune(s)) }

// finishParagraphs resolves the sentinels of one paragraph's inline
// markdown and splits it at double breaks. Blank parts are dropped.
func finishParagraphs(s string) []string {
	var out []string
	for _, p := range splitDoubleBreak([]rune(s)) {
		if t := finishRunes(p, false); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// finishInline resolves the sentinels of s into one line of markdown;
// with breaksAsSpace, hard breaks become spaces (headings, table cells).
func finishInline(s string, breaksAsSpace bool) string {
	return finishRunes([]rune(s), breaksAsSpace)
}

func finishRunes(in []rune, breaksAsSpace bool) string {
	// Merge "**a****b**" into "**ab**" and drop empty spans.
	rs := make([]rune, 0, len(in))
	for _, r := range in {
		if n := len(rs); n > 0 && isDelim(r) {
			last := rs[n-1]
			if (last == sBC && r == sBO) || (last == sEC && r == sEO) || (last == sSC && r == sSO) ||
				(last == sBO && r == sBC) || (last == sEO && r == sEC) || (last == sSO && r == sSC) {
				rs = rs[:n-1]
				continue
			}
		}
		if breaksAsSpace && r == sHB {
			r = ' '
		}
		rs = append(rs, r)
	}
	// A line break in the source is no space between CJK characters.
	for i, r := range rs {
		if r != sSoft {
			continue
		}
		prev, next := neighbour(rs, i, -1), neighbour(rs, i, 1)
		if isCJK(prev) && isCJK(next) {
			rs[i] = 0
		} else {
			rs[i] = ' '
		}
	}
	// Collapse spaces, drop spaces around hard breaks, trim.
	out := make([]rune, 0, len(rs))
	for _, r := range rs {
		switch r {
		case 0:
			continue
		case ' ':
			if n := len(out); n == 0 || out[n-1] == ' ' || out[n-1] == sHB {
				continue
			}
		case sHB:
			for len(out) > 0 && out[len(out)-1] == ' ' {
				out = out[:len(out)-1]
			}
			if len(out) == 0 || out[len(out)-1] == sHB {
				continue
			}
		}
		out = append(out, r)
	}
	for len(out) > 0 && (out[len(out)-1] == ' ' || out[len(out)-1] == sHB) {
		out = out[:len(out)-1]
	}
	if isBlankRunes(out) {
		return ""
	}
	out = fixFlanking(out)
	var b strings.Builder
	for _, r := range out {
		switch r {
		case sBO, sBC:
			b.WriteString("**")
		case sEO, sEC:
			b.WriteString("*")
		case sSO, sSC:
			b.WriteString("~~")
		case sHB:
			b.WriteString("\\\n")
		default:
			b.WriteRune(r)
		}
	}
	text := strings.TrimFunc(b.String(), func(r rune) bool { return unicode.IsSpace(r) || isZeroWidth(r) })
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = escapeLineStart(l)
	}
	return strings.Join(lines, "\n")
}

// fixFlanking moves CJK punctuation out of emphasis where CommonMark
// would not see the delimiter as opening or closing: "的**“引语”**。"
// renders literally, "的“**引语**”。" renders bold.
func fixFlanking(rs []rune) []rune {
	mdPunct := func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }
	word := func(r rune) bool { return !unicode.IsSpace(r) && !mdPunct(r) && !isSentinel(r) }
	movable := func(r rune) bool { return r > 0x7F && unicode.IsPunct(r) }
	for i := 1; i+1 < len(rs); i++ {
		switch rs[i] {
		case sBO, sEO, sSO:
			if movable(rs[i+1]) && word(rs[i-1]) {
				rs[i], rs[i+1] = rs[i+1], rs[i]
				i++
			}
		}
	}
	for i := len(rs) - 2; i >= 1; i-- {
		switch rs[i] {
		case sBC, sEC, sSC:
			if movable(rs[i-1]) && word(rs[i+1]) {
				rs[i-1], rs[i] = rs[i], rs[i-1]
				i--
			}
		}
	}
	// Drop spans emptied by the moves.
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && ((out[n-1] == sBO && r == sBC) || (out[n-1] == sEO && r == sEC) || (out[n-1] == sSO && r == sSC)) {
			out = out[:n-1]
			continue
		}
		out = append(out, r)
	}
	return out
}

// neighbour returns the nearest rune before (dir -1) or after (dir 1)
// position i that is not whitespace or a delimiter, or 0.
func neighbour(rs []rune, i, dir int) rune {
	for k := i + dir; k >= 0 && k < len(rs); k += dir {
		r := rs[k]
		if r == ' ' || r == sSoft || r == 0 || isDelim(r) {
			continue
		}
		if r == sHB {
			return 0
		}
		return r
	}
	return 0
}

// escapeLineStart escapes what would start a block construct (heading,
// quote, list item, setext underline, fence) at the beginning of a line.
func escapeLineStart(l string) string {
	if l == "" {
		return l
	}
	switch l[0] {
	case '#', '>':
		return "\\" + l
	case '-', '+', '=', '~':
		if len(l) == 1 || l[1] == ' ' || l[1] == '\t' || strings.Trim(l, l[:1]) == "" ||
			(l[0] == '~' && strings.HasPrefix(l, "~~~")) {
			return "\\" + l
		}
		return l
	}
	// "1. " and "1) " start ordered list items.
	i := 0
	for i < len(l) && i < 10 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t') {
		return l[:i] + "\\" + l[i:]
	}
	return l
}

// codeSpan renders s as a markdown code span.
func codeSpan(s string) string {
	code := collapse(s)
	if code == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range code {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(code, "`") || strings.HasSuffix(code, "`") {
		code = " " + code + " "
	}
	return fence + code + fence
}

// CodeSpan reads the code span that a run of backticks opens at s[i]
// (CommonMark: up to the next run of exactly as many backticks). It returns
// the index just past the span and true, or, when no run closes it (the
// backticks are then literal text), the index just past the opening run and
// false. The caller checks that the run is not backslash-escaped.
func CodeSpan(s string, i int) (end int, ok bool) {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	for j := i + n; j < len(s); {
		if s[j] != '`' {
			j++
			continue
		}
		k := j
		for k < len(s) && s[k] == '`' {
			k++
		}
		if k-j == n {
			return k, true
		}
		j = k
	}
	return i + n, false
}
