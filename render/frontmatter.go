package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"

	"github.com/xlate/xlate/article"
)

// Front matter keys written by the renderer.
const (
	keyTitle               = "title"
	keyOriginalTitle       = "original_title"
	keySummary             = "summary"
	keyOriginalSummary     = "original_summary"
	keyDescription         = "description"
	keyOriginalDescription = "original_description"
	keyURL                 = "url"
	keyAliases             = "aliases"
	keyTranslationModel    = "translation_model"
)

// MarkerKey is the front matter key that xlate writes into every output
// that has a translation and that no original carries: an input holding
// it is one of xlate's own outputs.
const MarkerKey = keyTranslationModel

// field is one key the renderer sets in the front matter: a string, or
// with list set a list of strings, or with raw set a value already
// encoded in the front matter's format (a kept key, see keep.go).
type field struct {
	key, value string
	list       []string
	raw        string
}

// encode writes the field's value with quote for each string: a list is a
// flow sequence ["a", "b"], which YAML, TOML and JSON all read.
func (f field) encode(quote func(string) string) string {
	if f.raw != "" {
		return f.raw
	}
	if f.list == nil {
		return quote(f.value)
	}
	q := make([]string, len(f.list))
	for i, s := range f.list {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// after names the key a missing field is inserted after, when present.
func (f field) after() string {
	switch f.key {
	case keyOriginalTitle:
		return keyTitle
	case keyOriginalSummary:
		return keySummary
	case keyOriginalDescription:
		return keyDescription
	}
	return ""
}

// fmFields lists the keys to set, in the order they are added to a front
// matter that lacks them.
//
// title is set only when there is an English title; original_title only then
// too (otherwise title still holds the original and a copy would be noise).
// A new front matter (the article had none) falls back to the original title
// for title so that the page still has one. The summary replaces an
// original summary only after keeping it as original_summary, and so does
// the translated description. In a multilingual site (d.Lang set) url and
// aliases get the language's prefix: Hugo does not add it to either, and two
// languages would write the same page.
func fmFields(d Document, fresh bool, desc string) []field {
	var fs []field
	meta := d.Article.Meta.Fields
	orig := clean(d.Article.Title)
	switch title := clean(d.Title); {
	case title != "":
		fs = append(fs, field{key: keyTitle, value: title})
		if orig != "" {
			fs = append(fs, field{key: keyOriginalTitle, value: orig})
		}
	case fresh && orig != "":
		fs = append(fs, field{key: keyTitle, value: orig})
	}
	keep := func(key, value, origKey string) {
		if prev, ok := meta[key].(string); ok && clean(prev) != value {
			if _, taken := meta[origKey]; !taken {
				fs = append(fs, field{key: origKey, value: prev})
			}
		}
		fs = append(fs, field{key: key, value: value})
	}
	if s := clean(d.TLDR); s != "" {
		keep(keySummary, inert(s), keyOriginalSummary) // Hugo renders it as markdown
	}
	if s := clean(desc); s != "" {
		keep(keyDescription, s, keyOriginalDescription)
	}
	if d.Lang != "" {
		prefix := "/" + d.Lang
		if u, ok := meta[keyURL].(string); ok && strings.HasPrefix(u, "/") && !hasPathPrefix(u, prefix) {
			fs = append(fs, field{key: keyURL, value: prefix + u})
		}
		if list, ok := meta[keyAliases].([]any); ok {
			var aliases []string
			for _, a := range list {
				if s, ok := a.(string); ok {
					if !strings.HasPrefix(s, "/") {
						s = "/" + s
					}
					if !hasPathPrefix(s, prefix) {
						s = prefix + s
					}
					aliases = append(aliases, s)
				}
			}
			if aliases != nil {
				fs = append(fs, field{key: keyAliases, list: aliases})
			}
		}
	}
	if s := clean(d.Model); s != "" {
		fs = append(fs, field{key: keyTranslationModel, value: s})
	}
	return fs
}

// hasPathPrefix reports whether path p is prefix or lies under it.
func hasPathPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// clean makes s valid UTF-8 with LF line ends and no surrounding space.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.Contains(s, "\r\n") {
		// Every run of CRs before a LF goes ("\r\r\n" too), so that
		// clean(clean(s)) == clean(s).
		var b strings.Builder
		for line := range strings.SplitAfterSeq(s, "\n") {
			if l, ok := strings.CutSuffix(line, "\n"); ok {
				line = strings.TrimRight(l, "\r") + "\n"
			}
			b.WriteString(line)
		}
		s = b.String()
	}
	return strings.TrimSpace(s)
}

