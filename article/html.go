package article

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// skipped elements disappear with everything inside them. MathML
// (math/semantics) is skipped because scraped formulas carry a visible
// HTML rendering next to it.
var skipped = map[string]bool{
	"script": true, "style": true, "svg": true, "noscript": true, "template": true,
	"head": true, "title": true, "meta": true, "link": true, "base": true,
	"button": true, "input": true, "select": true, "textarea": true, "option": true,
	"object": true, "canvas": true, "map": true, "math": true, "semantics": true,
	"annotation": true, "frame": true, "frameset": true, "dialog": true,
}

// wrappers are block containers whose children are walked: text directly
// inside them becomes paragraphs, and a <br> in them ends a paragraph.
var wrappers = map[string]bool{
	"html": true, "body": true, "div": true, "section": true, "article": true, "main": true,
	"header": true, "footer": true, "aside": true, "nav": true, "center": true,
	"dl": true, "dt": true, "dd": true, "address": true, "details": true, "summary": true,
	"form": true, "fieldset": true, "legend": true, "hgroup": true, "figure": true,
	"caption": true, "tbody": true, "thead": true, "tfoot": true, "tr": true, "td": true, "th": true,
}

// blockish elements make an inline element that contains them a mere
// wrapper (its formatting is lost, its blocks are kept).
var blockish = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"ul": true, "ol": true, "li": true, "blockquote": true, "table": true, "pre": true,
	"hr": true, "figcaption": true, "img": true, "video": true, "audio": true,
	"iframe": true, "embed": true, "menu": true,
}

func isBlockish(tag string) bool {
	return blockish[tag] || (wrappers[tag] && tag != "td" && tag != "th")
}

// sourceLinkTexts are the texts of an archived article's link to its
// original. 原文链接 is always the source link; the others only when the
// link is the article's last block.
var sourceLinkTexts = map[string]bool{"原文链接": true, "阅读原文": false, "原文": false}

// walker turns an HTML tree into blocks. Inline content accumulates in buf
// (inline markdown with sentinels) until a block boundary flushes it as a
// paragraph, heading, list item or quote, depending on the context.
type walker struct {
	blocks []Block
	buf    strings.Builder
	link   *linkMark // the last link written to buf from the flow

	para    bool // <br> is a line break (inside p, li, headings), else a paragraph break
	heading int
	quote   int
	lists   int
	item    *itemState

	leadHeading string        // plain text of a heading that opens the article
	candidates  map[int]Block // paragraphs that are a 阅读原文/原文 link
}

type linkMark struct {
	start, end int
	href, text string
}

type itemState struct {
	level   int
	ordered bool
	number  int
	block   int // index of the ListItem emitted for this item, or -1
}

// parseHTML parses an HTML document or fragment into blocks. For a full
// document (doc), the <title> is returned and a single <article> element,
// if there is one, is taken instead of the whole <body>.
func parseHTML(src string, doc bool) (blocks []Block, title, lead string, err error) {
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return nil, "", "", fmt.Errorf("parse html: %w", err)
	}
	d := goquery.NewDocumentFromNode(root)
	start := d.Find("body").First()
	if doc {
		title = collapse(d.Find("head > title").First().Text())
		if arts := d.Find("article"); arts.Length() == 1 {
			start = arts
		}
	}
	w := &walker{}
	for _, n := range start.Nodes {
		w.node(n)
	}
	w.flush()
	return w.finish(), title, w.leadHeading, nil
}

