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

// Parse parses one input file into an Article.
//
// ext is the file's lowercased extension and selects the syntax:
//
//   - ".txt": plain text (see below).
//   - ".md", ".markdown": optional front matter, an optional archive header
//     (a "TITLE by SOURCE" line over a "------" line), then a body that is
//     raw HTML if it starts with a tag, else markdown (CommonMark with GFM
//     tables, strikethrough, autolinks and task lists).
//   - ".html", ".htm": an HTML document or fragment, optionally under front
//     matter. The <title> is the title when there is no other, and a
//     single <article> element is taken instead of the whole <body>.
//   - "" (stdin) or anything else: the syntax is sniffed. Front matter or an
//     archive header means markdown file; a leading <!doctype>, <html> or
//     block-level HTML tags mean HTML; markdown syntax (headings, fences,
//     lists, quotes, tables, images, links) means markdown; else plain text.
//
// Plain text is split into paragraphs at blank lines; a text with no blank
// line at all has one paragraph per line. Plain text has no title.
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
func Parse(data []byte, ext string) (*Article, error) {
	text, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }) == "" {
		return nil, ErrEmpty
	}
	switch strings.ToLower(ext) {
	case ".txt", ".text":
		return parsePlain(text), nil
	case ".md", ".markdown", ".mdown", ".mkd", ".mkdn":
		return parseMarkdownFile(text)
	case ".html", ".htm", ".xhtml":
		return parseHTMLFile(text)
	}
	return parseSniffed(text)
}

// ErrEmpty reports input with no text at all: zero bytes or only white
// space.
var ErrEmpty = errors.New("empty file")

func parseSniffed(text string) (*Article, error) {
	switch first := firstLine(text); {
	case first == "---" || first == "+++" || first == "---yaml" || first == "---toml" || first == "---json" || first == ";;;":
		return parseMarkdownFile(text)
	case first == "{":
		fm, _, err := splitFrontMatter(text)
		if err == nil && fm.Format == JSON {
			return parseMarkdownFile(text)
		}
	}
	if _, _, _, ok := splitHeader(text); ok {
		return parseMarkdownFile(text)
	}
	if isHTMLDocument(text) || blockTagRE.MatchString(text) {
		return parseHTMLFile(text)
	}
	if markdownRE.MatchString(text) {
		return parseMarkdownFile(text)
	}
	return parsePlain(text), nil
}

var (
	blockTagRE = regexp.MustCompile(`(?i)<(p|div|br|table|h[1-6]|ul|ol|li|section|article|blockquote|pre|figure|body)[\s/>]`)
	markdownRE = regexp.MustCompile(`(?m)^(#{1,6}[ \t]+\S|` + "```" + `|~~~|[ \t]{0,3}[-*+][ \t]+\S|[ \t]{0,3}\d{1,9}[.)][ \t]+\S|>[ \t]?\S|\|.*\|[ \t]*$)|!\[[^\]\n]*\]\([^)\n]+\)|\[[^\]\n]+\]\([^)\s]+\)`)
	doctypeRE  = regexp.MustCompile(`(?i)^\s*(<!doctype\s+html|<html[\s>])`)
	tagStartRE = regexp.MustCompile(`^\s*<([A-Za-z][A-Za-z0-9-]*[\s/>]|!--|!doctype)`)
)

func isHTMLDocument(text string) bool { return doctypeRE.MatchString(text) }

// parseMarkdownFile parses front matter, header and an HTML or markdown body.
func parseMarkdownFile(text string) (*Article, error) {
	fm, body, err := splitFrontMatter(text)
	if err != nil {
		return nil, err
	}
	a := &Article{Meta: fm}
	if t, ok := fm.Fields["title"].(string); ok {
		a.Title = strings.TrimSpace(t)
	}
	if title, source, rest, ok := splitHeader(body); ok {
		if a.Title == "" {
			a.Title = title
		}
		a.Source = source
		body = rest
	}
	var lead string
	if tagStartRE.MatchString(body) {
		var docTitle string
		a.Blocks, docTitle, lead, err = parseHTML(body, isHTMLDocument(body))
		if a.Title == "" {
			a.Title = docTitle
		}
	} else {
		a.Blocks, lead, err = parseMarkdown(body)
	}
	if err != nil {
		return nil, err
	}
	a.setLeadTitle(lead)
	return a, nil
}

func parseHTMLFile(text string) (*Article, error) {
	fm, body, err := splitFrontMatter(text)
	if err != nil {
		return nil, err
	}
	a := &Article{Meta: fm}
	if t, ok := fm.Fields["title"].(string); ok {
		a.Title = strings.TrimSpace(t)
	}
	blocks, docTitle, lead, err := parseHTML(body, true)
	if err != nil {
		return nil, err
	}
	a.Blocks = blocks
	if a.Title == "" {
		a.Title = docTitle
	}
	a.setLeadTitle(lead)
	return a, nil
}

func (a *Article) setLeadTitle(lead string) {
	if a.Title == "" && lead != "" && len(a.Blocks) > 0 && a.Blocks[0].Kind == Heading {
		a.Title = lead
	}
}

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
func parsePlain(text string) *Article {
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	blankLines := false
	for _, l := range lines {
		if isBlank(l) {
			blankLines = true
			break
		}
	}
	a := &Article{}
	var para []string
	emit := func() {
		if t := escapeText(strings.Join(para, "\n")); t != "" {
			a.Blocks = append(a.Blocks, Block{Kind: Paragraph, Text: t})
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
	return a
}