// frontMatter returns the front matter block of the output, delimiters and
// final newline included, or "" when there is nothing to write.
//
// The original front matter is edited rather than re-encoded, so every key
// keeps its order, value and style byte for byte (multi-line flow sequences,
// quoting, dates, comments): existing title, original_title, summary and
// translation_model entries are replaced in place, original_title goes right
// after title, the other missing keys are appended after the last top-level
// entry. Each edited front matter is decoded again to check the result.
func frontMatter(d Document, desc string) (string, error) {
	m := d.Article.Meta
	fresh := m.Format == article.NoFrontMatter
	fs := fmFields(d, fresh, desc)
	switch m.Format {
	case article.NoFrontMatter:
		var b strings.Builder
		for _, f := range fs {
			b.WriteString(yamlEntry("", f))
		}
		raw, err := keepEntries(d, article.YAML, b.String(), fs)
		if err != nil {
			return "", fmt.Errorf("front matter: yaml: %w", err)
		}
		if raw == "" {
			return "", nil
		}
		return "---\n" + raw + "---\n", nil
	case article.YAML:
		raw, err := editYAML(m.Raw, fs)
		if err == nil {
			raw, err = keepEntries(d, article.YAML, raw, fs)
		}
		if err != nil {
			return "", fmt.Errorf("front matter: yaml: %w", err)
		}
		return "---\n" + raw + "---\n", nil
	case article.TOML:
		raw, err := editTOML(m.Raw, fs)
		if err == nil {
			raw, err = keepEntries(d, article.TOML, raw, fs)
		}
		if err != nil {
			return "", fmt.Errorf("front matter: toml: %w", err)
		}
		return "+++\n" + raw + "+++\n", nil
	case article.JSON:
		raw, err := editJSON(m.Raw, fs)
		if err == nil {
			raw, err = keepEntries(d, article.JSON, raw, fs)
		}
		if err != nil {
			return "", fmt.Errorf("front matter: json: %w", err)
		}
		return strings.TrimRight(raw, " \t\r\n") + "\n", nil
	}
	return "", fmt.Errorf("front matter: unknown format %d", m.Format)
}

// chunk is a piece of front matter text: either one top-level entry (key
// and value) or the text between entries (comments, blank lines, commas,
// tables).
type chunk struct {
	key   string
	text  string
	entry bool
}

// applyFields replaces the entries of fs in chunks, or inserts them:
// original_title after the last title entry, the others after the last
// entry (at index def when there is none). sep is put before an inserted
// entry that follows another one (JSON's comma).
func applyFields(chunks []chunk, fs []field, encode func(field) string, sep string, def int) []chunk {
	for _, f := range fs {
		found := false
		for i := range chunks {
			if chunks[i].entry && chunks[i].key == f.key {
				chunks[i].text = encode(f)
				found = true
			}
		}
		if found {
			continue
		}
		pos, after := def, false
		for i, c := range chunks {
			if c.entry && (f.after() == "" || c.key == f.after()) {
				pos, after = i+1, true
			}
		}
		if f.after() != "" && !after {
			// No entry to follow: behave like any other key.
			for i, c := range chunks {
				if c.entry {
					pos, after = i+1, true
				}
			}
		}
		add := []chunk{{key: f.key, text: encode(f), entry: true}}
		if after && sep != "" {
			add = append([]chunk{{text: sep}}, add...)
		}
		chunks = append(chunks[:pos], append(add, chunks[pos:]...)...)
	}
	return chunks
}

func joinChunks(chunks []chunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.text)
	}
	return b.String()
}

// splitLines splits s into lines that keep their "\n"; s gets a final
// newline if it lacks one.
func splitLines(s string) []string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return strings.SplitAfter(s, "\n")[:strings.Count(s, "\n")]
}

