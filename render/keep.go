package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"

	"github.com/xlate/xlate/article"
)

// Keeping entries of the front matter being replaced (Document.Keep and
// KeepKeys).
//
// The new front matter, as frontMatter writes it, is split into its
// top-level entries (YAML: the key's lines with the comment lines
// directly above them; TOML: key/value statements, and [table] and
// [[array]] sections, by the first part of their name; JSON: "key": value).
// Each kept key's entries are replaced by those of Keep, or appended
// (TOML statements before the first section, sections at the end). With
// the same format the entries are Keep's text byte for byte; otherwise,
// or when that text does not decode to Keep's values in its new place
// (a YAML alias to an anchor left behind, another indentation), the values
// are re-encoded. The result is decoded again and checked: the kept keys
// hold Keep's values and the renderer's fields that were not replaced hold
// theirs.

// keptKeys returns the keys of d.KeepKeys that d.Keep has, once each.
func keptKeys(d Document) []string {
	if d.Keep == nil || d.Keep.Format == article.NoFrontMatter {
		return nil
	}
	var keys []string
	for _, k := range d.KeepKeys {
		if _, ok := d.Keep.Fields[k]; ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// keepEntries copies the kept entries of d.Keep into raw, the new front
// matter text in format f in which the renderer set fs.
func keepEntries(d Document, f article.Format, raw string, fs []field) (string, error) {
	keys := keptKeys(d)
	if len(keys) == 0 {
		return raw, nil
	}
	keep := *d.Keep
	keep.Raw = strings.ReplaceAll(keep.Raw, "\r\n", "\n")
	var firstErr error
	for _, byteCopy := range []bool{true, false} {
		if !byteCopy && keep.Format != f {
			break // the first pass re-encoded already
		}
		out, kept, err := keepOnce(keep, f, raw, keys, byteCopy)
		if err == nil {
			err = verifyKept(out, f, fs, kept, keep.Fields)
		}
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", fmt.Errorf("keeping %q: %w", keys, firstErr)
}

// keepOnce puts the entries of keys into raw: Keep's text when byteCopy
// and the formats are the same, else re-encoded values. It returns the
// keys it kept (a value the format cannot hold, such as null in TOML, is
// left out).
func keepOnce(keep article.FrontMatter, f article.Format, raw string, keys []string, byteCopy bool) (string, []string, error) {
	same := byteCopy && keep.Format == f
	switch f {
	case article.YAML:
		return keepYAML(keep, raw, keys, same)
	case article.TOML:
		return keepTOML(keep, raw, keys, same)
	case article.JSON:
		return keepJSON(keep, raw, keys, same)
	}
	return "", nil, fmt.Errorf("unknown format %d", f)
}

// --- YAML ---

// yamlKeyChunks splits a YAML block mapping into chunks: one per
// top-level entry (its lines, with the comment lines directly above) and
// the text between. ok is false for what it cannot map to lines (a flow
// mapping, two keys on a line) and for text that does not parse.
func yamlKeyChunks(raw string) (chunks []chunk, indent string, ok bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return nil, "", false
	}
	var m *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		m = doc.Content[0]
		if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 {
			return nil, "", false
		}
	}
	return yamlEntryChunks(splitLines(raw), m, true)
}

// yamlEntryChunks cuts lines, a YAML block mapping m (nil: empty) as
// parsed, into chunks: one per top-level entry and the text between.
// Trailing blank lines and comments (at or left of the key's column, so
// never block scalar content) stay outside an entry; withComments puts the
// comment lines directly above a key into its entry. ok is false for
// positions that cannot be mapped to lines (two keys on one line).
func yamlEntryChunks(lines []string, m *yaml.Node, withComments bool) (chunks []chunk, indent string, ok bool) {
	prev := 0 // first line not yet in a chunk
	for i := 0; m != nil && i < len(m.Content); i += 2 {
		k := m.Content[i]
		start, end := k.Line-1, len(lines)
		if i+2 < len(m.Content) {
			end = m.Content[i+2].Line - 1
		}
		if start < prev || end > len(lines) || start >= end {
			return nil, "", false
		}
		for end > start+1 && (strings.TrimSpace(lines[end-1]) == "" || isYAMLComment(lines[end-1], k.Column)) {
			end--
		}
		top := start
		for withComments && top > prev && strings.TrimSpace(lines[top-1]) != "" && isYAMLComment(lines[top-1], k.Column) {
			top--
		}
		if i == 0 {
			indent = strings.Repeat(" ", k.Column-1)
		}
		chunks = append(chunks,
			chunk{text: strings.Join(lines[prev:top], "")},
			chunk{key: k.Value, text: strings.Join(lines[top:end], ""), entry: true})
		prev = end
	}
	chunks = append(chunks, chunk{text: strings.Join(lines[prev:], "")})
	return chunks, indent, true
}

func keepYAML(keep article.FrontMatter, raw string, keys []string, same bool) (string, []string, error) {
	chunks, indent, ok := yamlKeyChunks(raw)
	if !ok {
		return keepYAMLNodes(keep, raw, keys)
	}
	src := map[string]string{}
	if same {
		if sc, sIndent, ok := yamlKeyChunks(keep.Raw); ok && sIndent == indent {
			for _, c := range sc {
				if c.entry {
					src[c.key] = c.text
				}
			}
		}
	}
	texts := map[string]string{}
	var kept []string
	var fs []field
	for _, k := range keys {
		t, ok := src[k]
		if !ok {
			enc, err := yamlEncode(k, keep.Fields[k])
			if err != nil {
				continue
			}
			t = prefixEach(enc, indent)
		}
		texts[k] = t
		kept = append(kept, k)
		fs = append(fs, field{key: k})
	}
	chunks = applyFields(chunks, fs, func(f field) string { return texts[f.key] }, "", len(chunks))
	return joinChunks(chunks), kept, nil
}

// keepYAMLNodes sets the kept keys on a YAML front matter that cannot be
// edited line by line (a flow mapping) and encodes it again.
func keepYAMLNodes(keep article.FrontMatter, raw string, keys []string) (string, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return "", nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return "", nil, errors.New("not a mapping")
	}
	var kept []string
	for _, k := range keys {
		enc, err := yamlEncode(k, keep.Fields[k])
		var entry yaml.Node
		if err != nil || yaml.Unmarshal([]byte(enc), &entry) != nil || len(entry.Content) == 0 || len(entry.Content[0].Content) != 2 {
			continue
		}
		v := entry.Content[0].Content[1]
		found := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content[i+1] = v
				found = true
			}
		}
		if !found {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
		}
		kept = append(kept, k)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", nil, fmt.Errorf("encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", nil, fmt.Errorf("encode: %w", err)
	}
	return b.String(), kept, nil
}

