// Package glossary reads term lists (Chinese source term -> rendering in the
// target language) and finds the terms that occur in a text.
//
// A glossary file is one of
//
//   - CSV (.csv): two comma-separated columns, quoted as encoding/csv reads
//     them ("Musk, Elon" is one field);
//   - TSV (.tsv, .txt): two tab-separated columns, no quoting;
//   - YAML (.yaml, .yml): a mapping of terms ("马斯克: Musk") or a list of
//     {source: 马斯克, target: Musk} items.
//
// In CSV and TSV, blank lines and lines starting with "#" are ignored, and a
// first row whose two cells are both header words ("source,target",
// "中文,English", "term,translation", …) is a header, not an entry. Fields
// are trimmed of surrounding white space; a UTF-8 byte order mark is
// skipped.
//
// Every entry needs a non-empty source and target without line breaks,
// ";" or "=" (the characters that delimit entries in a request). A source
// listed twice with the same target is kept once; with different targets it
// is an error. Errors name the file and line: "glossary.csv:7: want 2
// columns, got 3".
package glossary

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Entry is one glossary term: Source (as it appears in the article) is to
// be rendered as Target.
type Entry struct {
	Source, Target string
}

// Glossary is a list of entries with distinct sources. The zero value is an
// empty glossary, which finds nothing.
type Glossary []Entry

// MaxSize is the largest glossary file Load reads.
const MaxSize = 8 << 20

// Load reads the glossary file at path; its format follows the extension
// (.csv, .tsv, .txt, .yaml, .yml).
func Load(path string) (Glossary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("glossary: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a glossary from r; name is the file name, whose extension gives
// the format and which errors quote.
func Read(r io.Reader, name string) (Glossary, error) {
	format := strings.ToLower(filepath.Ext(name))
	switch format {
	case ".csv", ".tsv", ".txt", ".yaml", ".yml":
	default:
		return nil, fmt.Errorf("glossary: %s: unknown format %q (want .csv, .tsv, .txt, .yaml or .yml)", name, format)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("glossary: read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("glossary: %s: larger than %d MiB", name, MaxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("glossary: %s: not valid UTF-8", name)
	}
	b := builder{name: name, line: map[string]int{}}
	switch format {
	case ".csv":
		err = b.readCSV(data)
	case ".tsv", ".txt":
		err = b.readTSV(data)
	default:
		err = b.readYAML(data)
	}
	if err != nil {
		return nil, err
	}
	return b.g, nil
}

// builder collects entries, checking each one.
type builder struct {
	name string
	g    Glossary
	line map[string]int // source -> line of its entry
}

func (b *builder) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", b.name, line, fmt.Sprintf(format, args...))
}

// add checks and adds one entry found at line.
func (b *builder) add(line int, source, target string) error {
	source, target = strings.TrimSpace(source), strings.TrimSpace(target)
	switch {
	case source == "":
		return b.errorf(line, "empty source term")
	case target == "":
		return b.errorf(line, "empty target for %q", source)
	}
	for _, s := range []string{source, target} {
		if i := strings.IndexAny(s, ";=\r\n"); i >= 0 {
			return b.errorf(line, "%q: %q is not allowed in a term", s, s[i:i+1])
		}
	}
	if at, ok := b.line[source]; ok {
		i := slices.IndexFunc(b.g, func(e Entry) bool { return e.Source == source })
		if b.g[i].Target == target {
			return nil
		}
		return b.errorf(line, "%q is %q here but %q on line %d", source, target, b.g[i].Target, at)
	}
	b.line[source] = line
	b.g = append(b.g, Entry{Source: source, Target: target})
	return nil
}

// Header words: a first CSV/TSV row made of a source word and a target word
// is a header.
var (
	sourceHeads = words("source src term from original chinese zh zh-cn cn 中文 原文 源 术语 词条 简体中文 汉语 源语言")
	targetHeads = words("target tgt translation to rendering english en 英文 译文 译名 目标 目标语言 翻译 " +
		"german deutsch de french français fr spanish español es japanese 日本語 日文 ja korean 한국어 ko " +
		"russian ru italian it portuguese pt 繁體中文 繁体中文 zh-hant zh-tw")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func isHeader(cells []string) bool {
	return len(cells) == 2 &&
		sourceHeads[strings.ToLower(strings.TrimSpace(cells[0]))] &&
		targetHeads[strings.ToLower(strings.TrimSpace(cells[1]))]
}

// row adds one CSV/TSV row: the first row may be a header.
func (b *builder) row(line int, cells []string, first bool) error {
	if first && isHeader(cells) {
		return nil
	}
	if len(cells) != 2 {
		return b.errorf(line, "want 2 columns, got %d", len(cells))
	}
	return b.add(line, cells[0], cells[1])
}

func (b *builder) readCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	for first := true; ; first = false {
		cells, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return b.errorf(pe.Line, "%v", pe.Err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		line, _ := r.FieldPos(0)
		if err := b.row(line, cells, first); err != nil {
			return err
		}
	}
}

func (b *builder) readTSV(data []byte) error {
	first := true
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if err := b.row(i+1, strings.Split(line, "\t"), first); err != nil {
			return err
		}
		first = false
	}
	return nil
}

func (b *builder) readYAML(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	switch root.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			if err := b.yamlEntry(k, k, v); err != nil {
				return err
			}
		}
		return nil
	case yaml.SequenceNode:
		for _, item := range root.Content {
			if item.Kind != yaml.MappingNode {
				return b.errorf(item.Line, "want a {source, target} mapping")
			}
			var src, tgt *yaml.Node
			for i := 0; i+1 < len(item.Content); i += 2 {
				switch k := item.Content[i]; k.Value {
				case "source":
					src = item.Content[i+1]
				case "target":
					tgt = item.Content[i+1]
				default:
					return b.errorf(k.Line, "unknown key %q (want source and target)", k.Value)
				}
			}
			if src == nil || tgt == nil {
				return b.errorf(item.Line, "want both source and target")
			}
			if err := b.yamlEntry(item, src, tgt); err != nil {
				return err
			}
		}
		return nil
	default:
		return b.errorf(root.Line, "want a mapping of terms or a list of {source, target}")
	}
}

