// Package render writes a parsed, translated article as Hugo-ready markdown.
//
// [Markdown] takes a [Document] (the article, its English title, one
// translation per [article.Article.Segments] segment, the summary and the
// model name) and writes front matter plus a body in one of two layouts.
//
// # Front matter
//
// The article's own front matter (YAML, TOML or JSON) is written back in its
// own format with every key in its original order, value and style; title is
// set to the English title, and original_title, summary and
// translation_model are added (or replaced if present). An article without
// front matter gets a new YAML one. See frontmatter.go.
//
// # Bilingual layout
//
// Blocks are separated by one blank line. The summary, when there is one,
// comes first:
//
//	**TL;DR:** <summary>
//
//	- <point>
//	- <point>
//
//	<!--more-->
//
// Then each block, the original first and the translation always inside a
// block quote:
//
//   - paragraph: the original, a blank line, "> translation".
//   - heading: "## 原文", a blank line, "## Translation" (same level).
//   - list item: "- original" or "N. original", and on the next line,
//     indented to the item's content, "> translation" (a block quote inside
//     the item). Nested items are indented to their parent's content column.
//     Consecutive items form one tight list.
//   - quote: "> original", a ">" line, then "> > translation": the
//     translation is a quote nested in the original quote, which renders as a
//     visibly distinct inner box in goldmark/Hugo (italics were rejected:
//     they break on translations that contain * or _). Consecutive quotes of
//     one depth share a block quote, separated by ">" lines.
//   - table: the original GFM table, a blank line, then the translated table
//     (same shape; empty cells stay empty) with "> " before every line.
//   - image: ![alt](src "title"), once.
//   - code: a fence longer than any backtick run in the code, with the
//     language, once.
//   - rule: "---" (after a blank line, so never a setext underline).
//   - source link: "[原文链接](URL)" with the original link text.
//
// # English layout
//
// The same, with only the translation and nothing quoted that was not a
// quote: plain paragraphs, headings once, "- translation" items,
// "> translation" quotes, translated tables, "[Original article](URL)".
//
// # Escaping
//
// Text is inline markdown. A line that would read as block syntax (#, >,
// list markers, "1." or "1)", thematic breaks and setext underlines, fences,
// HTML block starts, table delimiter rows, link reference definitions,
// definition list colons) gets a backslash escape; leading white space is
// dropped, so no line becomes indented code. Table cells escape | and use
// <br> for line breaks. Every line of a multi-line text carries its
// container's prefix (quote marker or list indent).
//
// The output ends with one newline, has no trailing white space other than
// two-space hard breaks and never three blank lines in a row; code blocks
// are written verbatim and are the only exception.
//
// # Reading back
//
// [Read] is the inverse of [Markdown]: from an output file, possibly edited
// by hand, and the article it was rendered from, it returns the
// translations the file shows ([Slots]), or an error wrapping
// [ErrRestructured] when the file no longer has the structure Markdown
// gives the article. [Canon] and [CanonSlots] give the form in which Read
// returns a translation. [Document.Keep] carries front matter entries of
// the replaced file into the new one (see keep.go).
package render

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xlate/xlate/article"
)

// Layout selects what the body shows.
type Layout int

// The layouts.
const (
	Bilingual Layout = iota // original, then the translation in a block quote
	English                 // the translation only
)

