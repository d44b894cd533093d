package memory

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Record is what xlate wrote to one output file. The pipeline fills it;
// this package stores it.
type Record struct {
	Path     string // absolute output path
	Sum      string // hex sha256 of the output bytes as written
	Written  time.Time
	Model    string
	Lang     string // target language name
	Layout   string // "bilingual" or "english"
	Syntax   string // input body syntax setting
	HugoLang string
	Input    []byte            // the input file's bytes, as parsed for that output
	Title    Pair              // the title's source and its translation as written
	Segments []Pair            // per segment, in order: source and translation as written ("" = none shown)
	TLDR     string            // summary as written
	Points   []string          // key points as written
	Meta     map[string]string // front matter key -> hash of its value as written (opaque here)
	Kept     []string          // front matter keys a person added or changed, carried into every rewrite
	// SummaryPin is the memory source of the person's summary the output
	// shows ("" if the model's): kept while pinned, also when the article
	// changes.
	SummaryPin string
	// Personal tells that the output has texts of its own (kept keys, an
	// edited summary, a person's wording the memory's pins would not give
	// it): RecordSums says so without reading the record.
	Personal bool
	Prev     *Record // the record before this one; Prev.Prev is always nil when stored
}

// Pair is a source text and its translation.
type Pair struct {
	Source string `json:"source"`
	Text   string `json:"text"`
	// Person tells that Text is a person's (a pinned translation), which
	// this output keeps while its source is pinned, whatever other files
	// pin for the same source.
	Person bool `json:"person,omitempty"`
}

const (
	outputsDir  = "outputs"
	recordExt   = ".json.gz"
	sumsExt     = ".sums"
	recordMagic = 1 // recordFile.Format
)