// yamlEntry adds the entry of scalar nodes src and tgt, found at node at.
func (b *builder) yamlEntry(at, src, tgt *yaml.Node) error {
	for _, n := range []*yaml.Node{src, tgt} {
		if n.Kind != yaml.ScalarNode {
			return b.errorf(n.Line, "want a plain term, not a list or mapping")
		}
	}
	return b.add(at.Line, src.Value, tgt.Value)
}

// In returns the entries whose source occurs in text, longest source first
// (ties in byte order of the source), each once.
//
// Matches do not overlap, and longer sources win: the sources are tried
// longest first, and an occurrence inside a longer source found earlier does
// not count. So with both 马斯克 (Musk) and 伊隆·马斯克 (Elon Musk), the text
// "伊隆·马斯克说" gives only 伊隆·马斯克, while "伊隆·马斯克说马斯克" gives both;
// and with 北京 (Beijing) and 北京大学 (Peking University), "北京大学" does not
// ask for "Beijing". Matching is exact (case-sensitive).
func (g Glossary) In(text string) Glossary {
	var found Glossary
	for _, e := range g {
		if e.Source != "" && strings.Contains(text, e.Source) {
			found = append(found, e)
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortStableFunc(found, longestFirst)
	found = slices.CompactFunc(found, func(a, b Entry) bool { return a.Source == b.Source })
	var taken [][2]int // byte spans of the matches kept
	kept := found[:0]
	for _, e := range found {
		hit := false
		for off := 0; ; {
			i := strings.Index(text[off:], e.Source)
			if i < 0 {
				break
			}
			s, end := off+i, off+i+len(e.Source)
			if !overlaps(taken, s, end) {
				taken = append(taken, [2]int{s, end})
				hit = true
			}
			off = end
		}
		if hit {
			kept = append(kept, e)
		}
	}
	return kept
}

// longestFirst orders entries by source length (in runes) descending, then
// by source.
func longestFirst(a, b Entry) int {
	if d := utf8.RuneCountInString(b.Source) - utf8.RuneCountInString(a.Source); d != 0 {
		return d
	}
	return strings.Compare(a.Source, b.Source)
}

func overlaps(spans [][2]int, s, e int) bool {
	for _, sp := range spans {
		if s < sp[1] && sp[0] < e {
			return true
		}
	}
	return false
}

// Key is a stable digest of the entries, independent of their order: equal
// for equal sets of entries, different when any source or target differs.
// It is "" for an empty glossary, so a cache key that appends it is
// unchanged where no term occurs.
func (g Glossary) Key() string {
	if len(g) == 0 {
		return ""
	}
	sorted := slices.Clone(g)
	slices.SortFunc(sorted, func(a, b Entry) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	h := sha256.New()
	for _, e := range sorted {
		fmt.Fprintf(h, "%d:%s%d:%s", len(e.Source), e.Source, len(e.Target), e.Target)
	}
	return "g1:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// String renders the entries as "source = target; source = target", the
// form a translation request carries.
func (g Glossary) String() string {
	var b strings.Builder
	for i, e := range g {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Source + " = " + e.Target)
	}
	return b.String()
}
