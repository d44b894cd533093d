package render

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/xlate/xlate/article"
)

// Reading back
//
// Read is the inverse of Markdown: given the article that an output file
// was rendered from, it walks the file line by line along the structure
// that Markdown gives that article, compares every line that Markdown
// writes from the original (original text, markers, indents, quote
// prefixes, fences, code, links) and collects the lines where it writes a
// translation (the slots). A slot's lines are turned back into text by
// undoing the renderer's escapes (see unrender), and each result is checked
// by rendering it again.
//
// Blank lines, trailing white space, CRLF line ends and the final newline
// do not count; nor does anything in the front matter.

// Slots are the texts an output file shows where Markdown puts translated
// text.
type Slots struct {
	// Title is the front matter's "title" value ("" if absent).
	Title string
	// Segments has one entry per segment of
	// Document.Article.Segments(layout == English), in order: the
	// translation the file shows for that segment, as Read returns
	// translations (see Canon and CanonSlots), or "" when the file shows
	// none (bilingual: no quote after the original; English: the original
	// shown as it is).
	Segments []string
	// TLDR is the body's "**TL;DR:** ..." text, "" if the file has no
	// summary section; Points are the summary's key points.
	TLDR   string
	Points []string
	// Summary and Description are the front matter's "summary" and
	// "description" values as they stand.
	Summary     string
	Description string
	// Meta is the file's front matter as parsed.
	Meta article.FrontMatter
}

// ErrRestructured reports an output file that does not have the structure
// Markdown gives the document's article: an original text changed, a block
// added, removed or moved, a bilingual block with two translations, block
// syntax (a heading, a list, a quote) typed into a translation, a missing
// summary section. Read wraps it with a reason that names the block and
// the file's line.
var ErrRestructured = errors.New("restructured")

// Read reads back an output file f that Markdown rendered from d.Article
// in layout, possibly edited by a person since.
//
// It uses d.Article and the layout to know the file's structure. The
// values of d.Segments, d.TLDR and d.Points locate nothing; they are used
// only where the rendered file alone is ambiguous: in the English layout a
// run of adjacent paragraphs (or of quotes of one depth) where some
// translation holds a blank line can be split among the translations in
// several ways, and the split that d.Segments would give is taken when
// it accounts for every paragraph of the run (else each shows one
// paragraph, or an untranslated original its own). A summary section is
// expected (its absence is ErrRestructured) when d.TLDR is not empty and
// the front matter holds a summary other than the article's own.
//
// Slots.Segments[i] is the translation shown for segment i in the form
// CanonSlots gives (the renderer's escapes undone). For a file as
// Markdown wrote it, d with the read Segments renders the same file byte
// for byte, and with the read TLDR and Points the same body. A
// translation a person typed is read as the text whose rendering shows
// what they see; the renderer may normalise its escaping. In the
// bilingual layout every translation is optional.
//
// The error wraps ErrRestructured when the body does not fit, with a
// reason such as "restructured: paragraph 12's original text differs
// (line 40)"; the Slots then hold the front matter's values and one empty
// string per segment. A front matter that does not decode gives an error
// wrapping article.ErrFrontMatter.
func Read(f []byte, d Document, layout Layout) (Slots, error) {
	if d.Article == nil {
		return Slots{}, errors.New("render: no article")
	}
	if layout != Bilingual && layout != English {
		return Slots{}, fmt.Errorf("render: unknown layout %d", int(layout))
	}
	text := strings.TrimPrefix(string(f), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	fm, body, bodyLine, err := splitOutput(text)
	if err != nil {
		return Slots{}, fmt.Errorf("render: read: %w", err)
	}
	var s Slots
	if err := s.setMeta(fm); err != nil {
		return Slots{}, fmt.Errorf("render: read: %w", err)
	}
	segs := d.Article.Segments(layout == English)
	br := newBodyReader(d, layout, segs, body, bodyLine)
	expect := strings.TrimSpace(d.TLDR) != "" && len(renderText(ctxTLDR, d.TLDR)) > 0
	if v, ok := s.Meta.Fields[keySummary].(string); !ok || clean(v) == "" {
		expect = false
	} else if o, ok := d.Article.Meta.Fields[keySummary].(string); ok && clean(o) == clean(v) {
		expect = false
	}
	err = br.read(expect)
	if i, ok := br.segAt[segKey{-1, -1, -1, article.AttrDescription}]; ok {
		br.slots[i] = readDescription(s.Meta, d.Article.Meta)
	}
	s.Segments = br.slots
	s.TLDR, s.Points = br.tldr, br.points
	if err != nil {
		var re *readError
		if errors.As(err, &re) {
			return s, fmt.Errorf("%w: %s (line %d)", ErrRestructured, re.msg, re.line)
		}
		return s, err
	}
	return s, nil
}

// setMeta parses the front matter text fm (delimiters included) into s.
func (s *Slots) setMeta(fm string) error {
	if fm == "" {
		return nil
	}
	a, err := article.Parse([]byte(fm), article.SyntaxText)
	if err != nil {
		return err
	}
	s.Meta = a.Meta
	s.Title, _ = a.Meta.Fields[keyTitle].(string)
	s.Summary, _ = a.Meta.Fields[keySummary].(string)
	s.Description, _ = a.Meta.Fields[keyDescription].(string)
	return nil
}

// readDescription returns the description translation that front matter
// meta shows, or "" when it shows the article's own description (orig) or
// none.
func readDescription(meta, orig article.FrontMatter) string {
	v, ok := meta.Fields[keyDescription].(string)
	if !ok || clean(v) == "" {
		return ""
	}
	if o, ok := orig.Fields[keyDescription].(string); ok && clean(o) == clean(v) {
		return ""
	}
	return readText(ctxDesc, []string{v})
}

// splitOutput cuts an output file (LF line ends) into its front matter
// (delimiters and final newline included, "" if none), its body and the
// 1-based line number of the body's first line. A front matter is what
// Markdown writes: "---" or "+++" lines around YAML or TOML, or a JSON
// object starting the file. A body never starts with "---", "+++" or "{"
// without one.
func splitOutput(text string) (fm, body string, bodyLine int, err error) {
	first, _, _ := strings.Cut(text, "\n")
	first = trimRight(first)
	if first == "---" || first == "+++" {
		for p := strings.IndexByte(text, '\n') + 1; p > 0 && p < len(text); {
			l, end := text[p:], len(text)
			if e := strings.IndexByte(l, '\n'); e >= 0 {
				l, end = l[:e], p+e+1
			}
			if trimRight(l) == first {
				fm = text[:end]
				if !strings.HasSuffix(fm, "\n") {
					fm += "\n"
				}
				return fm, text[end:], 1 + strings.Count(text[:end], "\n"), nil
			}
			p = end
		}
		return "", "", 0, fmt.Errorf("unterminated %w: %q on line 1 is never closed", article.ErrFrontMatter, first)
	}
	if strings.HasPrefix(text, "{") {
		if end, ok := article.JSONEnd(text); ok {
			nl := strings.IndexByte(text[end:], '\n')
			if nl < 0 {
				return text[:end] + "\n", "", 1 + strings.Count(text, "\n"), nil
			}
			end += nl + 1
			return text[:end], text[end:], 1 + strings.Count(text[:end], "\n"), nil
		}
	}
	return "", text, 1, nil
}

// --- Translation text: rendering and its inverse ---

// ctx is a place where Markdown writes a translation; each has its own
// rendering (renderText).
type ctx int

const (
	ctxPara         ctx = iota // paragraph, quote, bilingual list item: lines, blank lines kept
	ctxItem                    // English list item: lines, no blank lines
	ctxHeading                 // English heading: one line after the #s
	ctxHeadingQuote            // bilingual heading translation: one line in a quote
	ctxCell                    // table cell: | escaped, <br> between lines
	ctxTLDR                    // summary: lines, the first after "**TL;DR:** "
	ctxPoint                   // summary point: lines
	ctxAlt                     // image alt text
	ctxTitle                   // image title
	ctxDesc                    // front matter description value
)

// renderText returns the lines Markdown writes for translation t in
// context c, before any container prefix, as newRenderer and the block
// writers prepare them.
func renderText(c ctx, t string) []string {
	s := inert(strings.TrimSpace(t))
	switch c {
	case ctxPara:
		return textLines(s, true, false)
	case ctxItem, ctxPoint:
		return textLines(s, false, false)
	case ctxTLDR:
		return textLines(s, false, true)
	case ctxHeading:
		if h := headingText(s); h != "" {
			return []string{h}
		}
	case ctxHeadingQuote:
		return textLines(oneLine(s), false, false)
	case ctxCell:
		return []string{cell(s)}
	case ctxAlt:
		return []string{linkTextReplacer.Replace(s)}
	case ctxTitle:
		if s = strings.TrimSpace(s); s != "" {
			return []string{linkTitleReplacer.Replace(s)}
		}
	case ctxDesc:
		if s = clean(s); s != "" {
			return []string{s}
		}
	}
	return nil
}

// Canon returns translation text t as Read returns it once Markdown has
// written it as a paragraph, a quote or a bilingual list item's
// translation: trimmed, with normalised line ends, blank lines and hard
// breaks, and with the renderer's escapes (inert, line starts) undone.
// Canon(Canon(t)) == Canon(t), and t and Canon(t) render the same.
//
// Other places render some texts differently, so one function cannot
// serve them all: a heading shows "A\nB" as "A B", a table cell shows
// "a|b" and "a\|b" alike, the summary drops blank lines. CanonSlots gives
// the exact value for each segment of a document.
func Canon(t string) string { return canonIn(ctxPara, t) }

// canonIn returns t as Read returns it from context c.
func canonIn(c ctx, t string) string {
	u, _ := unrender(c, renderText(c, t))
	return u
}

// readText turns the lines of a slot in context c into text: unrendered,
// and when the lines are not exactly what Markdown writes for that text
// (a person's edit), brought to the canonical form for c.
func readText(c ctx, lines []string) string {
	u, exact := unrender(c, lines)
	if exact {
		return u
	}
	return canonIn(c, u)
}

// unrender returns a text whose rendering in context c is lines, and true;
// for lines Markdown cannot have written, its best reading and false.
func unrender(c ctx, lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", true
	}
	ok := func(u string) bool { return slices.Equal(renderText(c, u), lines) }
	switch c {
	case ctxPara, ctxItem, ctxPoint:
		return unLines(lines, false, ok)
	case ctxTLDR:
		return unLines(lines, true, ok)
	case ctxHeading:
		l := unHeading(strings.Join(lines, " "))
		u, exact := unLines([]string{l}, true, ok)
		if !exact {
			if u2, exact2 := unLines(splitFences(l), true, ok); exact2 {
				return u2, true
			}
		}
		return u, exact
	case ctxHeadingQuote:
		u, exact := unLines(lines, false, ok)
		if !exact && len(lines) == 1 {
			if u2, exact2 := unLines(splitFences(lines[0]), false, ok); exact2 {
				return u2, true
			}
		}
		return u, exact
	case ctxCell:
		s := unescapePipes(strings.Join(lines, "<br>"))
		u, exact := unLines(splitBR(s, false), true, ok)
		if !exact {
			if u2, exact2 := unLines(splitBR(s, true), true, ok); exact2 {
				return u2, true
			}
		}
		return u, exact
	case ctxAlt:
		u := uninert(unescapeSet(strings.Join(lines, " "), `\[]`))
		return u, ok(u)
	case ctxTitle:
		u := uninert(unescapeSet(strings.Join(lines, " "), `\"`))
		return u, ok(u)
	case ctxDesc:
		u := uninert(strings.Join(lines, "\n"))
		return u, ok(u)
	}
	return strings.Join(lines, "\n"), false
}