// recordFile is a Record as stored: gzip'd JSON. Input is stored as a JSON
// string when it is valid UTF-8 (it compresses far better than base64),
// else as base64 bytes.
type recordFile struct {
	Format    int               `json:"xlate_record"`
	Path      string            `json:"path"`
	Sum       string            `json:"sum"`
	Written   time.Time         `json:"written"`
	Model     string            `json:"model,omitempty"`
	Lang      string            `json:"lang,omitempty"`
	Layout    string            `json:"layout,omitempty"`
	Syntax    string            `json:"syntax,omitempty"`
	HugoLang  string            `json:"hugo_lang,omitempty"`
	InputText *string           `json:"input_text,omitempty"`
	InputRaw  []byte            `json:"input_raw,omitempty"`
	Title     Pair              `json:"title"`
	Segments  []Pair            `json:"segments,omitempty"`
	TLDR      string            `json:"tldr,omitempty"`
	Points    []string          `json:"points,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
	Kept      []string          `json:"kept,omitempty"`
	SumPin    string            `json:"summary_pin,omitempty"`
	Personal  bool              `json:"personal,omitempty"`
	Prev      *recordFile       `json:"prev,omitempty"`
}

func toFile(r *Record, withPrev bool) *recordFile {
	f := &recordFile{Format: recordMagic, Path: r.Path, Sum: r.Sum, Written: r.Written, Model: r.Model, Lang: r.Lang,
		Layout: r.Layout, Syntax: r.Syntax, HugoLang: r.HugoLang, Title: r.Title, Segments: r.Segments,
		TLDR: r.TLDR, Points: r.Points, Meta: r.Meta, Kept: r.Kept, SumPin: r.SummaryPin, Personal: r.Personal}
	if utf8.Valid(r.Input) {
		s := string(r.Input)
		f.InputText = &s
	} else {
		f.InputRaw = r.Input
	}
	if withPrev && r.Prev != nil {
		f.Prev = toFile(r.Prev, false) // Prev.Prev is dropped
	}
	return f
}

func fromFile(f *recordFile) Record {
	r := Record{Path: f.Path, Sum: f.Sum, Written: f.Written, Model: f.Model, Lang: f.Lang, Layout: f.Layout,
		Syntax: f.Syntax, HugoLang: f.HugoLang, Title: f.Title, Segments: f.Segments, TLDR: f.TLDR,
		Points: f.Points, Meta: f.Meta, Kept: f.Kept, SummaryPin: f.SumPin, Personal: f.Personal}
	switch {
	case f.InputText != nil && *f.InputText != "":
		r.Input = []byte(*f.InputText)
	case len(f.InputRaw) > 0:
		r.Input = f.InputRaw
	}
	if f.Prev != nil {
		p := fromFile(f.Prev)
		p.Prev = nil
		r.Prev = &p
	}
	return r
}

// recordPath returns the directory and file name of the record for an
// absolute, clean output path.
func (m *Memory) recordPath(abs string) (dir, name string) {
	s := sha256.Sum256([]byte(abs))
	h := hex.EncodeToString(s[:])
	return filepath.Join(m.dir, outputsDir, h[:2]), h + recordExt
}

func absPath(path string) (string, error) {
	if path == "" {
		return "", errors.New("memory: record with no output path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("memory: %w", err)
	}
	return abs, nil
}

// decodeRecord parses a stored record; ok is false for anything that is not
// a well-formed record.
func decodeRecord(data []byte) (Record, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return Record{}, false
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return Record{}, false
	}
	var f recordFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Format != recordMagic || f.Path == "" {
		return Record{}, false
	}
	return fromFile(&f), true
}

// Record returns the record of what xlate last wrote to path (made
// absolute). A missing, corrupt or unreadable record is reported as
// (Record{}, false, nil): it is ignored, as if xlate had never written
// there. The error is only for a path that cannot be made absolute.
func (m *Memory) Record(path string) (Record, bool, error) {
	abs, err := absPath(path)
	if err != nil {
		return Record{}, false, err
	}
	dir, name := m.recordPath(abs)
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return Record{}, false, nil
	}
	r, ok := decodeRecord(data)
	if !ok || r.Path != abs {
		return Record{}, false, nil
	}
	return r, true, nil
}

// SetRecord stores r as the record of r.Path (made absolute), replacing the
// previous one, atomically (complete or absent after a kill; not fsynced, see the comment in it). r.Prev is kept
// without its own Prev. r is not modified.
func (m *Memory) SetRecord(r Record) error {
	abs, err := absPath(r.Path)
	if err != nil {
		return err
	}
	r.Path = abs
	raw, err := json.Marshal(toFile(&r, true))
	if err != nil {
		return fmt.Errorf("memory: record of %s: %w", abs, err)
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer) // a record is written per output
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	dir, name := m.recordPath(abs)
	// The sums go beside the record, after it, so that the common
	// question (is the file as written?) reads a few bytes: a sums file
	// a crash left stale only costs a full read.
	// Lines: the sum, the previous record's sum, "personal" or "".
	prev := ""
	if r.Prev != nil {
		prev = r.Prev.Sum
	}
	sums := r.Sum + "\n" + prev + "\n"
	if r.Personal {
		sums += "personal\n"
	}
	// Not synced: a record lost to a power cut only makes its output one
	// read against the input (see the pipeline); a kill leaves it whole
	// or absent.
	return m.write([]pendingFile{
		{dir: dir, name: name, data: buf.Bytes()},
		{dir: dir, name: strings.TrimSuffix(name, recordExt) + sumsExt, data: []byte(sums)},
	}, false)
}

// gzipWriters are reused: making one costs more than compressing a
// record with it.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// RecordSums returns the checksums of the output at path as its record
// has it written, and as the record before it had it ("" if none), and
// whether the record is Personal, without reading the whole record.
func (m *Memory) RecordSums(path string) (sum, prev string, personal, ok bool) {
	abs, err := absPath(path)
	if err != nil {
		return "", "", false, false
	}
	dir, name := m.recordPath(abs)
	if b, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, recordExt)+sumsExt)); err == nil {
		lines := strings.Split(string(b), "\n")
		if len(lines) >= 3 && len(lines) <= 4 && len(lines[0]) == 64 && lines[len(lines)-1] == "" {
			return lines[0], lines[1], len(lines) == 4 && lines[2] == "personal", true
		}
	}
	r, ok, _ := m.Record(path)
	if !ok {
		return "", "", false, false
	}
	if r.Prev != nil {
		prev = r.Prev.Sum
	}
	return r.Sum, prev, r.Personal, true
}

// Records calls f for every stored record, in no particular order, and
// stops at the first error f returns, returning it. Corrupt or unreadable
// records are skipped. A directory that cannot be listed is an error.
func (m *Memory) Records(f func(Record) error) error {
	root := filepath.Join(m.dir, outputsDir)
	shards, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, sh.Name()))
		if err != nil {
			return fmt.Errorf("memory: %w", err)
		}
		for _, fi := range files {
			n := fi.Name()
			if fi.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, recordExt) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(root, sh.Name(), n))
			if err != nil {
				continue
			}
			r, ok := decodeRecord(data)
			if !ok {
				continue
			}
			if dir, name := m.recordPath(r.Path); dir != filepath.Join(root, sh.Name()) || name != n {
				continue // not stored under its own path's name: foreign
			}
			if err := f(r); err != nil {
				return err
			}
		}
	}
	return nil
}