func (w *walker) walk(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

func (w *walker) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.buf.WriteString(textMD(n.Data, false, true))
		return
	case html.DocumentNode:
		w.walk(n)
		return
	case html.ElementNode:
	default:
		return
	}
	tag := n.Data
	switch {
	case skipped[tag]:
	case tag == "br":
		if w.para {
			w.buf.WriteRune(sHB)
		} else {
			w.flush()
		}
	case tag == "img":
		w.flush()
		w.image(n)
	case tag == "video" || tag == "audio" || tag == "iframe" || tag == "embed":
		w.flush()
		w.media(n)
	case tag == "hr":
		w.flush()
		w.blocks = append(w.blocks, Block{Kind: Rule})
	case tag == "figcaption" && fileNameRE.MatchString(collapse(nodeText(n))):
		// Editors default a caption to the image's file name: not text.
	case tag == "p" || tag == "figcaption":
		w.block(n, true)
	case len(tag) == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6':
		w.flush()
		if len(w.blocks) == 0 && w.leadHeading == "" {
			w.leadHeading = collapse(nodeText(n))
		}
		saved := w.heading
		w.heading = int(tag[1] - '0')
		w.block(n, true)
		w.heading = saved
	case tag == "ul" || tag == "ol" || tag == "menu" || tag == "dir":
		w.flush()
		w.list(n)
	case tag == "li":
		// A list item outside a list.
		w.listItem(n, false, 0)
	case tag == "blockquote":
		w.flush()
		w.quote++
		w.block(n, false)
		w.quote--
	case tag == "table":
		w.flush()
		w.table(n)
	case tag == "pre":
		w.flush()
		if codeLike(n) {
			w.code(n)
		} else {
			w.block(n, false)
		}
	case wrappers[tag]:
		w.block(n, false)
	case tag == "a" || tag == "strong" || tag == "b" || tag == "em" || tag == "i" ||
		tag == "code" || tag == "kbd" || tag == "samp" || tag == "tt" ||
		tag == "del" || tag == "s" || tag == "strike":
		if hasBlockish(n) {
			w.walk(n)
			return
		}
		start := w.buf.Len()
		w.buf.WriteString(inlineMD(n, inlineCtx{}))
		if tag == "a" {
			w.link = &linkMark{start: start, end: w.buf.Len(), href: cleanURL(attr(n, "href")), text: collapse(nodeText(n))}
		}
	default:
		// span, font, sup, sub, u, mark, small, custom elements ...
		w.walk(n)
	}
}

// block walks a block element's children between two flushes, with <br>
// as line break (para) or paragraph break.
func (w *walker) block(n *html.Node, para bool) {
	w.flush()
	saved := w.para
	w.para = para
	w.walk(n)
	w.flush()
	w.para = saved
}

// flush turns the pending inline content into blocks.
func (w *walker) flush() {
	s := w.buf.String()
	w.buf.Reset()
	link := w.link
	w.link = nil
	if isBlank(s) {
		return
	}
	if w.heading > 0 {
		if t := unbold(finishInline(s, true)); hasWords(t) {
			w.blocks = append(w.blocks, Block{Kind: Heading, Level: w.heading, Text: t})
		}
		return
	}
	parts := finishParagraphs(s)
	for _, t := range parts {
		switch {
		case !hasWords(t):
			// Stray punctuation from emptied markup (e.g. "," between icons).
		case w.item != nil && w.item.block >= 0 && w.item.block == len(w.blocks)-1:
			w.blocks[w.item.block].Text += "\\\n" + t
		case w.item != nil && w.item.block < 0:
			w.item.block = len(w.blocks)
			w.blocks = append(w.blocks, Block{Kind: ListItem, Level: w.item.level, Ordered: w.item.ordered, Number: w.item.number, Text: t})
		case w.item == nil && w.quote > 0:
			w.blocks = append(w.blocks, Block{Kind: Quote, Level: w.quote, Text: t})
		default:
			w.blocks = append(w.blocks, Block{Kind: Paragraph, Text: t})
		}
	}
	if link == nil || len(parts) != 1 || w.item != nil || w.quote > 0 || link.href == "" {
		return
	}
	if !isBlank(s[:link.start] + s[link.end:]) {
		return
	}
	always, ok := sourceLinkTexts[link.text]
	if !ok {
		return
	}
	sl := Block{Kind: SourceLink, Src: link.href, Text: link.text}
	if always {
		w.blocks[len(w.blocks)-1] = sl
		return
	}
	if w.candidates == nil {
		w.candidates = map[int]Block{}
	}
	w.candidates[len(w.blocks)-1] = sl
}

// finish applies the rules that need the whole article: a trailing
// 阅读原文/原文 link is the source link, and a rule right before a source
// link (the archive's footer separator) is dropped.
func (w *walker) finish() []Block {
	if n := len(w.blocks); n > 0 {
		if sl, ok := w.candidates[n-1]; ok {
			w.blocks[n-1] = sl
		}
	}
	out := w.blocks[:0]
	for i, b := range w.blocks {
		if b.Kind == Rule && i+1 < len(w.blocks) && w.blocks[i+1].Kind == SourceLink {
			continue
		}
		out = append(out, b)
	}
	return out
}

