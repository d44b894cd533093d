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
	Prev       *Record // the record before this one; Prev.Prev is always nil when stored
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
	Prev      *recordFile       `json:"prev,omitempty"`
}

func toFile(r *Record, withPrev bool) *recordFile {
	f := &recordFile{Format: recordMagic, Path: r.Path, Sum: r.Sum, Written: r.Written, Model: r.Model, Lang: r.Lang,
		Layout: r.Layout, Syntax: r.Syntax, HugoLang: r.HugoLang, Title: r.Title, Segments: r.Segments,
		TLDR: r.TLDR, Points: r.Points, Meta: r.Meta, Kept: r.Kept, SumPin: r.SummaryPin}
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
		Points: f.Points, Meta: f.Meta, Kept: f.Kept, SummaryPin: f.SumPin}
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
// previous one, atomically and durably (see the package doc). r.Prev is kept
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
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	dir, name := m.recordPath(abs)
	m.wmu.Lock()
	defer m.wmu.Unlock()
	return m.writeFiles([]pendingFile{{dir: dir, name: name, data: buf.Bytes()}})
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
