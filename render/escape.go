package render

import (
	"regexp"
	"strings"

	"github.com/xlate/xlate/article"
)

// Line-start patterns that would turn a line of inline text into block
// syntax (CommonMark, GFM tables and Hugo's goldmark extensions).
var (
	reThematic  = regexp.MustCompile(`^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	reSetext    = regexp.MustCompile(`^(?:=+|-+)[ \t]*$`)
	reOrdered   = regexp.MustCompile(`^[0-9]{1,9}[.)](?:[ \t]|$)`)
	reDelimRow  = regexp.MustCompile(`^[-:| \t]+$`)
	reLinkDef   = regexp.MustCompile(`^\[[^\]]*\]:`)
	reHTMLStart = regexp.MustCompile(`(?i)^(?:` +
		`<(?:script|pre|style|textarea)(?:[ \t>]|$)` + // condition 1
		`|<!--|<\?|<![A-Za-z]|<!\[CDATA\[` + // conditions 2-5
		`|</?(?:address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul)(?:[ \t>]|/>|$)` + // condition 6
		`|<[A-Za-z][A-Za-z0-9-]*(?:[ \t]+[A-Za-z_:][A-Za-z0-9_.:-]*(?:[ \t]*=[ \t]*(?:[^ \t"'=<>` + "`" + `]+|'[^']*'|"[^"]*"))?)*[ \t]*/?>[ \t]*$` + // condition 7, open tag
		`|</[A-Za-z][A-Za-z0-9-]*[ \t]*>[ \t]*$` + // condition 7, closing tag
		`)`)
)

// escapeLine makes a line of inline markdown that starts a line in the
// output read as paragraph text, not as block syntax. line has no leading
// white space (the caller trims it, which also rules out indented code).
// The escapes are backslash escapes of ASCII punctuation, which render as
// the character itself.
func escapeLine(line string) string {
	if line == "" {
		return line
	}
	switch line[0] {
	case '#', '>':
		// ATX heading (or plain text that # would hide), block quote.
		return `\` + line
	case '`', '~':
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") { // code fence
			return `\` + line
		}
	case '=':
		if reSetext.MatchString(line) {
			return `\` + line
		}
	case '-', '+', '*', '_':
		if len(line) == 1 || line[1] == ' ' || line[1] == '\t' ||
			reThematic.MatchString(line) || reSetext.MatchString(line) {
			return `\` + line
		}
	case ':':
		// Definition list (Hugo enables the extension).
		if len(line) == 1 || line[1] == ' ' || line[1] == '\t' {
			return `\` + line
		}
	case '[':
		if reLinkDef.MatchString(line) { // link reference or footnote definition
			return `\` + line
		}
	case '<':
		if reHTMLStart.MatchString(line) {
			return `\` + line
		}
	}
	if loc := reOrdered.FindStringIndex(line); loc != nil {
		i := strings.IndexAny(line, ".)")
		return line[:i] + `\` + line[i:]
	}
	if strings.ContainsAny(line, "|:") && strings.Contains(line, "-") && reDelimRow.MatchString(line) {
		// Would be a GFM table's delimiter row under the previous line.
		line = escapePipes(line)
		if line[0] != '\\' {
			line = `\` + line
		}
	}
	return line
}

// escapePipes backslash-escapes every | that is not escaped yet.
func escapePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	bs := 0 // backslashes right before the current byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '|' && bs%2 == 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return b.String()
}

// textLines prepares inline markdown for block output: CRLF becomes LF,
// leading white space goes, trailing white space goes except a two-space
// hard break on a line that another line follows, runs of blank lines
// become one blank line ("" in the result) or, without keepBlank, nothing.
// Every line is passed through escapeLine, except the first one when
// firstInline says that it follows a prefix on the same output line.
func textLines(s string, keepBlank, firstInline bool) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []string
	for _, l := range strings.Split(s, "\n") {
		hard := strings.HasSuffix(l, "  ")
		l = strings.TrimSpace(l)
		if l == "" {
			if keepBlank && len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			continue
		}
		if hard {
			l += "  "
		}
		if len(out) > 0 || !firstInline {
			l = escapeLine(l)
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	// A hard break ends with the line it breaks; none at a paragraph's end.
	for i, l := range out {
		if i == len(out)-1 || out[i+1] == "" {
			out[i] = strings.TrimRight(l, " ")
		}
	}
	return out
}

// inlineLines splits s into lines for one-line output: no escaping of line
// starts (nothing starts a line) and no hard breaks (trailing two spaces or
// an unescaped backslash).
func inlineLines(s string) []string {
	lines := textLines(s, false, true)
	out := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		if n := len(l) - len(strings.TrimRight(l, `\`)); n%2 == 1 {
			l = strings.TrimRight(l[:len(l)-1], " \t")
		}
		if l != "" { // a lone backslash leaves nothing
			out = append(out, l)
		}
	}
	return out
}

// oneLine joins s into a single line (for headings).
func oneLine(s string) string {
	return strings.Join(inlineLines(s), " ")
}

// cell prepares a table cell: one line, | escaped, line breaks as <br>.
func cell(s string) string {
	return escapePipes(strings.Join(inlineLines(s), "<br>"))
}

// linkDest makes a URL safe as a link destination: white space and the
// characters that would end or confuse it are percent-encoded.
var destReplacer = strings.NewReplacer(" ", "%20", "\t", "%09", "\n", "%0A", "\r", "%0D",
	"(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

func linkDest(u string) string {
	return destReplacer.Replace(strings.TrimSpace(u))
}

// linkText escapes plain text for use inside [...] (image alt text).
var linkTextReplacer = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, "\n", " ", "\r", "")

// linkTitle escapes text for a "..." link title.
var linkTitleReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", "")

// inert makes model text data: inline markdown in which no raw HTML and no
// Hugo shortcode can start, anywhere in a line. A "<" that would open a
// tag, a comment, a declaration or a processing instruction gets a
// backslash (`\<` renders as "<"), and so does the "<" or "%" of a "{{<" or
// "{{%" shortcode opener. Code spans are left as they are: markdown shows
// their content literally. The markdown the prompt asks the model to keep
// (emphasis, links, code) is untouched.
func inert(s string) string {
	if !strings.ContainsAny(s, "<%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	bs := 0 // backslashes right before i
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`' && bs%2 == 0:
			// A code span is written as is; an unclosed run is literal text.
			end, _ := article.CodeSpan(s, i)
			b.WriteString(s[i:end])
			i = end - 1
			bs = 0
			continue
		case c == '<' && bs%2 == 0 && i+1 < len(s) && opensHTML(s[i+1]):
			b.WriteByte('\\')
		case (c == '<' || c == '%') && bs%2 == 0 && strings.HasSuffix(s[:i], "{{"):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return b.String()
}

// opensHTML reports whether c after a "<" makes raw inline HTML (a tag,
// closing tag, comment, declaration or processing instruction).
func opensHTML(c byte) bool {
	return c == '/' || c == '!' || c == '?' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