// yamlEncode writes key: value as a YAML block mapping entry.
func yamlEncode(key string, v any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{key: v}); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// prefixEach puts p before every non-empty line of s.
func prefixEach(s, p string) string {
	if p == "" {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = p + l
		}
	}
	return strings.Join(lines, "")
}

// --- TOML ---

// tomlChunk is a piece of TOML text: a top-level key/value statement, a
// [table] or [[array]] section (key: the first part of its name), or the
// text between.
type tomlChunk struct {
	key  string
	text string
	kind int // tomlFiller, tomlStmt or tomlSec
}

const (
	tomlFiller = iota
	tomlStmt
	tomlSec
)

// tomlKeyChunks splits TOML text into chunks; comment lines directly above
// a statement or section go with it.
func tomlKeyChunks(raw string) ([]tomlChunk, error) {
	lines := splitLines(raw)
	var chunks []tomlChunk
	filler := func(s string) {
		if n := len(chunks); n > 0 && chunks[n-1].kind == tomlFiller {
			chunks[n-1].text += s
			return
		}
		chunks = append(chunks, tomlChunk{text: s})
	}
	// attached takes the comment lines that end the filler before a new
	// statement or section.
	attached := func() string {
		n := len(chunks)
		if n == 0 || chunks[n-1].kind != tomlFiller {
			return ""
		}
		ls := splitLines(chunks[n-1].text)
		top := len(ls)
		for top > 0 && strings.HasPrefix(strings.TrimSpace(ls[top-1]), "#") {
			top--
		}
		chunks[n-1].text = strings.Join(ls[:top], "")
		return strings.Join(ls[top:], "")
	}
	i := 0
	for i < len(lines) {
		t := strings.TrimSpace(lines[i])
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			filler(lines[i])
			i++
		case strings.HasPrefix(t, "["):
			key, err := tomlFirstKey(t + "\n")
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			text := attached() + lines[i]
			i++
			for i < len(lines) {
				t := strings.TrimSpace(lines[i])
				if strings.HasPrefix(t, "[") {
					break
				}
				n := 1
				if t != "" && !strings.HasPrefix(t, "#") {
					_, m, err := tomlStatementKey(lines[i:])
					if err != nil {
						return nil, fmt.Errorf("line %d: %w", i+1, err)
					}
					n = m
				}
				text += strings.Join(lines[i:i+n], "")
				i += n
			}
			// Trailing blank and comment lines are left between sections.
			ls := splitLines(text)
			end := len(ls)
			for end > 1 && (strings.TrimSpace(ls[end-1]) == "" || strings.HasPrefix(strings.TrimSpace(ls[end-1]), "#")) {
				end--
			}
			chunks = append(chunks, tomlChunk{key: key, text: strings.Join(ls[:end], ""), kind: tomlSec})
			if end < len(ls) {
				filler(strings.Join(ls[end:], ""))
			}
		default:
			key, n, err := tomlStatementKey(lines[i:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			text := attached() + strings.Join(lines[i:i+n], "")
			chunks = append(chunks, tomlChunk{key: key, text: text, kind: tomlStmt})
			i += n
		}
	}
	return chunks, nil
}

// tomlStatementKey finds the key/value statement at the start of lines:
// the first part of its key and its number of lines (see tomlStatement).
func tomlStatementKey(lines []string) (string, int, error) {
	var text strings.Builder
	var err error
	for n, l := range lines {
		text.WriteString(l)
		var md toml.MetaData
		md, err = toml.Decode(text.String(), &map[string]any{})
		if err != nil {
			continue
		}
		if keys := md.Keys(); len(keys) > 0 && len(keys[0]) > 0 {
			return keys[0][0], n + 1, nil
		}
		return "", n + 1, nil
	}
	return "", 0, fmt.Errorf("parse: %w", err)
}

// tomlFirstKey returns the first part of the name of the section header
// text.
func tomlFirstKey(text string) (string, error) {
	md, err := toml.Decode(text, &map[string]any{})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	if keys := md.Keys(); len(keys) > 0 && len(keys[0]) > 0 {
		return keys[0][0], nil
	}
	return "", errors.New("parse: a header without a name")
}

func keepTOML(keep article.FrontMatter, raw string, keys []string, same bool) (string, []string, error) {
	chunks, err := tomlKeyChunks(raw)
	if err != nil {
		return "", nil, err
	}
	type parts struct{ stmts, secs string }
	src := map[string]*parts{}
	if same {
		if sc, err := tomlKeyChunks(keep.Raw); err == nil {
			for _, c := range sc {
				if c.kind == tomlFiller {
					continue
				}
				p := src[c.key]
				if p == nil {
					p = &parts{}
					src[c.key] = p
				}
				if c.kind == tomlStmt {
					p.stmts += c.text
				} else {
					p.secs += blankLineBefore(p.secs, c.text)
				}
			}
		}
	}
	var kept []string
	for _, k := range keys {
		p := src[k]
		if p == nil {
			var b bytes.Buffer
			if err := toml.NewEncoder(&b).Encode(map[string]any{k: keep.Fields[k]}); err != nil || b.Len() == 0 {
				continue // no TOML for it (null)
			}
			enc := b.String()
			p = &parts{stmts: enc}
			if i := tomlHeaderLine(enc); i >= 0 {
				p = &parts{stmts: enc[:i], secs: enc[i:]}
			}
		}
		// Out with the new entries of k, in with Keep's.
		pos, secPos := -1, -1
		var rest []tomlChunk
		for _, c := range chunks {
			if c.kind != tomlFiller && c.key == k {
				if c.kind == tomlStmt && pos < 0 {
					pos = len(rest)
				}
				if c.kind == tomlSec && secPos < 0 {
					secPos = len(rest)
				}
				continue
			}
			rest = append(rest, c)
		}
		chunks = rest
		if p.stmts != "" {
			if pos < 0 {
				// After the last statement, else before the first section.
				first := len(chunks)
				for i, c := range chunks {
					if c.kind == tomlSec {
						first = min(first, i)
					}
					if c.kind == tomlStmt && i < first {
						pos = i + 1
					}
				}
				if pos < 0 {
					pos = first
				}
			}
			chunks = slices.Insert(chunks, pos, tomlChunk{key: k, text: p.stmts, kind: tomlStmt})
			if secPos >= pos {
				secPos++
			}
		}
		switch {
		case p.secs != "" && secPos >= 0:
			chunks = slices.Insert(chunks, secPos, tomlChunk{key: k, text: p.secs, kind: tomlSec})
		case p.secs != "":
			var b strings.Builder
			for _, c := range chunks {
				b.WriteString(c.text)
			}
			chunks = append(chunks, tomlChunk{key: k, text: blankLineBefore(b.String(), p.secs), kind: tomlSec})
		}
		kept = append(kept, k)
	}
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.text)
	}
	return b.String(), kept, nil
}

