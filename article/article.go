// Package article is xlate's document model: an article is its front matter
// plus an ordered list of blocks (paragraphs, headings, list items, quotes,
// tables, images, code, rules and the source link).
//
// The package parses UTF-8 or GB18030 input in four shapes (Hugo-style front
// matter over raw HTML, markdown, HTML, plain text) into that model. It knows
// nothing of LLMs, caches, flags or the filesystem: it reads what it is given.
package article

import (
	"strings"
	"unicode"
)

// Kind says what a Block is.
type Kind int

// The block kinds, in no particular order.
const (
	Paragraph  Kind = iota // Text: inline markdown
	Heading                // Text: inline markdown; Level: 1..6
	ListItem               // Text: inline markdown; Level: nesting depth from 0; Ordered, Number
	Quote                  // Text: inline markdown of one quoted paragraph; Level: quote depth from 1
	Table                  // Rows: cells of inline markdown, Rows[0] is the header row
	Image                  // Src, Alt, Title; never translated
	Code                   // Text: verbatim code; Lang: info string; never translated
	Rule                   // a thematic break
	SourceLink             // Src: the original article's URL; Text: the link text (e.g. 原文链接)
)

var kindNames = [...]string{"paragraph", "heading", "list-item", "quote", "table", "image", "code", "rule", "source-link"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Block is one unit of an article's body.
type Block struct {
	Kind    Kind
	Text    string
	Level   int
	Ordered bool
	Number  int
	Lang    string
	Src     string
	Alt     string
	Title   string
	Rows    [][]string
}

// Translatable reports whether the block carries text for the model.
func (b Block) Translatable() bool {
	switch b.Kind {
	case Paragraph, Heading, ListItem, Quote, Table:
		return true
	}
	return false
}

// Format is the syntax of an article's front matter.
type Format int

// Front matter formats.
const (
	NoFrontMatter Format = iota
	YAML                 // between --- lines
	TOML                 // between +++ lines
	JSON                 // a JSON object at the top of the file
)

func (f Format) String() string {
	return [...]string{"none", "yaml", "toml", "json"}[f]
}

// FrontMatter is an article's metadata, kept verbatim so that it can be
// written back with every key intact.
type FrontMatter struct {
	Format Format
	// Raw is the front matter text without its delimiter lines (for JSON,
	// the whole object including braces).
	Raw string
	// Fields is Raw decoded, for reading values such as the title.
	Fields map[string]any
}

// Article is a parsed input file.
type Article struct {
	Meta FrontMatter
	// Title is the article's title: from the front matter, else from the
	// "TITLE by SOURCE" header, else from a leading heading; may be empty.
	Title string
	// Source is the SOURCE of a "TITLE by SOURCE" header, e.g. "cnbeta".
	Source string
	Blocks []Block
}

// Segment is one piece of translatable text and where it sits.
type Segment struct {
	Block int // index into Article.Blocks, or -1 for a front matter field
	Row   int // table row, or -1
	Col   int // table column, or -1
	// Attr is "" for a block's text or a table cell, AttrAlt or AttrTitle
	// for an image's text, AttrDescription for the front matter's
	// description.
	Attr string
	Text string
}

// The attributes a Segment can stand for besides block text.
const (
	AttrAlt         = "alt"
	AttrTitle       = "title"
	AttrDescription = "description"
)

// Segments lists the article's translatable text in document order: the
// front matter's description (a string), then one segment per paragraph,
// heading, list item and quote, and one per non-empty table cell. With
// images, the alt and title texts of images that hold Chinese are listed
// too, where the image stands. The title is not included.
func (a *Article) Segments(images bool) []Segment {
	var segs []Segment
	if d, ok := a.Meta.Fields[AttrDescription].(string); ok && strings.TrimSpace(d) != "" {
		segs = append(segs, Segment{Block: -1, Row: -1, Col: -1, Attr: AttrDescription, Text: strings.TrimSpace(d)})
	}
	for i, b := range a.Blocks {
		switch {
		case b.Kind == Table:
			for r, row := range b.Rows {
				for c, cell := range row {
					if cell != "" {
						segs = append(segs, Segment{Block: i, Row: r, Col: c, Text: cell})
					}
				}
			}
		case b.Kind == Image && images:
			for _, at := range []struct{ attr, text string }{{AttrAlt, b.Alt}, {AttrTitle, b.Title}} {
				if t := strings.TrimSpace(at.text); hasHan(t) {
					segs = append(segs, Segment{Block: i, Row: -1, Col: -1, Attr: at.attr, Text: t})
				}
			}
		case b.Translatable() && b.Text != "":
			segs = append(segs, Segment{Block: i, Row: -1, Col: -1, Text: b.Text})
		}
	}
	return segs
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}