func (w *walker) list(n *html.Node) {
	ordered := n.Data == "ol"
	num := 1
	if v, err := strconv.Atoi(strings.TrimSpace(attr(n, "start"))); err == nil {
		num = v
	}
	w.lists++
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "li" {
			if v, err := strconv.Atoi(strings.TrimSpace(attr(c, "value"))); err == nil {
				num = v
			}
			w.listItem(c, ordered, num)
			num++
			continue
		}
		w.node(c)
	}
	w.flush()
	w.lists--
}

func (w *walker) listItem(n *html.Node, ordered bool, num int) {
	w.flush()
	savedItem, savedPara := w.item, w.para
	level := max(w.lists-1, 0)
	if !ordered {
		num = 0
	}
	w.item = &itemState{level: level, ordered: ordered, number: num, block: -1}
	w.para = true
	w.walk(n)
	w.flush()
	w.item, w.para = savedItem, savedPara
}

func (w *walker) image(n *html.Node) {
	src := imageSrc(n)
	if src == "" {
		return
	}
	w.blocks = append(w.blocks, Block{Kind: Image, Src: src, Alt: collapse(attr(n, "alt")), Title: collapse(attr(n, "title"))})
}

func (w *walker) media(n *html.Node) {
	src := mediaSrc(n)
	if src == "" {
		return
	}
	label := "video"
	if n.Data == "audio" {
		label = "audio"
	}
	w.blocks = append(w.blocks, Block{Kind: Paragraph, Text: "[" + label + "](" + linkDest(src) + ")"})
}

// codeLike tells a <pre> holding code from one that WeChat uses as a
// wrapper for images and sections. Paragraphs inside a <pre> are lines of
// code (WeChat's editor writes <pre><p>line<br>line</p></pre>), unless
// they hold something that is no code.
func codeLike(n *html.Node) bool {
	ok := true
	var visit func(*html.Node)
	visit = func(c *html.Node) {
		for ; c != nil && ok; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "img", "section", "table", "figure", "video", "iframe", "ul", "ol", "blockquote",
				"h1", "h2", "h3", "h4", "h5", "h6":
				ok = false
				return
			}
			visit(c.FirstChild)
		}
	}
	visit(n.FirstChild)
	return ok
}

func (w *walker) code(n *html.Node) {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(c *html.Node) {
		for ; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				switch {
				case skipped[c.Data]:
				case c.Data == "br":
					b.WriteByte('\n')
				case c.Data == "p" || c.Data == "div":
					// A paragraph is a line (or lines) of its own.
					if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
						b.WriteByte('\n')
					}
					visit(c.FirstChild)
					if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
						b.WriteByte('\n')
					}
				case c.Data == "code" && c.PrevSibling != nil && c.PrevSibling.Data == "code":
					// One <code> per line, as some editors write it.
					if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
						b.WriteByte('\n')
					}
					visit(c.FirstChild)
				default:
					visit(c.FirstChild)
				}
			}
		}
	}
	visit(n.FirstChild)
	text := strings.Map(func(r rune) rune {
		if r == '\u00A0' {
			return ' '
		}
		if dropped(r) && r != '\u00AD' {
			return -1
		}
		return r
	}, b.String())
	text = strings.TrimRight(text, " \t\n")
	text = strings.TrimLeft(text, "\n")
	if strings.TrimSpace(text) == "" {
		return
	}
	w.blocks = append(w.blocks, Block{Kind: Code, Text: text, Lang: codeLang(n)})
}

// codeLang finds the info string of a code block: class language-x or
// lang-x on the <pre> or its <code>, or WeChat's data-lang.
func codeLang(pre *html.Node) string {
	nodes := []*html.Node{pre}
	for c := pre.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "code" {
			nodes = append(nodes, c)
		}
	}
	for _, n := range nodes {
		for _, cls := range strings.Fields(attr(n, "class")) {
			for _, p := range []string{"language-", "lang-"} {
				if l, ok := strings.CutPrefix(cls, p); ok && l != "" {
					return l
				}
			}
		}
		if l := strings.TrimSpace(attr(n, "data-lang")); l != "" && !strings.ContainsAny(l, " \t`") {
			return l
		}
	}
	return ""
}

