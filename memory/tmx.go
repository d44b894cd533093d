package memory

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// TMX (Translation Memory eXchange) 1.4b, the format CAT tools such as
// OmegaT, Trados and memoQ exchange translation memories in.

const (
	tmxDate      = "20060102T150405Z" // TMX date format (ISO 8601 basic, UTC)
	tmxSrcLang   = "zh-CN"
	tmxDataType  = "markdown"
	xmlNamespace = "http://www.w3.org/XML/1998/namespace"
)

// WriteTMX writes es as a TMX 1.4b document, valid against the TMX 1.4b DTD.
//
// The header carries every attribute the DTD requires: creationtool
// "xlate", creationtoolversion toolVersion ("unknown" when empty), segtype
// "paragraph", o-tmf "xlate", adminlang "en", srclang "zh-CN" and datatype
// "markdown" (the DTD takes any value; the spec's list of recommended values
// is not exhaustive and has no entry for markdown). No DOCTYPE is written, so
// that no reader goes looking for a DTD file.
//
// Each entry is one <tu> with creationdate (when Created is set), then the
// props x-pinned (true|false), x-model (when Model is set) and x-origin
// (when Origin is set), then <tuv xml:lang="zh-CN"> with the source and
// <tuv xml:lang="CODE"> with the text, where CODE = code(e.Lang) (when
// CODE is zh-CN itself, the source tuv is "zh" and the tu says
// srclang="zh", so that a reader can tell them apart). Segments
// are escaped character data: markdown stays text, newlines are kept.
//
// WriteTMX checks every entry before writing anything: a language code
// returns no code for, an empty source, invalid UTF-8, or a character XML
// 1.0 cannot carry (most C0 controls) is an error and nothing is written.
func WriteTMX(w io.Writer, es []Entry, code func(lang string) (string, bool), toolVersion string) error {
	codes := make(map[string]string)
	for _, e := range es {
		if _, ok := codes[e.Lang]; !ok {
			c, ok := code(e.Lang)
			if !ok || strings.TrimSpace(c) == "" {
				return fmt.Errorf("cannot export %s: no BCP 47 code for it", e.Lang)
			}
			if err := xmlSafe(c); err != nil {
				return fmt.Errorf("cannot export %s: its code %q %v", e.Lang, c, err)
			}
			codes[e.Lang] = c
		}
		if e.Source == "" {
			return fmt.Errorf("cannot export a %s entry with an empty source", e.Lang)
		}
		for _, s := range []string{e.Lang, e.Source, e.Text, e.Model, e.Origin} {
			if err := xmlSafe(s); err != nil {
				return fmt.Errorf("cannot export the %s entry for %q: %v", e.Lang, short(e.Source), err)
			}
		}
	}
	if toolVersion == "" {
		toolVersion = "unknown"
	}
	if err := xmlSafe(toolVersion); err != nil {
		return fmt.Errorf("cannot export: tool version %v", err)
	}
	b := bufio.NewWriter(w)
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n")
	fmt.Fprintf(b, "  <header creationtool=\"xlate\" creationtoolversion=\"%s\" segtype=\"paragraph\" o-tmf=\"xlate\""+
		" adminlang=\"en\" srclang=\"%s\" datatype=\"%s\"/>\n", escAttr(toolVersion), tmxSrcLang, tmxDataType)
	b.WriteString("  <body>\n")
	for _, e := range es {
		b.WriteString("    <tu")
		src := tmxSrcLang
		if sameCode(codes[e.Lang], tmxSrcLang) {
			// A Simplified Chinese target: the source tuv cannot have the
			// same code, so it says "zh", and the tu names it as its source.
			src = "zh"
			b.WriteString(" srclang=\"zh\"")
		}
		if !e.Created.IsZero() {
			fmt.Fprintf(b, " creationdate=\"%s\"", e.Created.UTC().Format(tmxDate))
		}
		b.WriteString(">\n")
		fmt.Fprintf(b, "      <prop type=\"x-pinned\">%t</prop>\n", e.Pinned)
		if e.Model != "" {
			fmt.Fprintf(b, "      <prop type=\"x-model\">%s</prop>\n", escText(e.Model))
		}
		if e.Origin != "" {
			fmt.Fprintf(b, "      <prop type=\"x-origin\">%s</prop>\n", escText(e.Origin))
		}
		fmt.Fprintf(b, "      <tuv xml:lang=\"%s\"><seg>%s</seg></tuv>\n", src, escText(e.Source))
		fmt.Fprintf(b, "      <tuv xml:lang=\"%s\"><seg>%s</seg></tuv>\n", escAttr(codes[e.Lang]), escText(e.Text))
		b.WriteString("    </tu>\n")
	}
	b.WriteString("  </body>\n</tmx>\n")
	return b.Flush()
}