// unLines undoes textLines and inert for lines (the first one not
// escaped when firstInline). An escaped fence line ("\```") is ambiguous:
// the backslash may be the renderer's or the writer's, and which one
// decides the code spans, and so where inert escapes; when the plain
// reading does not render back to lines, the combinations are tried.
func unLines(lines []string, firstInline bool, ok func(string) bool) (string, bool) {
	u := make([]string, len(lines))
	var ticks []int // lines whose unescaping removed a backslash before a backtick
	for j, l := range lines {
		if j == 0 && firstInline {
			u[j] = l
			continue
		}
		u[j] = unescLine(l)
		if u[j] != l && strings.HasPrefix(u[j], "`") {
			ticks = append(ticks, j)
		}
	}
	first := uninert(strings.Join(u, "\n"))
	if ok(first) {
		return first, true
	}
	n := len(ticks)
	if n == 0 {
		return first, false
	}
	// Bit b of mask keeps fence line b escaped; lines past the 8th stay
	// escaped. Mask 0 with at most 8 lines is the plain reading above.
	for mask := 0; mask < 1<<min(n, 8); mask++ {
		if mask == 0 && n <= 8 {
			continue
		}
		for b, j := range ticks {
			if b >= 8 || mask&(1<<b) != 0 {
				u[j] = lines[j]
			} else {
				u[j] = unescLine(lines[j])
			}
		}
		if s := uninert(strings.Join(u, "\n")); ok(s) {
			return s, true
		}
	}
	return first, false
}

// splitFences splits a heading's one line before each escaped fence that
// follows a space: where oneLine joined a line that escapeLine began with
// "\```". The escape changes the code spans of the joined line, so that
// only the lines render back to it.
func splitFences(l string) []string {
	parts := strings.Split(l, " \\```")
	for i := 1; i < len(parts); i++ {
		parts[i] = "\\```" + parts[i]
	}
	return parts
}