func (w *walker) table(n *html.Node) {
	var rows [][]*html.Node
	var visit func(*html.Node)
	visit = func(c *html.Node) {
		for ; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "table": // nested: part of a cell, not rows of this table
			case "caption":
				w.block(c, true)
			case "tr":
				var cells []*html.Node
				for td := c.FirstChild; td != nil; td = td.NextSibling {
					if td.Type == html.ElementNode && (td.Data == "td" || td.Data == "th") {
						cells = append(cells, td)
					}
				}
				if len(cells) > 0 {
					rows = append(rows, cells)
				}
			default:
				visit(c.FirstChild)
			}
		}
	}
	visit(n.FirstChild)
	if len(rows) == 0 {
		return
	}
	// A one-cell table is layout, not data.
	if len(rows) == 1 && len(rows[0]) == 1 {
		w.block(rows[0][0], false)
		return
	}
	// A table of images is a gallery.
	onlyImages, anyImage := true, false
	for _, r := range rows {
		for _, c := range r {
			if !isBlank(nodeText(c)) {
				onlyImages = false
			} else if hasTag(c, "img") {
				anyImage = true
			}
		}
	}
	if onlyImages {
		if anyImage {
			w.block(n, false)
		}
		return
	}
	var out [][]string
	cols, empty := 0, true
	for _, r := range rows {
		row := make([]string, len(r))
		for i, c := range r {
			row[i] = finishInline(inlineMD(c, inlineCtx{cell: true}), true)
			if row[i] != "" {
				empty = false
			}
		}
		cols = max(cols, len(row))
		out = append(out, row)
	}
	if empty {
		return
	}
	for i, r := range out {
		for len(r) < cols {
			r = append(r, "")
		}
		out[i] = r
	}
	w.blocks = append(w.blocks, Block{Kind: Table, Rows: out})
}

// inlineCtx is the state of inline rendering.
type inlineCtx struct {
	bold, em, strike bool
	link             bool // inside a link: no autolinks
	cell             bool // inside a table cell: breaks are spaces, images inline
}

// inlineMD renders an element and its content as inline markdown with
// sentinels (see finishInline).
func inlineMD(n *html.Node, ctx inlineCtx) string {
	var b strings.Builder
	inlineNode(&b, n, ctx)
	return b.String()
}

func inlineChildren(n *html.Node, ctx inlineCtx) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		inlineNode(&b, c, ctx)
	}
	return b.String()
}

func inlineNode(b *strings.Builder, n *html.Node, ctx inlineCtx) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(textMD(n.Data, ctx.cell, !ctx.link))
		return
	case html.ElementNode:
	default:
		return
	}
	switch tag := n.Data; {
	case skipped[tag]:
	case tag == "br":
		if ctx.cell {
			b.WriteByte(' ')
		} else {
			b.WriteRune(sHB)
		}
	case tag == "strong" || tag == "b":
		if ctx.bold {
			b.WriteString(inlineChildren(n, ctx))
			return
		}
		ctx.bold = true
		b.WriteString(wrapDelims(inlineChildren(n, ctx), sBO, sBC))
	case tag == "em" || tag == "i":
		if ctx.em {
			b.WriteString(inlineChildren(n, ctx))
			return
		}
		ctx.em = true
		b.WriteString(wrapDelims(inlineChildren(n, ctx), sEO, sEC))
	case tag == "del" || tag == "s" || tag == "strike":
		if ctx.strike {
			b.WriteString(inlineChildren(n, ctx))
			return
		}
		ctx.strike = true
		b.WriteString(wrapDelims(inlineChildren(n, ctx), sSO, sSC))
	case tag == "code" || tag == "kbd" || tag == "samp" || tag == "tt":
		b.WriteString(codeSpan(nodeText(n)))
	case tag == "a":
		b.WriteString(linkMD(n, ctx))
	case tag == "img":
		if ctx.cell {
			if src := imageSrc(n); src != "" {
				b.WriteString("![" + textMD(collapse(attr(n, "alt")), true, false) + "](" + linkDest(src) + ")")
			}
		}
	case tag == "video" || tag == "audio" || tag == "iframe" || tag == "embed":
		if src := mediaSrc(n); src != "" && ctx.cell {
			b.WriteString("[video](" + linkDest(src) + ")")
		}
	case isBlockish(tag):
		b.WriteByte(' ')
		b.WriteString(inlineChildren(n, ctx))
		b.WriteByte(' ')
	default:
		b.WriteString(inlineChildren(n, ctx))
	}
}