// String returns the layout's name as [ParseLayout] accepts it.
func (l Layout) String() string {
	switch l {
	case Bilingual:
		return "bilingual"
	case English:
		return "english"
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// ParseLayout parses "bilingual" or "english" (case and surrounding space
// are ignored).
func ParseLayout(s string) (Layout, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bilingual":
		return Bilingual, nil
	case "english":
		return English, nil
	}
	return 0, fmt.Errorf("render: unknown layout %q (want bilingual or english)", s)
}

// Document is what gets rendered: an article and its translation.
type Document struct {
	Article *article.Article
	// Title is the English title; "" if the article has none.
	Title string
	// Segments are the translations, one per segment of
	// Article.Segments(layout == English) in the same order. An empty
	// translation, or one equal to its original, shows the original once.
	Segments []string
	// Lang is the language code of the output in a Hugo multilingual site
	// (name.en.md beside name.md: "en"), or "" for a site of its own. url
	// and aliases get it as a prefix, so that the two languages' pages do
	// not share a path.
	Lang string
	// TLDR is a one-sentence summary; "" means no summary section.
	TLDR string
	// Points are the summary's key points (shown only with a TLDR).
	Points []string
	// Model is the model that translated the article.
	Model string
	// Keep, when set, is the front matter of the output file being
	// replaced (as Read returns it in Slots.Meta); the entries of its
	// top-level keys KeepKeys are copied into the new front matter,
	// replacing the new value of that key if it has one, else appended.
	// They are copied byte for byte when the formats are the same
	// (comment lines directly above an entry included), re-encoded
	// otherwise. See keep.go.
	Keep     *article.FrontMatter
	KeepKeys []string
}

// Markdown writes d as a markdown file (front matter and body) to w. It
// fails if d has no article, if the number of translations differs from
// the number of segments, or if the front matter cannot be edited.
func Markdown(w io.Writer, d Document, layout Layout) error {
	if d.Article == nil {
		return errors.New("render: no article")
	}
	if layout != Bilingual && layout != English {
		return fmt.Errorf("render: unknown layout %d", int(layout))
	}
	r, err := newRenderer(d, layout)
	if err != nil {
		return err
	}
	body := r.body()
	fm, err := frontMatter(d, r.attrs[attrKey{-1, article.AttrDescription}])
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if fm == "" && (strings.HasPrefix(body, "---") || strings.HasPrefix(body, "+++") || strings.HasPrefix(body, "{")) {
		// Hugo would read the start of the body as front matter.
		fm = "---\n---\n"
	}
	var out string
	switch {
	case fm == "":
		out = body
	case body == "":
		out = fm
	default:
		out = fm + "\n" + body
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("render: write: %w", err)
	}
	return nil
}

type (
	cellKey struct{ block, row, col int }
	attrKey struct {
		block int
		attr  string
	}
)

type renderer struct {
	a      *article.Article
	d      Document
	layout Layout
	// The translations that say something new: model text made inert (see
	// inert), none that only repeats its original.
	text  map[int]string     // block index -> translation
	cells map[cellKey]string // table cell -> translation
	attrs map[attrKey]string // image alt and title, front matter description -> translation
}

func newRenderer(d Document, layout Layout) (*renderer, error) {
	segs := d.Article.Segments(layout == English)
	if len(segs) != len(d.Segments) {
		return nil, fmt.Errorf("render: %d translations for %d segments", len(d.Segments), len(segs))
	}
	r := &renderer{a: d.Article, d: d, layout: layout, text: map[int]string{}, cells: map[cellKey]string{}, attrs: map[attrKey]string{}}
	for i, s := range segs {
		tr := strings.TrimSpace(d.Segments[i])
		if tr == "" || tr == strings.TrimSpace(s.Text) {
			continue // nothing to translate: the original shows once
		}
		tr = inert(tr)
		switch {
		case s.Attr != "":
			r.attrs[attrKey{s.Block, s.Attr}] = tr
		case s.Row >= 0:
			r.cells[cellKey{s.Block, s.Row, s.Col}] = tr
		default:
			r.text[s.Block] = tr
		}
	}
	return r, nil
}

// body returns the rendered body ending in one newline, or "" if empty.
func (r *renderer) body() string {
	var parts []string
	if s := r.summary(); s != "" {
		parts = append(parts, s)
	}
	blocks := r.a.Blocks
	for i := 0; i < len(blocks); {
		b := blocks[i]
		var s string
		switch b.Kind {
		case article.ListItem:
			j := i
			for j < len(blocks) && blocks[j].Kind == article.ListItem {
				j++
			}
			s = r.list(i, j)
			i = j
		case article.Quote:
			j := i
			for j < len(blocks) && blocks[j].Kind == article.Quote && quoteDepth(blocks[j]) == quoteDepth(b) {
				j++
			}
			s = r.quotes(i, j)
			i = j
		default:
			s = r.block(i)
			i++
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "\n\n") + "\n"
}

// summary renders the TL;DR section, or "" without a TLDR. It has no
// <!--more--> divider: Hugo's .Summary is the summary front matter key,
// which a divider would override.
func (r *renderer) summary() string {
	tldr := textLines(inert(r.d.TLDR), false, true)
	if len(tldr) == 0 {
		return ""
	}
	tldr[0] = "**TL;DR:** " + tldr[0]
	parts := []string{strings.Join(tldr, "\n")}
	var pts []string
	for _, p := range r.d.Points {
		if lines := textLines(inert(p), false, false); len(lines) > 0 {
			pts = append(pts, prefixLines(lines, "- ", "  "))
		}
	}
	if len(pts) > 0 {
		parts = append(parts, strings.Join(pts, "\n"))
	}
	return strings.Join(parts, "\n\n")
}

// translation returns block i's translation ("" if none, or if it only
// repeats the original).
func (r *renderer) translation(i int) string { return r.text[i] }

// shown returns the text the English layout shows for block i: the
// translation, or the original when the translation is empty.
func (r *renderer) shown(i int) string {
	if t := r.translation(i); t != "" {
		return t
	}
	return r.a.Blocks[i].Text
}

// block renders block i (not a list item or quote), or "" if it shows
// nothing.
func (r *renderer) block(i int) string {
	b := r.a.Blocks[i]
	bi := r.layout == Bilingual
	switch b.Kind {
	case article.Paragraph:
		if !bi {
			return strings.Join(textLines(r.shown(i), true, false), "\n")
		}
		orig := strings.Join(textLines(b.Text, true, false), "\n")
		tr := textLines(r.translation(i), true, false)
		if len(tr) == 0 {
			return orig
		}
		return joinNonEmpty("\n\n", orig, prefixLines(tr, "> ", "> "))
	case article.Heading:
		level := min(max(b.Level, 1), 6)
		h := func(s string) string {
			s = headingText(s)
			if s == "" {
				return ""
			}
			return strings.Repeat("#", level) + " " + s
		}
		if !bi {
			return h(r.shown(i))
		}
		// One heading per source heading (one entry in Hugo's table of
		// contents); its translation follows as a quote, like a paragraph's.
		return joinNonEmpty("\n\n", h(b.Text), prefixLines(textLines(oneLine(r.translation(i)), false, false), "> ", "> "))
	case article.Table:
		return r.table(i)
	case article.Image:
		if strings.TrimSpace(b.Src) == "" {
			return ""
		}
		alt, title := b.Alt, b.Title
		if !bi {
			alt = r.attr(i, article.AttrAlt, alt)
			title = r.attr(i, article.AttrTitle, title)
		}
		s := "![" + linkTextReplacer.Replace(alt) + "](" + linkDest(b.Src)
		if t := strings.TrimSpace(title); t != "" {
			s += ` "` + linkTitleReplacer.Replace(t) + `"`
		}
		return s + ")"
	case article.Code:
		return codeBlock(b.Text, b.Lang)
	case article.Rule:
		return "---"
	case article.SourceLink:
		if strings.TrimSpace(b.Src) == "" {
			return ""
		}
		text := "Original article"
		if bi {
			text = oneLine(b.Text)
			if text == "" {
				text = "原文链接"
			}
		}
		return "[" + text + "](" + linkDest(b.Src) + ")"
	}
	return ""
}

// attr returns the translation of image i's attribute, or orig without one.
func (r *renderer) attr(i int, attr, orig string) string {
	if t, ok := r.attrs[attrKey{i, attr}]; ok {
		return t
	}
	return orig
}

// headingText makes s one heading line; a closing run of # is escaped so
// that it is not taken for the optional closing sequence.
func headingText(s string) string {
	s = oneLine(s)
	t := strings.TrimRight(s, "#")
	if t != s && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		s = t + `\` + s[len(t):]
	}
	return s
}

// list renders the consecutive list items blocks[i:j] as one list.
func (r *renderer) list(i, j int) string {
	text := func(k int) []string {
		if r.layout == English {
			return textLines(r.shown(k), false, false)
		}
		return textLines(r.a.Blocks[k].Text, false, false)
	}
	var lines []string
	for _, it := range r.listItems(i, j, text) {
		lines = append(lines, prefixLines(it.lines, it.lead, it.cont))
		if r.layout == Bilingual {
			if tr := textLines(r.translation(it.k), true, false); len(tr) > 0 {
				lines = append(lines, prefixLines(tr, it.cont+"> ", it.cont+"> "))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// listItem is one item of a rendered list: block k, its text lines and
// the prefixes of its first line (indent and marker) and of the others.
type listItem struct {
	k          int
	lines      []string
	lead, cont string
}

// listItems lays out the list items blocks[i:j] with text(k) as item k's
// lines; an item without lines is left out. Read uses it too.
func (r *renderer) listItems(i, j int, text func(k int) []string) []listItem {
	var cols []int   // content column of the last item at each level
	var counts []int // items so far at each level, for unnumbered items
	var items []listItem
	for k := i; k < j; k++ {
		b := r.a.Blocks[k]
		first := text(k)
		if len(first) == 0 {
			continue
		}
		level := min(max(b.Level, 0), len(cols))
		indent := 0
		if level > 0 {
			indent = cols[level-1]
		}
		counts = append(counts[:min(level+1, len(counts))], make([]int, max(0, level+1-len(counts)))...)
		counts[level]++
		marker := "-"
		if b.Ordered {
			n := b.Number
			if n <= 0 {
				n = counts[level]
			}
			marker = strconv.Itoa(min(n, 999999999)) + "."
		}
		pad := strings.Repeat(" ", indent)
		cont := pad + strings.Repeat(" ", len(marker)+1)
		cols = append(cols[:level], len(cont))
		items = append(items, listItem{k: k, lines: first, lead: pad + marker + " ", cont: cont})
	}
	return items
}

func quoteDepth(b article.Block) int { return min(max(b.Level, 1), 20) }

// quotes renders the consecutive quotes blocks[i:j], all of one depth, as
// one block quote.
func (r *renderer) quotes(i, j int) string {
	p := strings.Repeat("> ", quoteDepth(r.a.Blocks[i]))
	sep := strings.TrimRight(p, " ")
	var parts []string
	for k := i; k < j; k++ {
		b := r.a.Blocks[k]
		if r.layout == English {
			if l := textLines(r.shown(k), true, false); len(l) > 0 {
				parts = append(parts, prefixLines(l, p, p))
			}
			continue
		}
		orig := textLines(b.Text, true, false)
		if len(orig) == 0 {
			continue
		}
		s := prefixLines(orig, p, p)
		if tr := textLines(r.translation(k), true, false); len(tr) > 0 {
			s += "\n" + sep + "\n" + prefixLines(tr, p+"> ", p+"> ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n"+sep+"\n")
}

// table renders table block i: the original and the quoted translation
// (bilingual) or the translation alone (English).
func (r *renderer) table(i int) string {
	b := r.a.Blocks[i]
	orig := func(row, col int) string { return b.Rows[row][col] }
	translated := false
	tr := func(row, col int) string {
		if t, ok := r.cells[cellKey{i, row, col}]; ok {
			translated = true
			return t
		}
		return b.Rows[row][col]
	}
	if r.layout == English {
		return gfmTable(b.Rows, tr)
	}
	o := gfmTable(b.Rows, orig)
	t := gfmTable(b.Rows, tr)
	if o == "" || !translated {
		return o // nothing translated: the table shows once
	}
	return o + "\n\n" + prefixLines(strings.Split(t, "\n"), "> ", "> ")
}

// gfmTable writes a GFM table shaped like rows with cell text from text.
// Short rows are padded with empty cells.
func gfmTable(rows [][]string, text func(row, col int) string) string {
	cols := 0
	for _, row := range rows {
		cols = max(cols, len(row))
	}
	if cols == 0 {
		return ""
	}
	line := func(cells []string) string {
		return strings.TrimRight("| "+strings.Join(cells, " | ")+" |", " ")
	}
	var out []string
	for ri, row := range rows {
		cells := make([]string, cols)
		for c := range row {
			if row[c] != "" {
				cells[c] = cell(text(ri, c))
			}
		}
		out = append(out, line(cells))
		if ri == 0 {
			d := make([]string, cols)
			for c := range d {
				d[c] = "---"
			}
			out = append(out, line(d))
		}
	}
	return strings.Join(out, "\n")
}

// codeBlock fences code with a fence longer than any run of the fence
// character inside (backticks, or tildes when the info string holds a
// backtick, which a backtick fence's info string cannot).
func codeBlock(code, lang string) string {
	code = strings.ReplaceAll(code, "\r\n", "\n")
	code = strings.TrimSuffix(code, "\n")
	lang = strings.Join(strings.Fields(lang), " ")
	ch := "`"
	if strings.Contains(lang, "`") {
		ch = "~"
	}
	run, longest := 0, 0
	for _, c := range code {
		if string(c) == ch {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat(ch, max(3, longest+1))
	if code == "" {
		return fence + lang + "\n" + fence
	}
	return fence + lang + "\n" + code + "\n" + fence
}

// prefixLines puts first before the first line and rest before the others;
// a blank line gets the prefix without its trailing spaces.
func prefixLines(lines []string, first, rest string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			b.WriteString(strings.TrimRight(p, " "))
			continue
		}
		b.WriteString(p + l)
	}
	return b.String()
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
