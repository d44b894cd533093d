package article

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// Syntax is the syntax of an article's body, below its front matter.
type Syntax int

// The body syntaxes. SyntaxAuto finds the syntax from the content.
const (
	SyntaxAuto Syntax = iota
	SyntaxHTML
	SyntaxMarkdown
	SyntaxText
)

var syntaxNames = [...]string{"auto", "html", "markdown", "text"}

func (s Syntax) String() string {
	if s < 0 || int(s) >= len(syntaxNames) {
		return "unknown"
	}
	return syntaxNames[s]
}

// ParseSyntax parses a syntax name as [Syntax.String] writes it ("" is
// auto; case and surrounding space are ignored).
func ParseSyntax(name string) (Syntax, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return SyntaxAuto, nil
	}
	for i, s := range syntaxNames {
		if n == s {
			return Syntax(i), nil
		}
	}
	return SyntaxAuto, fmt.Errorf("unknown format %q (want auto, html, markdown or text)", name)
}

// Parse parses one input into an Article. The file name plays no part:
// a file and the same bytes on standard input give the same Article.
//
// Front matter is found by its content in every input: YAML between "---"
// lines, TOML between "+++" lines, a JSON object opened by "{" and closed
// by its matching "}" (on several lines or on one, as Hugo reads it), and
// the "---yaml", "---toml", "---json" and ";;;" openers of
// github.com/adrg/frontmatter. Then an optional archive header (a
// "TITLE by SOURCE" line over a "------" line). Then the body, whose syntax
// is s or, with [SyntaxAuto], found from the content:
//
//   - HTML when the body starts with a tag or a doctype, or when it holds
//     block-level HTML tags (<p>, <div>, <br>, <table>, …). An HTML
//     document's <title> is the title when there is no other, and a single
//     <article> element is taken instead of the whole <body>.
//   - Markdown (CommonMark with GFM tables, strikethrough, autolinks and
//     task lists) when the input has front matter or an archive header, as
//     a Hugo content file's body is markdown, or when it shows markdown
//     syntax (headings, fences, lists, quotes, tables, images, links,
//     emphasis, code spans).
//   - Plain text otherwise: paragraphs at blank lines; a text with no blank
//     line at all has one paragraph per line. Plain text has no title of
//     its own.
//
// Text becomes inline markdown: emphasis, links and code spans are kept,
// markdown-special characters are escaped so that text renders literally,
// whitespace collapses as in a browser, except that a line break between
// two CJK characters is dropped rather than made a space.
//
// In archived articles the trailing link to the original (原文链接; or 阅读原文
// and 原文 as the last block) becomes a SourceLink block and the <hr> or
// "---" before it is dropped. When no title is found elsewhere, the text of
// a heading that opens the body is the title; the heading stays a block.
//
// Errors are short, lowercase and one line, without a file name, and wrap
// [ErrEmpty], [ErrBinary], [ErrEncoding] or [ErrFrontMatter] where they
// apply; a front matter error names the file's line when the decoder gives
// one. Parse never panics. Input with nothing but white space is
// [ErrEmpty]; front matter without a body is an Article without blocks.
func Parse(data []byte, s Syntax) (*Article, error) {
	text, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }) == "" {
		return nil, ErrEmpty
	}
	fm, body, err := splitFrontMatter(text)
	if err != nil {
		return nil, err
	}
	a := &Article{Meta: fm}
	if t, ok := fm.Fields["title"].(string); ok {
		a.Title = strings.TrimSpace(t)
	}
	hugoFile := fm.Format != NoFrontMatter
	if title, source, rest, ok := splitHeader(body); ok {
		if a.Title == "" {
			a.Title = title
		}
		a.Source = source
		body = rest
		hugoFile = true
	}
	if s == SyntaxAuto {
		s = sniff(body, hugoFile)
	}
	var lead, docTitle string
	switch s {
	case SyntaxHTML:
		a.Blocks, docTitle, lead, err = parseHTML(body, !hugoFile || isHTMLDocument(body))
	case SyntaxMarkdown:
		a.Blocks, lead, err = parseMarkdown(body)
	default:
		a.Blocks = parsePlain(body)
	}
	if err != nil {
		return nil, err
	}
	if a.Title == "" {
		a.Title = docTitle
	}
	if a.Title == "" && lead != "" && len(a.Blocks) > 0 && a.Blocks[0].Kind == Heading {
		a.Title = lead
	}
	return a, nil
}