// linkMD renders <a> as [text](href). Links without a usable target keep
// their text only; a link whose text is its URL becomes an autolink.
func linkMD(n *html.Node, ctx inlineCtx) string {
	ctx.link = true
	inner := inlineChildren(n, ctx)
	// A link cannot hold a paragraph break.
	inner = strings.ReplaceAll(inner, string(sHB), " ")
	href := cleanURL(attr(n, "href"))
	if isBlank(inner) || !usableHref(href) {
		return inner
	}
	text := strings.TrimSpace(collapse(nodeText(n)))
	if text == href && !strings.ContainsAny(href, " <>") && strings.Contains(href, ":") {
		return "<" + href + ">"
	}
	return wrapLink(inner, linkDest(href))
}

// wrapLink puts [ ] around inner, keeping edge whitespace outside.
func wrapLink(inner, dest string) string {
	rs := []rune(inner)
	i, j := 0, len(rs)
	for i < j && isEdgeSpace(rs[i]) {
		i++
	}
	for j > i && isEdgeSpace(rs[j-1]) {
		j--
	}
	return string(rs[:i]) + "[" + string(rs[i:j]) + "](" + dest + ")" + string(rs[j:])
}

func usableHref(h string) bool {
	if h == "" || strings.HasPrefix(h, "#") {
		return false
	}
	l := strings.ToLower(h)
	for _, p := range []string{"javascript:", "vbscript:", "data:"} {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	return true
}

// cleanURL trims an attribute value to a URL. The archive writes
// href="URL",target="_blank"; an HTML parser already stops at the quote,
// but other paths (unquoted values) can leave the junk attached.
func cleanURL(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.IndexAny(u, "\"'"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, ",target="); i >= 0 {
		u = u[:i]
	}
	u = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, u)
	u = strings.TrimRight(u, ",")
	if strings.HasPrefix(u, "//") {
		u = "https:" + u
	}
	return u
}

// linkDest makes a URL safe as a markdown link destination.
func linkDest(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(u)
}

// imageSrc picks the real image URL: lazy-loading pages keep it in data-*
// attributes and put a placeholder (often a data: URI) in src.
func imageSrc(n *html.Node) string {
	src := cleanURL(attr(n, "src"))
	if src != "" && !strings.HasPrefix(strings.ToLower(src), "data:") {
		return src
	}
	for _, a := range []string{"data-src", "data-original", "data-cfsrc", "data-actualsrc", "data-lazy-src"} {
		if s := cleanURL(attr(n, a)); s != "" {
			return s
		}
	}
	return src
}

func mediaSrc(n *html.Node) string {
	for _, a := range []string{"src", "data-src"} {
		if s := cleanURL(attr(n, a)); s != "" {
			return s
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "source" {
			if s := cleanURL(attr(c, "src")); s != "" {
				return s
			}
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val
		}
	}
	return ""
}

// nodeText is the text content of n without skipped elements.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(c *html.Node) {
		switch c.Type {
		case html.TextNode:
			b.WriteString(c.Data)
			return
		case html.ElementNode:
			if skipped[c.Data] {
				return
			}
			if c.Data == "br" {
				b.WriteByte(' ')
			}
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			visit(k)
		}
	}
	visit(n)
	return b.String()
}

// collapse collapses whitespace and drops invisible characters: for
// attribute values and plain titles.
func collapse(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if dropped(r) {
			continue
		}
		if isCollapsible(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

var fileNameRE = regexp.MustCompile(`(?i)^[\w.-]+\.(png|jpe?g|gif|webp|bmp|svg)$`)

// hasWords reports whether markdown text has any letter, digit or symbol
// (emoji included), i.e. is more than punctuation and markup.
func hasWords(t string) bool {
	for _, r := range t {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || (unicode.IsSymbol(r) && r != '`' && r != '^') {
			return true
		}
	}
	return false
}

// unbold drops bold that covers a whole heading: headings are bold anyway.
func unbold(t string) string {
	if inner, ok := strings.CutPrefix(t, "**"); ok {
		if inner, ok = strings.CutSuffix(inner, "**"); ok && !strings.Contains(inner, "**") && inner != "" {
			return inner
		}
	}
	return t
}

func hasBlockish(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && !skipped[c.Data] && (isBlockish(c.Data) || hasBlockish(c)) {
			return true
		}
	}
	return false
}

func hasTag(n *html.Node, tag string) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == tag || hasTag(c, tag)) {
			return true
		}
	}
	return false
}
