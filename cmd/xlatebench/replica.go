package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xlate/xlate/article"
)

// corpusFile is one file of the corpus the input tree is replicated from.
type corpusFile struct {
	Name string // base name, e.g. "KEGG数据库.md"
	Raw  []byte // the file as stored (any encoding xlate reads)
	Text string // Raw decoded to UTF-8 by article.Decode
}

// loadCorpus reads every regular file of dir (not recursive), sorted by
// name.
func loadCorpus(dir string) ([]corpusFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	var files []corpusFile
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read corpus: %w", err)
		}
		text, err := article.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("read corpus: %s: %w", e.Name(), err)
		}
		files = append(files, corpusFile{Name: e.Name(), Raw: raw, Text: text})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read corpus: no files in %s", dir)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// footerWords are texts whose meaning xlate relies on (the link to the
// original article); replicas leave them alone.
var footerWords = map[string]bool{"原文链接": true, "阅读原文": true, "原文": true}

// replica returns text made into a distinct article for replica k: every
// run of text that holds Han characters gets the marker "（k）" after its
// last Han character. A run is a stretch of a line outside HTML tags and
// between "|" (markdown table cells), so
// every paragraph, heading, list item, table cell and the title (in front
// matter, a "TITLE by SOURCE" header or a heading) changes, while markup,
// attributes, URLs in tags and the 原文链接 footer stay as they are.
// Replica 0 is text unchanged.
//
// The change is small (about 3 tokens a paragraph) and keeps every file's
// structure, so replicas parse into the same blocks as the original, each
// with text no other replica has: neither xlate's cache nor its sharing of
// identical paragraphs can serve one replica from another.
func replica(text string, k int) string {
	if k == 0 {
		return text
	}
	marker := fmt.Sprintf("（%d）", k)
	var b strings.Builder
	b.Grow(len(text) + len(text)/20)
	run := 0 // start of the current run in text
	flush := func(end int) {
		b.WriteString(markRun(text[run:end], marker))
		run = end
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n' || c == '|':
			flush(i)
		case c == '<':
			j := tagLen(text[i:])
			if j == 0 {
				break
			}
			flush(i)
			b.WriteString(text[i : i+j])
			i += j
			run = i
			continue
		}
		i++
	}
	flush(len(text))
	return b.String()
}

// tagLen returns the length of the HTML tag, comment or declaration at the
// start of s, or 0 when s does not start with one: '<' then a letter, '/',
// '!' or '?', up to the first '>' on the same line (so "a < b" or "<N" in
// prose is text, and a stray '<' cannot swallow the rest of a file).
func tagLen(s string) int {
	if len(s) < 2 || s[0] != '<' {
		return 0
	}
	if c := s[1]; !(c == '/' || c == '!' || c == '?' || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '>':
			return i + 1
		case '\n':
			return 0
		}
	}
	return 0
}

// markRun inserts marker after the last Han character of s, unless s has
// none or its Han characters spell a footer word.
func markRun(s, marker string) string {
	last := -1
	var han strings.Builder
	for i, r := range s {
		if unicode.Is(unicode.Han, r) {
			last = i + utf8.RuneLen(r)
			han.WriteRune(r)
		}
	}
	if last < 0 || footerWords[han.String()] {
		return s
	}
	return s[:last] + marker + s[last:]
}

// treeFile is one file of a generated input tree.
type treeFile struct {
	Rel    string // path relative to the tree root, slash separated
	Source string // the corpus file it is a replica of
	K      int    // replica number
}

// treeLayout lists the n files of an input tree replicated from the corpus
// files names: file i is replica i/len(names) of names[i%len(names)], at
// "rKKKKK/NAME". The first len(names) files are the corpus itself.
func treeLayout(names []string, n int) []treeFile {
	if len(names) == 0 || n <= 0 {
		return nil
	}
	out := make([]treeFile, n)
	for i := range out {
		k, name := i/len(names), names[i%len(names)]
		out[i] = treeFile{Rel: fmt.Sprintf("r%05d/%s", k, name), Source: name, K: k}
	}
	return out
}

// writeTree writes an input tree of n replicas of corpus under dir and
// returns its layout. Replica 0 files are written byte for byte (keeping a
// GB18030 file GB18030); the others as UTF-8.
func writeTree(dir string, corpus []corpusFile, n int) ([]treeFile, error) {
	byName := make(map[string]corpusFile, len(corpus))
	names := make([]string, len(corpus))
	for i, f := range corpus {
		byName[f.Name] = f
		names[i] = f.Name
	}
	layout := treeLayout(names, n)
	made := map[string]bool{}
	for _, tf := range layout {
		p := filepath.Join(dir, filepath.FromSlash(tf.Rel))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("write tree: %w", err)
			}
			made[d] = true
		}
		f := byName[tf.Source]
		data := f.Raw
		if tf.K > 0 {
			data = []byte(replica(f.Text, tf.K))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write tree: %w", err)
		}
	}
	return layout, nil
}

// editParagraph changes one paragraph of text:
// it inserts "（已修订）" after a run of at least 8 Han characters that
// occurs once in text, outside tags, trying the longest runs first, and
// keeps the first edit after which article.Parse finds the same title and
// exactly one segment changed. It reports false when no run qualifies.
func editParagraph(text string) (string, bool) {
	before, err := article.Parse([]byte(text), article.SyntaxAuto)
	if err != nil {
		return text, false
	}
	runs := hanRuns(text)
	count := map[string]int{}
	for _, r := range runs {
		count[r.text]++
	}
	var cand []hanRun
	for _, r := range runs {
		if count[r.text] == 1 && utf8.RuneCountInString(r.text) >= 8 && strings.Count(text, r.text) == 1 {
			cand = append(cand, r)
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return len(cand[i].text) > len(cand[j].text) })
	for _, r := range cand {
		edited := text[:r.end] + "（已修订）" + text[r.end:]
		after, err := article.Parse([]byte(edited), article.SyntaxAuto)
		if err == nil && after.Title == before.Title && oneSegmentChanged(before.Segments(false), after.Segments(false)) {
			return edited, true
		}
	}
	return text, false
}

// oneSegmentChanged reports whether a and b differ in exactly one text.
func oneSegmentChanged(a, b []article.Segment) bool {
	if len(a) != len(b) {
		return false
	}
	n := 0
	for i := range a {
		if a[i].Text != b[i].Text {
			n++
		}
	}
	return n == 1
}

type hanRun struct {
	text string
	end  int // byte offset just after the run
}

// hanRuns lists the maximal runs of Han characters of text outside tags.
func hanRuns(text string) []hanRun {
	var runs []hanRun
	tagEnd, start := 0, -1
	end := func(i int) {
		if start >= 0 {
			runs = append(runs, hanRun{text: text[start:i], end: i})
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case i < tagEnd:
		case r == '<' && tagLen(text[i:]) > 0:
			end(i)
			tagEnd = i + tagLen(text[i:])
		case unicode.Is(unicode.Han, r):
			if start < 0 {
				start = i
			}
			continue
		}
		end(i)
	}
	end(len(text))
	return runs
}