// ErrEmpty reports input with no text at all: zero bytes or only white
// space.
var ErrEmpty = errors.New("empty file")

// sniff finds the syntax of a body; hugoFile says that the input had front
// matter or an archive header.
func sniff(body string, hugoFile bool) Syntax {
	switch {
	case tagStartRE.MatchString(body), isHTMLDocument(body):
		return SyntaxHTML
	case hugoFile:
		return SyntaxMarkdown
	case blockTagRE.MatchString(body):
		return SyntaxHTML
	case markdownRE.MatchString(body):
		return SyntaxMarkdown
	}
	return SyntaxText
}

var (
	blockTagRE = regexp.MustCompile(`(?i)<(p|div|br|table|h[1-6]|ul|ol|li|section|article|blockquote|pre|figure|body)[\s/>]`)
	markdownRE = regexp.MustCompile(`(?m)^(#{1,6}[ \t]+\S|` + "```" + `|~~~|[ \t]{0,3}[-*+][ \t]+\S|[ \t]{0,3}\d{1,9}[.)][ \t]+\S|>[ \t]?\S|\|.*\|[ \t]*$)|!\[[^\]\n]*\]\([^)\n]+\)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\s][^*\n]*\*\*|__[^_\s][^_\n]*__|` + "`[^`\\n]+`" +
		`|\\[!-/:-@\[-` + "`" + `{-~]|\\$|^\S.*\n(=+|-+)[ \t]*$`)
	doctypeRE  = regexp.MustCompile(`(?i)^\s*(<!doctype\s+html|<html[\s>])`)
	tagStartRE = regexp.MustCompile(`^\s*<([A-Za-z][A-Za-z0-9-]*[\s/>]|!--|!doctype)`)
)

func isHTMLDocument(text string) bool { return doctypeRE.MatchString(text) }

// splitHeader recognises the archive header: a "TITLE by SOURCE" line
// followed by a line of dashes (or equals signs), after optional blank
// lines. It returns the title, the source and the text after the header.
func splitHeader(body string) (title, source, rest string, ok bool) {
	s := strings.TrimLeft(body, " \t\n")
	line1, after, found := strings.Cut(s, "\n")
	if !found {
		return "", "", body, false
	}
	line2, rest, _ := strings.Cut(after, "\n")
	u := strings.TrimSpace(line2)
	if len(u) < 2 || (strings.Trim(u, "-") != "" && strings.Trim(u, "=") != "") {
		return "", "", body, false
	}
	// The archiver writes "TITLE by " when it has no source.
	l := strings.TrimSpace(line1) + " "
	i := strings.LastIndex(l, " by ")
	if i < 0 {
		return "", "", body, false
	}
	title, source = strings.TrimSpace(l[:i]), strings.TrimSpace(l[i+len(" by "):])
	if title == "" || strings.HasPrefix(l, "<") {
		return "", "", body, false
	}
	return title, source, rest, true
}

var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
)

// parseMarkdown renders markdown to HTML and walks that.
func parseMarkdown(src string) ([]Block, string, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return nil, "", fmt.Errorf("render markdown: %w", err)
	}
	blocks, _, lead, err := parseHTML(buf.String(), false)
	return blocks, lead, err
}

// parsePlain splits plain text into paragraphs at blank lines, or into
// one paragraph per line when the text has no blank line at all. Lines of
// a paragraph are joined like soft line breaks.
func parsePlain(text string) []Block {
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	blankLines := false
	for _, l := range lines {
		if isBlank(l) {
			blankLines = true
			break
		}
	}
	var blocks []Block
	var para []string
	emit := func() {
		if t := escapeText(strings.Join(para, "\n")); t != "" {
			blocks = append(blocks, Block{Kind: Paragraph, Text: t})
		}
		para = para[:0]
	}
	for _, l := range lines {
		if isBlank(l) {
			emit()
			continue
		}
		para = append(para, l)
		if !blankLines {
			emit()
		}
	}
	emit()
	return blocks
}