// verify decodes out with decode and checks that every field holds its
// value.
func verify(out string, fs []field, decode func(string, *map[string]any) error) error {
	var m map[string]any
	if err := decode(out, &m); err != nil {
		return fmt.Errorf("edited front matter does not parse: %w", err)
	}
	for _, f := range fs {
		if f.raw != "" {
			continue // checked by the caller
		}
		if f.list != nil {
			got, _ := m[f.key].([]any)
			ok := len(got) == len(f.list)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i] == f.list[i]
			}
			if !ok {
				return fmt.Errorf("edited front matter: %s = %#v, want %q", f.key, m[f.key], f.list)
			}
			continue
		}
		if got, ok := m[f.key].(string); !ok || got != f.value {
			return fmt.Errorf("edited front matter: %s = %#v, want %q", f.key, m[f.key], f.value)
		}
	}
	return nil
}

// --- YAML ---

// editYAML edits the block mapping in raw line by line, using yaml.v3's node
// positions to find the top-level entries. yaml.v3 is not used to write the
// whole document because it reflows what it re-emits (a multi-line flow
// sequence becomes one line, long strings wrap at 80 columns). A top-level
// flow mapping ({...}) is the exception: it is edited as a yaml.v3 node tree
// and re-encoded.
func editYAML(raw string, fs []field) (string, error) {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	var m *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		m = doc.Content[0]
		if m.Kind != yaml.MappingNode {
			return "", errors.New("not a mapping")
		}
	}
	decode := func(s string, v *map[string]any) error { return yaml.Unmarshal([]byte(s), v) }
	if m != nil && m.Style&yaml.FlowStyle != 0 {
		return reencodeYAML(&doc, m, fs, decode)
	}

	chunks, indent, ok := yamlEntryChunks(splitLines(raw), m, false)
	if !ok {
		// Positions we cannot map to lines (e.g. two keys on one line):
		// let yaml.v3 re-encode the whole document.
		return reencodeYAML(&doc, m, fs, decode)
	}
	chunks = applyFields(chunks, fs, func(f field) string { return yamlEntry(indent, f) }, "", len(chunks))
	out := joinChunks(chunks)
	if err := verify(out, fs, decode); err != nil {
		// The line edit went wrong on some exotic layout; fall back to a
		// re-encode, which loses style but not data.
		return reencodeYAML(&doc, m, fs, decode)
	}
	return out, nil
}

// isYAMLComment reports whether line is a comment starting at or left of
// column col (1-based).
func isYAMLComment(line string, col int) bool {
	t := strings.TrimLeft(line, " \t")
	return strings.HasPrefix(t, "#") && len(line)-len(t) < col
}

// reencodeYAML sets the fields on mapping m (nil for an empty document) and
// encodes the whole document with yaml.v3.
func reencodeYAML(doc, m *yaml.Node, fs []field, decode func(string, *map[string]any) error) (string, error) {
	if m == nil {
		m = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		*doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}
	}
	for _, f := range fs {
		val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.value, Style: yaml.DoubleQuotedStyle}
		if f.list != nil {
			val = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
			for _, s := range f.list {
				val.Content = append(val.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle})
			}
		}
		found := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == f.key {
				m.Content[i+1] = val
				found = true
			}
		}
		if found {
			continue
		}
		pos := len(m.Content)
		if f.after() != "" {
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == f.after() {
					pos = i + 2
				}
			}
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}
		m.Content = append(m.Content[:pos], append([]*yaml.Node{key, val}, m.Content[pos:]...)...)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	out := b.String()
	if err := verify(out, fs, decode); err != nil {
		return "", err
	}
	return out, nil
}

func yamlEntry(indent string, f field) string {
	return indent + f.key + ": " + f.encode(yamlQuote) + "\n"
}

// yamlQuote returns s as a one-line YAML double-quoted scalar. Characters
// YAML does not allow unescaped (and the line breaks) are escaped.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x85, 0x2028, 0x2029, 0xFEFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			switch {
			case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || (r >= 0xD800 && r < 0xE000) || r == 0xFFFE || r == 0xFFFF:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// --- TOML ---