// unescLine undoes escapeLine: it returns the line that escapeLine turns
// into l, or l.
func unescLine(l string) string {
	if len(l) < 2 {
		return l
	}
	if l[0] == '\\' {
		if c := l[1:]; escapeLine(c) == l {
			return c
		}
	}
	i := 0
	for i < len(l) && i < 9 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(l) && l[i] == '\\' && (l[i+1] == '.' || l[i+1] == ')') {
		if c := l[:i] + l[i+1:]; escapeLine(c) == l {
			return c
		}
	}
	if strings.IndexByte(l, '\\') >= 0 && strings.Trim(l, "-:| \t\\") == "" {
		if c := strings.ReplaceAll(l, `\`, ""); escapeLine(c) == l {
			return c
		}
	}
	return l
}

// uninert undoes inert: it drops the backslash inert puts before a "<"
// that opens HTML and before the "<" or "%" of a shortcode opener, outside
// code spans.
func uninert(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	b := make([]byte, 0, len(s))
	bs := 0 // backslashes right before i
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`' && bs%2 == 0:
			end, _ := article.CodeSpan(s, i)
			b = append(b, s[i:end]...)
			i = end - 1
			bs = 0
			continue
		case c == '<' && bs%2 == 1 && i+1 < len(s) && opensHTML(s[i+1]):
			b = b[:len(b)-1]
		case (c == '<' || c == '%') && bs == 1 && strings.HasSuffix(s[:i-1], "{{"):
			b = b[:len(b)-1]
		}
		b = append(b, c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return string(b)
}

// unHeading undoes headingText on a heading's text: the backslash before
// a closing run of #; an unescaped closing sequence (a person's) goes, as
// markdown does not show it.
func unHeading(s string) string {
	s = strings.TrimRight(s, " \t")
	t := strings.TrimRight(s, "#")
	if t == s {
		return s
	}
	if p, ok := strings.CutSuffix(t, `\`); ok {
		if p == "" || strings.HasSuffix(p, " ") || strings.HasSuffix(p, "\t") {
			return p + s[len(t):]
		}
		return s
	}
	if t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t") {
		return strings.TrimRight(t, " \t")
	}
	return s
}

// unescapePipes undoes escapePipes: one backslash goes from before each
// escaped |.
func unescapePipes(s string) string {
	if !strings.Contains(s, `\|`) {
		return s
	}
	b := make([]byte, 0, len(s))
	bs := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '|' && bs%2 == 1 {
			b = b[:len(b)-1]
		}
		b = append(b, c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return string(b)
}

// splitBR splits a table cell's text at its line breaks: "<br>" (or
// "<br/>", "<br />", any case) not escaped by a backslash, and with
// outsideCode not inside a code span.
func splitBR(s string, outsideCode bool) []string {
	var parts []string
	start, bs := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '`' && bs%2 == 0 && outsideCode {
			end, _ := article.CodeSpan(s, i)
			i = end - 1
			bs = 0
			continue
		}
		if c == '<' && bs%2 == 0 {
			if n := brLen(s[i:]); n > 0 {
				parts = append(parts, s[start:i])
				start = i + n
				i += n - 1
				bs = 0
				continue
			}
		}
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return append(parts, s[start:])
}

// brLen returns the length of the <br> tag s starts with, or 0.
func brLen(s string) int {
	for _, t := range []string{"<br>", "<br/>", "<br />"} {
		if len(s) >= len(t) && strings.EqualFold(s[:len(t)], t) {
			return len(t)
		}
	}
	return 0
}

// unescapeSet drops the backslash of each escape of a character in set
// (the backslash included).
func unescapeSet(s, set string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(set, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CanonSlots returns the Slots that Read gives for the file Markdown
// writes from d in layout, computed from d: each translation in the
// canonical form for where it is shown, "" for a translation the file does
// not show (empty, equal to its original, or rendered like it where the
// original would show), and the front matter values as written.
func CanonSlots(d Document, layout Layout) (Slots, error) {
	var b strings.Builder
	if err := Markdown(&b, d, layout); err != nil {
		return Slots{}, err
	}
	fm, _, _, err := splitOutput(b.String())
	if err != nil {
		return Slots{}, fmt.Errorf("render: %w", err)
	}
	var s Slots
	if err := s.setMeta(fm); err != nil {
		return Slots{}, fmt.Errorf("render: %w", err)
	}
	a := d.Article
	segs := a.Segments(layout == English)
	s.Segments = make([]string, len(segs))
	for i, seg := range segs {
		s.Segments[i] = canonSegment(a, seg, d.Segments[i], layout)
	}
	if seg := slices.IndexFunc(segs, func(g article.Segment) bool { return g.Attr == article.AttrDescription }); seg >= 0 {
		s.Segments[seg] = readDescription(s.Meta, a.Meta)
	}
	if lines := renderText(ctxTLDR, d.TLDR); len(lines) > 0 {
		s.TLDR = readText(ctxTLDR, lines)
		for _, p := range d.Points {
			if lines := renderText(ctxPoint, p); len(lines) > 0 {
				s.Points = append(s.Points, readText(ctxPoint, lines))
			}
		}
	}
	return s, nil
}

// canonSegment returns the value Read gives for segment seg of a when
// Markdown wrote translation t for it.
func canonSegment(a *article.Article, seg article.Segment, t string, layout Layout) string {
	tr := strings.TrimSpace(t)
	if tr == "" || tr == strings.TrimSpace(seg.Text) || seg.Block < 0 {
		return ""
	}
	c, orig := segContext(a, seg, layout)
	lines := renderText(c, tr)
	if orig != nil && linesEqual(lines, orig) {
		return ""
	}
	return readText(c, lines)
}

// segContext returns where segment seg is shown in layout, and the lines
// the original shows there when it has no translation (nil: it does not
// show in the translation's place).
func segContext(a *article.Article, seg article.Segment, layout Layout) (ctx, []string) {
	b := a.Blocks[seg.Block]
	en := layout == English
	switch {
	case seg.Attr == article.AttrAlt:
		return ctxAlt, []string{linkTextReplacer.Replace(b.Alt)}
	case seg.Attr == article.AttrTitle:
		return ctxTitle, []string{linkTitleReplacer.Replace(strings.TrimSpace(b.Title))}
	case b.Kind == article.Table:
		return ctxCell, []string{cell(b.Rows[seg.Row][seg.Col])}
	case b.Kind == article.Heading && en:
		return ctxHeading, []string{headingText(b.Text)}
	case b.Kind == article.Heading:
		return ctxHeadingQuote, nil
	case b.Kind == article.ListItem && en:
		return ctxItem, textLines(b.Text, false, false)
	case en:
		return ctxPara, textLines(b.Text, true, false)
	}
	return ctxPara, nil
}

// linesEqual compares lines ignoring trailing white space.
func linesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !lineEq(a[i], b[i]) {
			return false
		}
	}
	return true
}

func lineEq(a, b string) bool { return trimRight(a) == trimRight(b) }

func trimRight(s string) string { return strings.TrimRight(s, " \t") }

func isBlank(s string) bool { return trimRight(s) == "" }

// --- The body ---

type segKey struct {
	block, row, col int
	attr            string
}

// readError is a restructured body: what and where.
type readError struct {
	line int
	msg  string
}

func (e *readError) Error() string { return fmt.Sprintf("%s (line %d)", e.msg, e.line) }

// bodyReader walks a body along the structure Markdown gives an article.
type bodyReader struct {
	a      *article.Article
	r      *renderer // for list layouts
	layout Layout
	lines  []string
	line0  int // file line number of lines[0]
	pos    int
	segAt  map[segKey]int
	hint   []string // d.Segments when one per segment, else nil
	names  []string // block i's name in messages: "paragraph 3"
	groups []group

	slots  []string
	tldr   string
	points []string
}

// group is what body() renders as one part: a block, or a run of list
// items, or of quotes of one depth.
type group struct {
	kind article.Kind
	i, j int
}

func newBodyReader(d Document, layout Layout, segs []article.Segment, body string, line0 int) *bodyReader {
	a := d.Article
	body = strings.TrimRight(body, "\n")
	var lines []string
	if body != "" {
		lines = strings.Split(body, "\n")
	}
	br := &bodyReader{
		a:      a,
		r:      &renderer{a: a, d: d, layout: layout},
		layout: layout,
		lines:  lines,
		line0:  line0,
		segAt:  make(map[segKey]int, len(segs)),
		slots:  make([]string, len(segs)),
	}
	for i, s := range segs {
		br.segAt[segKey{s.Block, s.Row, s.Col, s.Attr}] = i
	}
	if len(d.Segments) == len(segs) {
		br.hint = d.Segments
	}
	count := map[article.Kind]int{}
	br.names = make([]string, len(a.Blocks))
	for i, b := range a.Blocks {
		count[b.Kind]++
		name := b.Kind.String()
		switch b.Kind {
		case article.ListItem:
			name = "list item"
		case article.Code:
			name = "code block"
		case article.SourceLink:
			name = "source link"
		}
		br.names[i] = name + " " + strconv.Itoa(count[b.Kind])
	}
	br.groups = br.makeGroups()
	return br
}

// makeGroups lists the parts body() writes that show something (judged by
// the originals).
func (br *bodyReader) makeGroups() []group {
	var gs []group
	bl := br.a.Blocks
	for i := 0; i < len(bl); {
		b := bl[i]
		g := group{kind: b.Kind, i: i, j: i + 1}
		switch b.Kind {
		case article.ListItem:
			for g.j < len(bl) && bl[g.j].Kind == article.ListItem {
				g.j++
			}
		case article.Quote:
			for g.j < len(bl) && bl[g.j].Kind == article.Quote && quoteDepth(bl[g.j]) == quoteDepth(b) {
				g.j++
			}
		}
		i = g.j
		if br.shows(g) {
			gs = append(gs, g)
		}
	}
	return gs
}

// shows reports whether group g renders anything.
func (br *bodyReader) shows(g group) bool {
	for k := g.i; k < g.j; k++ {
		b := br.a.Blocks[k]
		switch b.Kind {
		case article.Paragraph, article.ListItem, article.Quote:
			if len(textLines(b.Text, false, false)) > 0 {
				return true
			}
		case article.Heading:
			return headingText(b.Text) != ""
		case article.Table:
			return gfmTable(b.Rows, func(int, int) string { return "" }) != ""
		case article.Image, article.SourceLink:
			return strings.TrimSpace(b.Src) != ""
		case article.Code, article.Rule:
			return true
		}
	}
	return false
}

func (br *bodyReader) errAt(pos int, format string, args ...any) error {
	return &readError{line: br.line0 + min(pos, len(br.lines)), msg: fmt.Sprintf(format, args...)}
}

func (br *bodyReader) eof() bool { return br.pos >= len(br.lines) }

func (br *bodyReader) cur() string { return br.lines[br.pos] }

func (br *bodyReader) skipBlank() {
	for br.pos < len(br.lines) && isBlank(br.lines[br.pos]) {
		br.pos++
	}
}

// setSlot reads the lines of block segment key in context c.
func (br *bodyReader) setSlot(key segKey, c ctx, lines []string) {
	if i, ok := br.segAt[key]; ok {
		br.slots[i] = readText(c, lines)
	}
}

// setShown sets a slot from lines that show either a translation or, when
// they equal orig, the original.
func (br *bodyReader) setShown(key segKey, c ctx, lines, orig []string) {
	if linesEqual(lines, orig) {
		return
	}
	br.setSlot(key, c, lines)
}

// read reads the body; expectSummary makes a missing summary section an
// error. A body that starts with "**TL;DR:**" is tried with a summary and
// key points, with a summary alone, then without (an English first
// paragraph may start so); the error reported is the one that got
// furthest.
func (br *bodyReader) read(expectSummary bool) error {
	start := 0
	for start < len(br.lines) && isBlank(br.lines[start]) {
		start++
	}
	type variant struct{ summary, points bool }
	variants := []variant{{false, false}}
	if start < len(br.lines) && strings.HasPrefix(br.lines[start], summaryLabel) {
		variants = []variant{{true, true}, {true, false}, {false, false}}
	}
	var best *readError
	for _, v := range variants {
		br.pos = start
		clear(br.slots)
		br.tldr, br.points = "", nil
		err := br.body(v.summary, v.points)
		if err == nil {
			if !v.summary && expectSummary {
				return br.errAt(start, "the summary section (%s) is missing", summaryLabel)
			}
			return nil
		}
		var re *readError
		if !errors.As(err, &re) {
			return err
		}
		if best == nil || re.line > best.line {
			best = re
		}
	}
	clear(br.slots)
	br.tldr, br.points = "", nil
	return best
}

const summaryLabel = "**TL;DR:**"

func (br *bodyReader) body(summary, points bool) error {
	if summary {
		if err := br.summary(points); err != nil {
			return err
		}
	}
	gs := br.groups
	for gi := 0; gi < len(gs); gi++ {
		br.skipBlank()
		var next *group
		if gi+1 < len(gs) {
			next = &gs[gi+1]
		}
		g := gs[gi]
		var err error
		switch {
		case g.kind == article.Paragraph && br.layout == English:
			gj := gi
			for gj < len(gs) && gs[gj].kind == article.Paragraph {
				gj++
			}
			next = nil
			if gj < len(gs) {
				next = &gs[gj]
			}
			err = br.enParagraphs(gs[gi:gj], next)
			gi = gj - 1
		default:
			if err = br.groupStart(g, gi); err == nil {
				err = br.group(g, next)
			}
		}
		if err != nil {
			return err
		}
	}
	br.skipBlank()
	if !br.eof() {
		if len(gs) == 0 {
			return br.errAt(br.pos, "unexpected text: the article shows nothing")
		}
		last := gs[len(gs)-1]
		return br.errAt(br.pos, "unexpected text after %s", br.names[last.j-1])
	}
	return nil
}

// summary reads the summary section: the TL;DR paragraph and, with
// points, a list of key points.
func (br *bodyReader) summary(points bool) error {
	first := strings.TrimLeft(strings.TrimPrefix(br.cur(), summaryLabel), " \t")
	lines := []string{first}
	br.pos++
	for !br.eof() && !isBlank(br.cur()) {
		if k := blockSyntax(br.cur(), false); k != "" {
			return br.errAt(br.pos, "a %s inside the summary", k)
		}
		lines = append(lines, br.cur())
		br.pos++
	}
	br.tldr = readText(ctxTLDR, lines)
	if !points {
		return nil
	}
	br.skipBlank()
	for !br.eof() && (strings.HasPrefix(br.cur(), "- ") || trimRight(br.cur()) == "-") {
		p := []string{""}
		if l := br.cur(); strings.HasPrefix(l, "- ") {
			p[0] = l[2:]
		}
		if k := blockSyntax(p[0], true); k != "" {
			return br.errAt(br.pos, "a %s inside a key point", k)
		}
		br.pos++
		for !br.eof() && strings.HasPrefix(br.cur(), "  ") && !isBlank(br.cur()) {
			rest := strings.TrimLeft(br.cur(), " \t")
			if k := blockSyntax(rest, false); k != "" {
				return br.errAt(br.pos, "a %s inside a key point", k)
			}
			p = append(p, br.cur()[2:])
			br.pos++
		}
		br.points = append(br.points, readText(ctxPoint, p))
	}
	if len(br.points) == 0 {
		return br.errAt(br.pos, "no key points")
	}
	if !br.eof() && !isBlank(br.cur()) {
		return br.errAt(br.pos, "unexpected text after the key points")
	}
	return nil
}

// groupStart checks the first line of bilingual group g, to tell a
// changed original from a block added, removed or moved before it.
func (br *bodyReader) groupStart(g group, gi int) error {
	if br.layout != Bilingual {
		if br.eof() {
			return br.errAt(br.pos, "%s is missing", br.names[g.i])
		}
		return nil
	}
	want := br.firstLine(g)
	if br.eof() {
		return br.errAt(br.pos, "%s is missing", br.names[g.i])
	}
	if want == "" || lineEq(br.cur(), want) {
		return nil
	}
	got := trimRight(br.cur())
	for gk, h := range br.groups {
		if gk != gi && trimRight(br.firstLine(h)) == got && got != "---" && !strings.HasPrefix(got, "```") && !strings.HasPrefix(got, "~~~") {
			if gk > gi {
				return br.errAt(br.pos, "found %s where %s should be (a block was removed or moved)", br.names[h.i], br.names[g.i])
			}
			return br.errAt(br.pos, "found %s again where %s should be (a block was moved or repeated)", br.names[h.i], br.names[g.i])
		}
	}
	// Added text: the expected line comes a little later.
	for p := br.pos + 1; p < len(br.lines) && p < br.pos+200; p++ {
		if lineEq(br.lines[p], want) {
			after := "the summary"
			if gi > 0 {
				after = br.names[br.groups[gi-1].j-1]
			} else if br.pos == 0 {
				after = "the start"
			}
			return br.errAt(br.pos, "unexpected text after %s", after)
		}
	}
	return nil // let the group say what differs
}

// firstLine returns the first line bilingual group g writes.
func (br *bodyReader) firstLine(g group) string {
	b := br.a.Blocks[g.i]
	switch g.kind {
	case article.Paragraph:
		if l := textLines(b.Text, true, false); len(l) > 0 {
			return l[0]
		}
	case article.Heading:
		return strings.Repeat("#", min(max(b.Level, 1), 6)) + " " + headingText(b.Text)
	case article.ListItem:
		if items := br.origItems(g); len(items) > 0 {
			return items[0].lead + items[0].lines[0]
		}
	case article.Quote:
		for k := g.i; k < g.j; k++ {
			if l := textLines(br.a.Blocks[k].Text, true, false); len(l) > 0 {
				return strings.Repeat("> ", quoteDepth(b)) + l[0]
			}
		}
	case article.Table:
		t := gfmTable(b.Rows, func(r, c int) string { return b.Rows[r][c] })
		l, _, _ := strings.Cut(t, "\n")
		return l
	default:
		l, _, _ := strings.Cut(br.r.block(g.i), "\n")
		return l
	}
	return ""
}

func (br *bodyReader) origItems(g group) []listItem {
	return br.r.listItems(g.i, g.j, func(k int) []string { return textLines(br.a.Blocks[k].Text, false, false) })
}

// group reads group g; next is the group after it, if any.
func (br *bodyReader) group(g group, next *group) error {
	en := br.layout == English
	b := br.a.Blocks[g.i]
	switch g.kind {
	case article.Paragraph: // bilingual
		if err := br.fixed(textLines(b.Text, true, false), g.i, "original text"); err != nil {
			return err
		}
		return br.translationQuote(g.i, ctxPara, next)
	case article.Heading:
		level := strings.Repeat("#", min(max(b.Level, 1), 6))
		if en {
			return br.enHeading(g.i, level)
		}
		if err := br.fixed([]string{level + " " + headingText(b.Text)}, g.i, "original text"); err != nil {
			return err
		}
		return br.translationQuote(g.i, ctxHeadingQuote, next)
	case article.ListItem:
		if en {
			return br.enList(g)
		}
		return br.biList(g)
	case article.Quote:
		if en {
			return br.enQuotes(g)
		}
		return br.biQuotes(g)
	case article.Table:
		return br.table(g.i, next)
	case article.Image:
		if en {
			return br.enImage(g.i)
		}
	}
	want := strings.Split(br.r.block(g.i), "\n")
	if g.kind == article.Code {
		return br.verbatim(want, g.i)
	}
	return br.fixed(want, g.i, "text")
}

// verbatim matches a code block line for line.
func (br *bodyReader) verbatim(want []string, block int) error {
	for _, w := range want {
		if br.eof() {
			return br.errAt(br.pos, "%s is cut short", br.names[block])
		}
		if !lineEq(br.cur(), w) {
			return br.errAt(br.pos, "%s differs", br.names[block])
		}
		br.pos++
	}
	return nil
}

// fixed matches lines that Markdown writes from the original; a "" in
// want is one or more blank lines.
func (br *bodyReader) fixed(want []string, block int, what string) error {
	for _, w := range want {
		if w == "" {
			if br.eof() || !isBlank(br.cur()) {
				return br.errAt(br.pos, "%s's %s differs (a blank line is missing)", br.names[block], what)
			}
			br.skipBlank()
			continue
		}
		if br.eof() {
			return br.errAt(br.pos, "%s is cut short", br.names[block])
		}
		if !lineEq(br.cur(), w) {
			return br.errAt(br.pos, "%s's %s differs", br.names[block], what)
		}
		br.pos++
	}
	return nil
}

// stripQuote strips indent and depth quote markers (">" and an optional
// space) from l; ok is false when l lacks them.
func stripQuote(l, indent string, depth int) (rest string, ok bool) {
	if !strings.HasPrefix(l, indent) {
		return "", false
	}
	l = l[len(indent):]
	for range depth {
		if l == "" || l[0] != '>' {
			return "", false
		}
		l = l[1:]
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			l = l[1:]
		}
	}
	return l, true
}

// quoted reads the lines that carry indent and depth quote markers and
// returns their content.
func (br *bodyReader) quoted(indent string, depth int) []string {
	var out []string
	for !br.eof() {
		rest, ok := stripQuote(br.cur(), indent, depth)
		if !ok {
			break
		}
		out = append(out, rest)
		br.pos++
	}
	return out
}

// checkText reports block syntax in the content lines of a translation.
func (br *bodyReader) checkText(lines []string, start int, block int) error {
	para := true
	for j, l := range lines {
		if isBlank(l) {
			para = true
			continue
		}
		if k := blockSyntax(strings.TrimLeft(l, " \t"), para); k != "" {
			return br.errAt(start+j, "a %s inside %s's translation", k, br.names[block])
		}
		para = false
	}
	return nil
}

// translationQuote reads the optional "> translation" after a bilingual
// paragraph or heading.
func (br *bodyReader) translationQuote(block int, c ctx, next *group) error {
	save := br.pos
	br.skipBlank()
	if br.eof() || !isQuoteLine(br.cur(), "") || (next != nil && br.startsGroup(*next)) {
		br.pos = save
		return nil
	}
	start := br.pos
	lines := br.quoted("", 1)
	if err := br.checkText(lines, start, block); err != nil {
		return err
	}
	br.setSlot(segKey{block, -1, -1, ""}, c, lines)
	save = br.pos
	br.skipBlank()
	if !br.eof() && isQuoteLine(br.cur(), "") && (next == nil || !br.startsGroup(*next)) {
		return br.errAt(br.pos, "%s has a second translation", br.names[block])
	}
	br.pos = save
	return nil
}

func isQuoteLine(l, indent string) bool {
	_, ok := stripQuote(l, indent, 1)
	return ok
}

// startsGroup reports whether the current line starts group g as the
// original shows it (bilingual), or as an anchor an English paragraph
// cannot be (an image, a source link, a table).
func (br *bodyReader) startsGroup(g group) bool {
	if br.eof() {
		return false
	}
	l := br.cur()
	b := br.a.Blocks[g.i]
	if br.layout == Bilingual {
		if g.kind == article.Quote {
			rest, ok := stripQuote(l, "", quoteDepth(b))
			return ok && lineEq(rest, strings.TrimPrefix(br.firstLine(g), strings.Repeat("> ", quoteDepth(b))))
		}
		return lineEq(l, br.firstLine(g))
	}
	switch g.kind {
	case article.Image:
		_, _, ok := parseImage(l, linkDest(b.Src))
		return ok
	case article.SourceLink:
		return lineEq(l, br.r.block(g.i))
	case article.Table:
		if br.pos+1 >= len(br.lines) || !strings.HasPrefix(strings.TrimLeft(l, " "), "|") {
			return false
		}
		cells, ok := parseRow(br.lines[br.pos+1])
		return ok && isDelimRow(cells)
	}
	return blockSyntax(l, true) != ""
}

// enParagraphs reads a run of English paragraphs: text units between blank
// lines, up to the next group, shared among the paragraphs (see split).
func (br *bodyReader) enParagraphs(gs []group, next *group) error {
	var units [][]string
	var starts []int
	for {
		br.skipBlank()
		if br.eof() || (next != nil && br.startsGroup(*next)) || blockSyntax(br.cur(), true) != "" {
			break
		}
		start := br.pos
		u := []string{br.cur()}
		br.pos++
		for !br.eof() && !isBlank(br.cur()) {
			if k := blockSyntax(br.cur(), false); k != "" {
				in := gs[min(len(units), len(gs)-1)].i
				return br.errAt(br.pos, "a %s inside %s's text", k, br.names[in])
			}
			u = append(u, br.cur())
			br.pos++
		}
		units = append(units, u)
		starts = append(starts, start)
	}
	blocks := make([]int, len(gs))
	for i, g := range gs {
		blocks[i] = g.i
	}
	return br.split(blocks, units, starts, "paragraph")
}

// split shares units (blank-separated runs of lines) among the English
// blocks (paragraphs, or quotes of one depth) that show them. With as many
// units as blocks, each gets one; else the counts that d.Segments renders
// to are taken when they add up, or those that give an untranslated
// original all its units; anything else is a paragraph added or removed.
func (br *bodyReader) split(blocks []int, units [][]string, starts []int, what string) error {
	k, m := len(blocks), len(units)
	orig := make([][][]string, k)
	for i, bi := range blocks {
		orig[i] = splitUnits(textLines(br.a.Blocks[bi].Text, true, false))
	}
	counts := make([]int, k)
	fits := func() bool {
		n := 0
		for _, c := range counts {
			n += c
		}
		return n == m
	}
	found := false
	if br.hint != nil {
		for i, bi := range blocks {
			counts[i] = 1
			if si, ok := br.segAt[segKey{bi, -1, -1, ""}]; ok {
				if tr := strings.TrimSpace(br.hint[si]); tr == "" || tr == strings.TrimSpace(br.a.Blocks[bi].Text) {
					counts[i] = len(orig[i])
				} else {
					counts[i] = len(splitUnits(renderText(ctxPara, tr)))
				}
			}
		}
		found = fits()
	}
	if !found {
		j := 0
		for i := range blocks {
			counts[i] = 1
			if o := len(orig[i]); o > 1 && j+o <= m && unitsEqual(units[j:j+o], orig[i]) {
				counts[i] = o
			}
			j += counts[i]
		}
		found = fits()
	}
	if !found {
		pos := br.pos
		if len(starts) > 0 {
			pos = starts[0]
		}
		where := br.names[blocks[0]]
		if k > 1 {
			where += " to " + strings.TrimPrefix(br.names[blocks[k-1]], what+" ")
			where = strings.Replace(where, what+" ", what+"s ", 1)
		}
		if m < k {
			return br.errAt(pos, "%s show %d %s(s) where %d are expected (one was removed or joined)", where, m, what, k)
		}
		return br.errAt(pos, "%s show %d %s(s) where %d are expected (one was added, or a translation split by a blank line)", where, m, what, k)
	}
	j := 0
	for i, bi := range blocks {
		var lines []string
		for n, u := range units[j : j+counts[i]] {
			if n > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, u...)
		}
		j += counts[i]
		br.setShown(segKey{bi, -1, -1, ""}, ctxPara, lines, textLines(br.a.Blocks[bi].Text, true, false))
	}
	return nil
}