// tomlHeaderLine returns the index in s of the first line that is a
// section header, or -1.
func tomlHeaderLine(s string) int {
	off := 0
	for _, l := range splitLines(s) {
		if strings.HasPrefix(strings.TrimSpace(l), "[") {
			return off
		}
		off += len(l)
	}
	return -1
}

// blankLineBefore returns s with a blank line before it when it follows
// the non-empty text before.
func blankLineBefore(before, s string) string {
	if before == "" || strings.HasSuffix(before, "\n\n") {
		return s
	}
	if strings.HasSuffix(before, "\n") {
		return "\n" + s
	}
	return "\n\n" + s
}

// --- JSON ---

// jsonValues returns the text of each top-level value of a JSON object.
func jsonValues(raw string) (map[string]string, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	vals := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		vals[tok.(string)] = raw[end-len(v) : end]
	}
	return vals, nil
}

func keepJSON(keep article.FrontMatter, raw string, keys []string, same bool) (string, []string, error) {
	var src map[string]string
	if same {
		src, _ = jsonValues(keep.Raw)
	}
	var fs []field
	var kept []string
	for _, k := range keys {
		v, ok := src[k]
		if !ok {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(keep.Fields[k]); err != nil {
				continue
			}
			v = strings.TrimSuffix(b.String(), "\n")
		}
		fs = append(fs, field{key: k, raw: v})
		kept = append(kept, k)
	}
	out, err := editJSON(raw, fs)
	return out, kept, err
}