// editTOML edits raw line by line. Top-level statements are the key/value
// pairs before the first [table] or [[array]] header; a statement spans the
// fewest lines that decode on their own, which covers multi-line arrays and
// strings.
func editTOML(raw string, fs []field) (string, error) {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	lines := splitLines(raw)
	var chunks []chunk
	filler := func(s string) {
		if n := len(chunks); n > 0 && !chunks[n-1].entry {
			chunks[n-1].text += s
			return
		}
		chunks = append(chunks, chunk{text: s})
	}
	i := 0
loop:
	for i < len(lines) {
		t := strings.TrimSpace(lines[i])
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			filler(lines[i])
			i++
		case strings.HasPrefix(t, "["):
			break loop
		default:
			key, n, err := tomlStatement(lines[i:])
			if err != nil {
				return "", fmt.Errorf("line %d: %w", i+1, err)
			}
			chunks = append(chunks, chunk{key: key, text: strings.Join(lines[i:i+n], ""), entry: true})
			i += n
		}
	}
	filler(strings.Join(lines[i:], ""))
	chunks = applyFields(chunks, fs, func(f field) string { return f.key + " = " + f.encode(tomlQuote) + "\n" }, "", 0)
	out := joinChunks(chunks)
	decode := func(s string, v *map[string]any) error { _, err := toml.Decode(s, v); return err }
	if err := verify(out, fs, decode); err != nil {
		return "", err
	}
	return out, nil
}

// tomlStatement finds the key/value statement at the start of lines and
// returns its key ("" for a dotted key) and its number of lines.
func tomlStatement(lines []string) (string, int, error) {
	var text strings.Builder
	var err error
	for n, l := range lines {
		text.WriteString(l)
		var v map[string]any
		var md toml.MetaData
		md, err = toml.Decode(text.String(), &v)
		if err != nil {
			continue
		}
		key := ""
		if keys := md.Keys(); len(keys) == 1 && len(keys[0]) == 1 {
			key = keys[0][0]
		}
		return key, n + 1, nil
	}
	return "", 0, fmt.Errorf("parse: %w", err)
}

// tomlQuote returns s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7F {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// --- JSON ---

// editJSON edits the top-level object in raw in place: it walks the
// object's entries with encoding/json's token decoder, reading each value as
// a json.RawMessage, and keeps every byte outside the edited entries.
func editJSON(raw string, fs []field) (string, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", errors.New("not an object")
	}
	open := int(dec.InputOffset())
	type span struct {
		key                  string
		start, keyEnd, vs, v int
	}
	var spans []span
	prev := open
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("parse: %w", err)
		}
		key, _ := tok.(string)
		keyEnd := int(dec.InputOffset())
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return "", fmt.Errorf("parse: %w", err)
		}
		end := int(dec.InputOffset())
		start := prev
		for start < keyEnd && raw[start] != '"' {
			start++
		}
		spans = append(spans, span{key: key, start: start, keyEnd: keyEnd, vs: end - len(val), v: end})
		prev = end
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return "", fmt.Errorf("parse: %w", err)
	}
	closeEnd := int(dec.InputOffset())
	decode := func(s string, v *map[string]any) error { return json.Unmarshal([]byte(s), v) }

	if len(spans) == 0 {
		var b strings.Builder
		b.WriteString(raw[:open-1] + "{")
		for i, f := range fs {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  " + jsonQuote(f.key) + ": " + f.encode(jsonQuote))
		}
		if len(fs) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("}" + raw[closeEnd:])
		out := b.String()
		return out, verify(out, fs, decode)
	}

	colon := raw[spans[0].keyEnd:spans[0].vs]
	sep := "," + raw[open:spans[0].start]
	if len(spans) > 1 {
		sep = raw[spans[0].v:spans[1].start]
	}
	chunks := []chunk{{text: raw[:spans[0].start]}}
	for i, s := range spans {
		chunks = append(chunks, chunk{key: s.key, text: raw[s.start:s.v], entry: true})
		next := len(raw)
		if i+1 < len(spans) {
			next = spans[i+1].start
		}
		chunks = append(chunks, chunk{text: raw[s.v:next]})
	}
	chunks = applyFields(chunks, fs, func(f field) string { return jsonQuote(f.key) + colon + f.encode(jsonQuote) }, sep, 0)
	out := joinChunks(chunks)
	if err := verify(out, fs, decode); err != nil {
		return "", err
	}
	return out, nil
}

// jsonQuote returns s as a JSON string, leaving <, > and & unescaped.
func jsonQuote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes; invalid UTF-8 becomes U+FFFD
	return strings.TrimSuffix(b.String(), "\n")
}