// xmlSafe reports a string XML 1.0 cannot carry, even as a character
// reference.
func xmlSafe(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return fmt.Errorf("holds the character %U, which XML cannot carry", r)
		}
	}
	return nil
}

// isXMLChar is the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// escText escapes character data. Newlines and tabs stay as they are; a
// carriage return becomes &#xD; so that parsers do not fold it into a
// newline.
var escText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;").Replace

// escAttr escapes an attribute value (in double quotes), where white space
// other than a space would be normalised away.
var escAttr = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;",
	`"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;").Replace

// ReadTMX parses a TMX document and returns one Entry per target language
// of each <tu>. file is only used in error messages.
//
// It is lenient where that is harmless, to read what CAT tools write:
//   - any version attribute (TMX 1.1 to 1.4 shapes), element names in any
//     case, the deprecated lang attribute in place of xml:lang, language
//     codes in any case and with "_" for "-";
//   - UTF-8 (with or without a byte order mark) and UTF-16 with a byte order
//     mark, whatever the XML declaration says;
//   - <note>, <ude>, unknown elements and unknown props are ignored.
//
// The source of a <tu> is its <tuv> in the source language (the <tu>'s
// srclang, else the header's) when that is a Chinese code (zh, zh-CN,
// zh-Hans, ZH-CN, ...); otherwise, or when there is no such tuv, its first
// tuv in Simplified Chinese (zh, zh-CN, zh-Hans, zh-SG, ... but not zh-TW,
// zh-HK, zh-MO, zh-Hant). Every other tuv is a target, giving one Entry with
// Lang = name(code); a target with an empty segment (an untranslated unit)
// gives none, and so does a tu with no target.
//
// Inline markup in a <seg>: its text is kept and its tags dropped. <hi> and
// unknown elements hold text, which is kept. <bpt>, <ept>, <it>, <ph> and
// <ut> hold native code (the original format's markup, such as "<b>", or a
// tool's placeholder) which is dropped with any <sub> inside it, because it
// is not part of a markdown segment: "A<ph>&lt;br/&gt;</ph>B" reads as "AB".
// When the segment's datatype (of its tuv, tu or the header) is markdown,
// the native code is markdown and is kept: "<bpt i="1">**</bpt>x<ept
// i="1">**</ept>" reads as "**x**".
//
// Pinned is taken from a "x-pinned" prop ("false" gives false) and defaults
// to true; Model from "x-model"; Origin from "x-origin", else "import:
// FILE"; Created from the tu's creationdate (else its changedate, else the
// target tuv's), in the TMX format YYYYMMDDThhmmssZ; a date that does not
// parse is left zero.
//
// Bad input gives one error, "FILE:LINE: what is wrong", and no entries:
// malformed XML, a root that is not <tmx>, a tuv with no language, a tu
// without a Chinese source tuv, an empty source, or a target code for which
// name returns "" (a caller that wants to keep such targets returns the
// code itself; a nil name keeps every code as the language).
func ReadTMX(r io.Reader, file string, name func(code string) string) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	data, err = toUTF8(data)
	if err != nil {
		return nil, fmt.Errorf("%s:1: %v", file, err)
	}
	if name == nil {
		name = func(code string) string { return code }
	}
	t := &tmxReader{d: xml.NewDecoder(bytes.NewReader(data)), file: file, name: name}
	t.d.Strict = true
	t.d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-16be", "ucs-2", "unicode", "us-ascii", "ascii":
			return in, nil // UTF-16 was converted by toUTF8 already
		}
		return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", label)
	}
	es, err := t.read()
	if err != nil {
		return nil, err
	}
	return es, nil
}

// toUTF8 strips a UTF-8 byte order mark and converts UTF-16 (recognized by
// its byte order mark, or by "<?" encoded in it) to UTF-8. Line numbers are
// unchanged.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return utf16To8(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return utf16To8(data[2:], true)
	case bytes.HasPrefix(data, []byte{'<', 0, '?', 0}):
		return utf16To8(data, false)
	case bytes.HasPrefix(data, []byte{0, '<', 0, '?'}):
		return utf16To8(data, true)
	}
	return data, nil
}

func utf16To8(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, errors.New("truncated UTF-16")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(u))), nil
}

type tmxReader struct {
	d        *xml.Decoder
	file     string
	name     func(string) string
	line     int // line where the last token returned by next began
	srclang  string
	datatype string
	entries  []Entry
}

func (t *tmxReader) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", t.file, line, fmt.Sprintf(format, args...))
}

// next returns the next token, with t.line set to the line it starts on.
// The end of the input is an error: read stops at the root's end tag.
func (t *tmxReader) next() (xml.Token, error) {
	t.line, _ = t.d.InputPos()
	tok, err := t.d.Token()
	if err != nil {
		return nil, t.wrap(err)
	}
	return tok, nil
}

// wrap turns a decoder error into "FILE:LINE: ...".
func (t *tmxReader) wrap(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return t.errorf(se.Line, "malformed XML: %s", se.Msg)
	}
	line, _ := t.d.InputPos()
	if errors.Is(err, io.EOF) {
		return t.errorf(line, "unexpected end of file")
	}
	return t.errorf(line, "%v", err)
}

// skip consumes the rest of the element whose start tag was just read.
func (t *tmxReader) skip() error {
	for depth := 1; depth > 0; {
		tok, err := t.next()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text returns the character data of the element whose start tag was just
// read, through any child elements.
func (t *tmxReader) text() (string, error) {
	var b strings.Builder
	for depth := 1; depth > 0; {
		tok, err := t.next()
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			b.Write(tok)
		}
	}
	return b.String(), nil
}

func is(n xml.Name, local string) bool { return strings.EqualFold(n.Local, local) }

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if strings.EqualFold(a.Name.Local, local) && (a.Name.Space == "" || a.Name.Space == "xml" || a.Name.Space == xmlNamespace) {
			return a.Value
		}
	}
	return ""
}

// langAttr is a tuv's language: xml:lang, or the deprecated lang.
func langAttr(se xml.StartElement) string {
	var plain string
	for _, a := range se.Attr {
		if !strings.EqualFold(a.Name.Local, "lang") {
			continue
		}
		if a.Name.Space == "xml" || a.Name.Space == xmlNamespace {
			return strings.TrimSpace(a.Value)
		}
		if a.Name.Space == "" {
			plain = strings.TrimSpace(a.Value)
		}
	}
	return plain
}

func (t *tmxReader) read() ([]Entry, error) {
	// The root element.
	var root xml.StartElement
	for {
		t.line, _ = t.d.InputPos()
		tok, err := t.d.Token()
		if errors.Is(err, io.EOF) {
			return nil, t.errorf(t.line, "not a TMX document: no root element")
		}
		if err != nil {
			return nil, t.wrap(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if !is(root.Name, "tmx") {
		return nil, t.errorf(t.line, "not a TMX document: the root element is <%s>, not <tmx>", root.Name.Local)
	}
	for {
		tok, err := t.next()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return t.entries, nil
		case xml.StartElement:
			var err error
			switch {
			case is(tok.Name, "header"):
				t.srclang = attr(tok, "srclang")
				t.datatype = attr(tok, "datatype")
				err = t.skip()
			case is(tok.Name, "body"):
				err = t.body()
			default:
				err = t.skip()
			}
			if err != nil {
				return nil, err
			}
		}
	}
}

func (t *tmxReader) body() error {
	for {
		tok, err := t.next()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if is(tok.Name, "tu") {
				err = t.tu(tok, t.line)
			} else {
				err = t.skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

type tuv struct {
	lang, seg, created string
	line               int
}

func (t *tmxReader) tu(start xml.StartElement, line int) error {
	srclang := attr(start, "srclang")
	if srclang == "" {
		srclang = t.srclang
	}
	datatype := attr(start, "datatype")
	if datatype == "" {
		datatype = t.datatype
	}
	created := attr(start, "creationdate")
	if created == "" {
		created = attr(start, "changedate")
	}
	pinned, model, origin := true, "", ""
	var tuvs []tuv
	for {
		tok, err := t.next()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return t.entriesOf(line, srclang, created, pinned, model, origin, tuvs)
		case xml.StartElement:
			switch {
			case is(tok.Name, "prop"):
				typ := attr(tok, "type")
				v, err := t.text()
				if err != nil {
					return err
				}
				switch strings.ToLower(typ) {
				case "x-pinned":
					pinned = !strings.EqualFold(strings.TrimSpace(v), "false")
				case "x-model":
					model = v
				case "x-origin":
					origin = v
				}
			case is(tok.Name, "tuv"):
				v, err := t.tuv(tok, t.line, datatype)
				if err != nil {
					return err
				}
				tuvs = append(tuvs, v)
			default:
				if err := t.skip(); err != nil {
					return err
				}
			}
		}
	}
}

func (t *tmxReader) tuv(start xml.StartElement, line int, datatype string) (tuv, error) {
	v := tuv{lang: langAttr(start), line: line, created: attr(start, "creationdate")}
	if v.lang == "" {
		return v, t.errorf(line, "<tuv> without xml:lang")
	}
	if dt := attr(start, "datatype"); dt != "" {
		datatype = dt
	}
	dt := strings.ToLower(datatype)
	keepCode := strings.Contains(dt, "markdown") || dt == "md"
	for {
		tok, err := t.next()
		if err != nil {
			return v, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return v, nil
		case xml.StartElement:
			if is(tok.Name, "seg") {
				if v.seg, err = t.seg(keepCode); err != nil {
					return v, err
				}
			} else if err := t.skip(); err != nil {
				return v, err
			}
		}
	}
}

// seg returns the text of the <seg> whose start tag was just read (see
// ReadTMX for inline markup).
func (t *tmxReader) seg(keepCode bool) (string, error) {
	var b strings.Builder
	var code []bool // per open inline element: is it native code
	inCode := 0
	for {
		tok, err := t.next()
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			c := false
			switch strings.ToLower(tok.Name.Local) {
			case "bpt", "ept", "it", "ph", "ut":
				c = true
			}
			code = append(code, c)
			if c {
				inCode++
			}
		case xml.EndElement:
			if len(code) == 0 {
				return b.String(), nil
			}
			if code[len(code)-1] {
				inCode--
			}
			code = code[:len(code)-1]
		case xml.CharData:
			if inCode == 0 || keepCode {
				b.Write(tok)
			}
		}
	}
}

// chineseCode reports a Chinese language code; simplified is false for
// the traditional variants.
func chineseCode(code string) (chinese, simplified bool) {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "_", "-"))
	primary, rest, _ := strings.Cut(c, "-")
	switch primary {
	case "zh", "zho", "chi", "cmn":
	default:
		return false, false
	}
	for _, sub := range strings.Split(rest, "-") {
		switch sub {
		case "hant", "tw", "hk", "mo":
			return true, false
		}
	}
	return true, true
}

func sameCode(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-")) }
	return norm(a) == norm(b)
}

func (t *tmxReader) entriesOf(line int, srclang, created string, pinned bool, model, origin string, tuvs []tuv) error {
	src := -1
	if zh, _ := chineseCode(srclang); zh {
		for i, v := range tuvs {
			if sameCode(v.lang, srclang) {
				src = i
				break
			}
		}
	}
	if src < 0 {
		for i, v := range tuvs {
			if _, simplified := chineseCode(v.lang); simplified {
				src = i
				break
			}
		}
	}
	if src < 0 {
		langs := make([]string, len(tuvs))
		for i, v := range tuvs {
			langs[i] = v.lang
		}
		return t.errorf(line, "<tu> without a Chinese source (its languages: %s)", strings.Join(langs, ", "))
	}
	source := tuvs[src]
	if strings.TrimSpace(source.seg) == "" {
		return t.errorf(source.line, "<tu> with an empty %s source", source.lang)
	}
	if origin == "" {
		origin = "import: " + t.file
	}
	for i, v := range tuvs {
		if i == src || sameCode(v.lang, source.lang) || strings.TrimSpace(v.seg) == "" {
			continue
		}
		lang := t.name(v.lang)
		if lang == "" {
			return t.errorf(v.line, "no language known for the code %q", v.lang)
		}
		date := created
		if date == "" {
			date = v.created
		}
		t.entries = append(t.entries, Entry{Lang: lang, Source: source.seg, Text: v.seg, Model: model,
			Created: parseTMXDate(date), Pinned: pinned, Origin: origin})
	}
	return nil
}

func parseTMXDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{tmxDate, "20060102T150405", time.RFC3339} {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm.UTC()
		}
	}
	return time.Time{}
}