// --- Checking ---

// verifyKept decodes the front matter text out of format f and checks
// that each kept key holds its value in want and that the fields the
// renderer set hold theirs, unless a kept key replaced them.
func verifyKept(out string, f article.Format, fs []field, kept []string, want map[string]any) error {
	var decode func(string, *map[string]any) error
	switch f {
	case article.YAML:
		decode = func(s string, v *map[string]any) error { return yaml.Unmarshal([]byte(s), v) }
	case article.TOML:
		decode = func(s string, v *map[string]any) error { _, err := toml.Decode(s, v); return err }
	case article.JSON:
		decode = func(s string, v *map[string]any) error { return json.Unmarshal([]byte(s), v) }
	}
	var rest []field
	for _, fl := range fs {
		if !slices.Contains(kept, fl.key) {
			rest = append(rest, fl)
		}
	}
	if err := verify(out, rest, decode); err != nil {
		return err
	}
	var m map[string]any
	if err := decode(out, &m); err != nil {
		return fmt.Errorf("front matter with kept keys does not parse: %w", err)
	}
	for _, k := range kept {
		got, ok := m[k]
		if !ok || !sameValue(got, want[k]) {
			return fmt.Errorf("kept key %s = %#v, want %#v", k, got, want[k])
		}
	}
	return nil
}

// sameValue compares decoded front matter values across decoders (which
// differ in number types, time zones and map types) by their JSON form.
func sameValue(a, b any) bool {
	ja, ea := json.Marshal(stringKeys(a))
	jb, eb := json.Marshal(stringKeys(b))
	if ea == nil && eb == nil {
		return bytes.Equal(ja, jb)
	}
	return reflect.DeepEqual(a, b)
}

// stringKeys returns v with every map[any]any made a map[string]any.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = stringKeys(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = stringKeys(e)
		}
		return s
	case []map[string]any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = stringKeys(e)
		}
		return s
	}
	return v
}