// splitUnits splits lines at blank lines.
func splitUnits(lines []string) [][]string {
	var out [][]string
	var cur []string
	for _, l := range lines {
		if l == "" {
			if cur != nil {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

func unitsEqual(a, b [][]string) bool {
	return slices.EqualFunc(a, b, linesEqual)
}

// enHeading reads an English heading: "## translation".
func (br *bodyReader) enHeading(block int, level string) error {
	if br.eof() {
		return br.errAt(br.pos, "%s is missing", br.names[block])
	}
	l := trimRight(br.cur())
	var text string
	switch {
	case strings.HasPrefix(l, level+" ") || strings.HasPrefix(l, level+"\t"):
		text = strings.TrimLeft(l[len(level):], " \t")
	case l == level:
	default:
		return br.errAt(br.pos, "%s is not a level-%d heading here", br.names[block], len(level))
	}
	br.pos++
	b := br.a.Blocks[block]
	if unHeading(text) == unHeading(headingText(b.Text)) {
		return nil
	}
	br.setSlot(segKey{block, -1, -1, ""}, ctxHeading, []string{text})
	return nil
}

// biList reads a bilingual list: each item's original lines, then an
// optional translation quote indented to the item's content.
func (br *bodyReader) biList(g group) error {
	for _, it := range br.origItems(g) {
		br.skipBlank()
		want := strings.Split(prefixLines(it.lines, it.lead, it.cont), "\n")
		if err := br.fixed(want, it.k, "original text"); err != nil {
			return err
		}
		save := br.pos
		br.skipBlank()
		if br.eof() || !isQuoteLine(br.cur(), it.cont) {
			br.pos = save
			continue
		}
		start := br.pos
		lines := br.quoted(it.cont, 1)
		if err := br.checkText(lines, start, it.k); err != nil {
			return err
		}
		br.setSlot(segKey{it.k, -1, -1, ""}, ctxPara, lines)
		save = br.pos
		br.skipBlank()
		if !br.eof() && isQuoteLine(br.cur(), it.cont) {
			return br.errAt(br.pos, "%s has a second translation", br.names[it.k])
		}
		br.pos = save
	}
	return nil
}

// enList reads an English list: each item's marker line and its
// continuation lines, indented to the item's content.
func (br *bodyReader) enList(g group) error {
	items := br.origItems(g)
	for n, it := range items {
		br.skipBlank()
		if br.eof() {
			return br.errAt(br.pos, "%s is missing", br.names[it.k])
		}
		l := br.cur()
		var lines []string
		switch {
		case strings.HasPrefix(l, it.lead):
			lines = []string{l[len(it.lead):]}
		case trimRight(l) == trimRight(it.lead):
			lines = []string{""}
		default:
			return br.errAt(br.pos, "%s's marker or indent differs", br.names[it.k])
		}
		if k := blockSyntax(lines[0], true); k != "" {
			return br.errAt(br.pos, "a %s inside %s's translation", k, br.names[it.k])
		}
		br.pos++
		for !br.eof() && strings.HasPrefix(br.cur(), it.cont) && !isBlank(br.cur()) {
			if n+1 < len(items) && strings.HasPrefix(br.cur(), items[n+1].lead) {
				break
			}
			rest := br.cur()[len(it.cont):]
			if k := blockSyntax(rest, false); k != "" {
				return br.errAt(br.pos, "a %s inside %s's translation", k, br.names[it.k])
			}
			lines = append(lines, rest)
			br.pos++
		}
		br.setShown(segKey{it.k, -1, -1, ""}, ctxItem, lines, textLines(br.a.Blocks[it.k].Text, false, false))
	}
	return nil
}

// biQuotes reads a bilingual run of quotes of depth D: each original at
// depth D, then optionally a ">" line and the translation at depth D+1;
// parts are separated by ">" lines.
func (br *bodyReader) biQuotes(g group) error {
	depth := quoteDepth(br.a.Blocks[g.i])
	sep := func() bool { // skips separator lines; reports whether there were any
		n := 0
		for !br.eof() {
			rest, ok := stripQuote(br.cur(), "", depth)
			if !ok || !isBlank(rest) {
				break
			}
			br.pos++
			n++
		}
		return n > 0
	}
	first := true
	for k := g.i; k < g.j; k++ {
		orig := textLines(br.a.Blocks[k].Text, true, false)
		if len(orig) == 0 {
			continue
		}
		if !first && !sep() {
			return br.errAt(br.pos, "%s does not follow the quote before it in one block quote", br.names[k])
		}
		first = false
		for _, o := range orig {
			if o == "" {
				if !sep() {
					return br.errAt(br.pos, "%s's original text differs (a blank line is missing)", br.names[k])
				}
				continue
			}
			if br.eof() {
				return br.errAt(br.pos, "%s is cut short", br.names[k])
			}
			rest, ok := stripQuote(br.cur(), "", depth)
			if !ok || !lineEq(rest, o) {
				return br.errAt(br.pos, "%s's original text differs", br.names[k])
			}
			br.pos++
		}
		save := br.pos
		sep()
		if br.eof() {
			br.pos = save
			continue
		}
		if _, ok := stripQuote(br.cur(), "", depth+1); !ok {
			br.pos = save
			continue
		}
		start := br.pos
		lines := br.quoted("", depth+1)
		if err := br.checkText(lines, start, k); err != nil {
			return err
		}
		br.setSlot(segKey{k, -1, -1, ""}, ctxPara, lines)
		save = br.pos
		sep()
		if !br.eof() {
			if _, ok := stripQuote(br.cur(), "", depth+1); ok {
				return br.errAt(br.pos, "%s has a second translation", br.names[k])
			}
		}
		br.pos = save
	}
	return nil
}

// enQuotes reads an English run of quotes of one depth: text units between
// ">" lines, shared among the quotes (see split).
func (br *bodyReader) enQuotes(g group) error {
	depth := quoteDepth(br.a.Blocks[g.i])
	var units [][]string
	var starts []int
	var cur []string
	for !br.eof() {
		rest, ok := stripQuote(br.cur(), "", depth)
		if !ok {
			break
		}
		if isBlank(rest) {
			if cur != nil {
				units = append(units, cur)
			}
			cur = nil
			br.pos++
			continue
		}
		if k := blockSyntax(strings.TrimLeft(rest, " \t"), cur == nil); k != "" {
			return br.errAt(br.pos, "a %s inside %s", k, br.names[g.i])
		}
		if cur == nil {
			starts = append(starts, br.pos)
		}
		cur = append(cur, rest)
		br.pos++
	}
	if cur != nil {
		units = append(units, cur)
	}
	var blocks []int
	for k := g.i; k < g.j; k++ {
		if len(textLines(br.a.Blocks[k].Text, true, false)) > 0 {
			blocks = append(blocks, k)
		}
	}
	return br.split(blocks, units, starts, "quote")
}

// table reads a table: bilingual, the original and an optional quoted
// translated table; English, the translated table.
func (br *bodyReader) table(block int, next *group) error {
	b := br.a.Blocks[block]
	if br.layout == English {
		return br.tableCells(block, "")
	}
	want := strings.Split(gfmTable(b.Rows, func(r, c int) string { return b.Rows[r][c] }), "\n")
	if err := br.fixed(want, block, "original text"); err != nil {
		return err
	}
	save := br.pos
	br.skipBlank()
	if br.eof() || (next != nil && br.startsGroup(*next)) {
		br.pos = save
		return nil
	}
	if rest, ok := stripQuote(br.cur(), "", 1); !ok || !strings.HasPrefix(strings.TrimLeft(rest, " "), "|") {
		br.pos = save
		return nil
	}
	if err := br.tableCells(block, ">"); err != nil {
		return err
	}
	save = br.pos
	br.skipBlank()
	if !br.eof() && isQuoteLine(br.cur(), "") && (next == nil || !br.startsGroup(*next)) {
		return br.errAt(br.pos, "%s has a second translation", br.names[block])
	}
	br.pos = save
	return nil
}

// tableCells reads the rows of a translated table (each line after a ">"
// marker when quote is set) into the table's cell slots.
func (br *bodyReader) tableCells(block int, quote string) error {
	b := br.a.Blocks[block]
	cols := 0
	for _, row := range b.Rows {
		cols = max(cols, len(row))
	}
	for li := 0; li <= len(b.Rows); li++ { // row 0, the delimiter row, rows 1...
		ri := li - 1
		switch li {
		case 0:
			ri = 0
		case 1:
			ri = -1
		}
		if br.eof() {
			return br.errAt(br.pos, "%s's translated table is cut short", br.names[block])
		}
		l := br.cur()
		if quote != "" {
			rest, ok := stripQuote(l, "", 1)
			if !ok {
				return br.errAt(br.pos, "%s's translated table is cut short", br.names[block])
			}
			l = rest
		}
		cells, ok := parseRow(l)
		if !ok || len(cells) != cols {
			return br.errAt(br.pos, "%s's table has a different shape", br.names[block])
		}
		br.pos++
		if ri == -1 {
			if !isDelimRow(cells) {
				return br.errAt(br.pos-1, "%s's table has a different shape", br.names[block])
			}
			continue
		}
		row := b.Rows[ri]
		for c, text := range cells {
			if c >= len(row) || row[c] == "" {
				if text != "" {
					return br.errAt(br.pos-1, "%s has text in a cell the original leaves empty", br.names[block])
				}
				continue
			}
			br.setShown(segKey{block, ri, c, ""}, ctxCell, []string{text}, []string{cell(row[c])})
		}
	}
	return nil
}

// parseRow splits a table row into its trimmed cells at unescaped pipes.
func parseRow(l string) ([]string, bool) {
	l = strings.TrimSpace(l)
	if !strings.HasPrefix(l, "|") {
		return nil, false
	}
	l = l[1:]
	var cells []string
	start, bs := 0, 0
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '|' && bs%2 == 0 {
			cells = append(cells, strings.TrimSpace(l[start:i]))
			start = i + 1
		}
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	if rest := strings.TrimSpace(l[start:]); rest != "" {
		cells = append(cells, rest)
	}
	return cells, true
}

// isDelimRow reports a GFM delimiter row.
func isDelimRow(cells []string) bool {
	for _, c := range cells {
		c = strings.TrimSuffix(strings.TrimPrefix(c, ":"), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return len(cells) > 0
}

// enImage reads an English image line: the alt text and title are slots
// when they hold Chinese, and must be as they were otherwise.
func (br *bodyReader) enImage(block int) error {
	b := br.a.Blocks[block]
	if br.eof() {
		return br.errAt(br.pos, "%s is missing", br.names[block])
	}
	alt, title, ok := parseImage(br.cur(), linkDest(b.Src))
	if !ok {
		return br.errAt(br.pos, "%s differs", br.names[block])
	}
	for _, at := range []struct {
		attr      string
		got, orig string
		c         ctx
	}{
		{article.AttrAlt, alt, linkTextReplacer.Replace(b.Alt), ctxAlt},
		{article.AttrTitle, title, linkTitleReplacer.Replace(strings.TrimSpace(b.Title)), ctxTitle},
	} {
		key := segKey{block, -1, -1, at.attr}
		if _, isSlot := br.segAt[key]; !isSlot {
			if at.got != at.orig {
				return br.errAt(br.pos, "%s's %s differs", br.names[block], at.attr)
			}
			continue
		}
		if at.got != at.orig {
			br.setSlot(key, at.c, []string{at.got})
		}
	}
	br.pos++
	return nil
}

// parseImage parses `![alt](dest "title")` (title optional) with the
// given destination.
func parseImage(l, dest string) (alt, title string, ok bool) {
	l = strings.TrimSpace(l)
	if !strings.HasPrefix(l, "![") {
		return "", "", false
	}
	i := 2
	for ; i < len(l) && l[i] != ']'; i++ {
		if l[i] == '\\' {
			i++
		}
	}
	if i >= len(l) {
		return "", "", false
	}
	alt, rest := l[2:i], l[i+1:]
	rest, found := strings.CutPrefix(rest, "("+dest)
	if !found {
		return "", "", false
	}
	if rest == ")" {
		return alt, "", true
	}
	if !strings.HasPrefix(rest, ` "`) || !strings.HasSuffix(rest, `")`) || len(rest) < 4 {
		return "", "", false
	}
	title = rest[2 : len(rest)-2]
	for j := 0; j < len(title); j++ {
		if title[j] == '\\' {
			j++
		} else if title[j] == '"' {
			return "", "", false
		}
	}
	return alt, title, true
}

// blockSyntax names the block that line l (without leading white space)
// starts in markdown, "" for paragraph text. With para false l continues a
// paragraph, which only some blocks can interrupt. Raw HTML, link
// definitions and definition lists are read as text (the renderer escapes
// them). Lines Markdown writes as text never start a block.
func blockSyntax(l string, para bool) string {
	l = strings.TrimLeft(l, " \t")
	if l == "" {
		return ""
	}
	switch l[0] {
	case '#':
		n := len(l) - len(strings.TrimLeft(l, "#"))
		if n <= 6 && (n == len(l) || l[n] == ' ' || l[n] == '\t') {
			return "heading"
		}
	case '>':
		return "quote"
	case '`', '~':
		if strings.HasPrefix(l, "```") || strings.HasPrefix(l, "~~~") {
			return "code block"
		}
	case '=':
		if !para && reSetext.MatchString(l) {
			return "heading"
		}
	case '-', '+', '*', '_':
		if reThematic.MatchString(l) {
			return "rule"
		}
		if !para && l[0] == '-' && reSetext.MatchString(l) {
			return "heading"
		}
		if l[0] != '_' && (len(l) == 1 && para || len(l) > 1 && (l[1] == ' ' || l[1] == '\t') && (para || strings.TrimSpace(l[1:]) != "")) {
			return "list"
		}
	}
	if loc := reOrdered.FindStringIndex(l); loc != nil {
		// Only an item numbered 1 with text can interrupt a paragraph.
		num := strings.TrimLeft(l[:strings.IndexAny(l, ".)")], "0")
		if para || num == "1" && strings.TrimSpace(l[loc[1]:]) != "" {
			return "list"
		}
	}
	if !para && strings.Contains(l, "|") && strings.Contains(l, "-") && reDelimRow.MatchString(l) {
		return "table"
	}
	return ""
}
