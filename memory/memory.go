// Package memory is xlate's translation memory: the translations people
// corrected by hand (pinned entries), and a record of what xlate wrote to
// each output file, so that a later run can tell a person's edits from
// xlate's own text.
//
// The memory lives in a data directory ([DefaultDir], normally
// ~/.local/share/xlate), not in the cache: users treat the cache as
// disposable, and pins are their work.
//
// # Storage layout
//
//	<dir>/pins/<2 hex>/<sha256(lang "\x00" source)>.json  one pinned Entry per file
//	<dir>/generation                                      random token, rewritten on every change of the pins
//	<dir>/outputs/<2 hex>/<sha256(abs path)>.json.gz      one output Record per file (see record.go)
//
// Every file is written whole to a temporary file (".tmp-*") in its
// directory, fsynced, renamed into place and the directory fsynced, so a
// reader (another goroutine or process) sees the old file, the new one or
// none, never a torn one, and a write that returned nil survives kill -9 and
// a power cut. Several processes may write at once: the last rename wins per
// file, and no lock is needed. A process killed mid-write can leave a
// ".tmp-*" file behind; readers never look at those, and the next write to
// the same directory removes those older than an hour.
//
// Directories are created 0700 and files 0600, and only when something is
// written: [Open], [Memory.Pinned], [Memory.Pins], [Memory.Generation],
// [Memory.Record] and [Memory.Records] never create anything.
package memory

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultDir returns $XDG_DATA_HOME/xlate, or ~/.local/share/xlate when
// XDG_DATA_HOME is unset or not an absolute path (as the XDG Base Directory
// specification says to ignore relative paths).
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "xlate"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("memory: no data directory: %w", err)
	}
	if home == "" || !filepath.IsAbs(home) {
		return "", fmt.Errorf("memory: no data directory: home directory %q is not absolute", home)
	}
	return filepath.Join(home, ".local", "share", "xlate"), nil
}

// Entry is one translation in the memory.
type Entry struct {
	Lang    string    // target language name as xlate uses it ("English", "Traditional Chinese", any user string)
	Source  string    // the Chinese segment, exactly (markdown inline text; may contain newlines)
	Text    string    // the translation (markdown)
	Model   string    // model that wrote Text; "" when a person wrote it or it came from an import
	Created time.Time // when the entry was made (UTC, whole seconds)
	Pinned  bool
	Origin  string // where it came from: the output file it was read back from, "import: FILE", ...
}

// ImportStats counts what [Memory.Import] did.
type ImportStats struct {
	New      int // entries for a (lang, source) that had no pin
	Replaced int // entries that replaced a pin with a different text
	Same     int // entries whose pin already had the same text (left as they were)
}

type pinKey struct{ lang, source string }

// Memory is the memory in one directory. It is safe for concurrent use by
// goroutines and by several processes.
type Memory struct {
	dir string

	wmu sync.Mutex // serializes this Memory's writes, so its index follows the order of its renames

	mu     sync.RWMutex
	loaded bool
	index  map[pinKey]Entry
}

// Open returns the memory in dir. It creates nothing: directories are made
// by the first write.
func Open(dir string) (*Memory, error) {
	if dir == "" {
		return nil, errors.New("memory: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("memory: %s is not a directory", abs)
	}
	return &Memory{dir: abs}, nil
}

// Dir returns the memory's directory (absolute).
func (m *Memory) Dir() string { return m.dir }

const (
	pinsDir = "pins"
	genFile = "generation"
	tmpPref = ".tmp-"
	// staleTemp is the age after which a temporary file is a killed
	// writer's leftover, removed by the next write to its directory.
	staleTemp = time.Hour
	pinExt    = ".json"
	pinMagic  = 1 // pinFile.Format
)

// pinFile is a pin as stored on disk.
type pinFile struct {
	Format  int       `json:"xlate_pin"`
	Lang    string    `json:"lang"`
	Source  string    `json:"source"`
	Text    string    `json:"text"`
	Model   string    `json:"model,omitempty"`
	Created time.Time `json:"created"`
	Origin  string    `json:"origin,omitempty"`
}

func pinHash(lang, source string) string {
	h := sha256.New()
	h.Write([]byte(lang))
	h.Write([]byte{0})
	h.Write([]byte(source))
	return hex.EncodeToString(h.Sum(nil))
}

// pinPath returns the directory and file name of the pin for (lang, source).
func (m *Memory) pinPath(lang, source string) (dir, name string) {
	h := pinHash(lang, source)
	return filepath.Join(m.dir, pinsDir, h[:2]), h + pinExt
}

// decodePin parses a pin file named name; ok is false for anything that is
// not a well-formed pin stored under its own name.
func decodePin(name string, data []byte) (Entry, bool) {
	var p pinFile
	if err := json.Unmarshal(data, &p); err != nil || p.Format != pinMagic || p.Lang == "" || p.Source == "" {
		return Entry{}, false
	}
	if name != pinHash(p.Lang, p.Source)+pinExt {
		return Entry{}, false
	}
	return Entry{Lang: p.Lang, Source: p.Source, Text: p.Text, Model: p.Model, Created: p.Created, Pinned: true, Origin: p.Origin}, true
}

// readPin reads the stored pin for (lang, source) from disk.
func (m *Memory) readPin(lang, source string) (Entry, bool) {
	dir, name := m.pinPath(lang, source)
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return Entry{}, false
	}
	e, ok := decodePin(name, data)
	if !ok || e.Lang != lang || e.Source != source {
		return Entry{}, false
	}
	return e, true
}

// scanPins reads every pin on disk. A missing directory is no pins; a file
// that does not parse is skipped; an unreadable directory is an error.
func (m *Memory) scanPins() ([]Entry, error) {
	root := filepath.Join(m.dir, pinsDir)
	shards, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	var es []Entry
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, sh.Name()))
		if err != nil {
			return nil, fmt.Errorf("memory: %w", err)
		}
		for _, f := range files {
			n := f.Name()
			if f.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, pinExt) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(root, sh.Name(), n))
			if err != nil {
				continue // removed meanwhile by an Unpin, or unreadable: not a pin
			}
			if e, ok := decodePin(n, data); ok {
				es = append(es, e)
			}
		}
	}
	return es, nil
}

// load builds the index once. Called with m.mu held for writing.
func (m *Memory) load() {
	if m.loaded {
		return
	}
	es, _ := m.scanPins() // an unreadable memory is an empty one for lookups; Pins reports the error
	m.index = make(map[pinKey]Entry, len(es))
	for _, e := range es {
		m.index[pinKey{e.Lang, e.Source}] = e
	}
	m.loaded = true
}

// Pinned returns the pinned entry for (lang, source). The pins are read from
// disk once, on the first call; later calls are map lookups. Pins, unpins
// and imports made through this Memory are visible at once; those of other
// processes after the first call are not (open the memory again to see them).
func (m *Memory) Pinned(lang, source string) (Entry, bool) {
	m.mu.RLock()
	if m.loaded {
		e, ok := m.index[pinKey{lang, source}]
		m.mu.RUnlock()
		return e, ok
	}
	m.mu.RUnlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.load()
	e, ok := m.index[pinKey{lang, source}]
	return e, ok
}

// Pins lists every pinned entry, read afresh from disk (so it includes other
// processes' pins), sorted by Lang then Source.
func (m *Memory) Pins() ([]Entry, error) {
	es, err := m.scanPins()
	if err != nil {
		return nil, err
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].Lang != es[j].Lang {
			return es[i].Lang < es[j].Lang
		}
		return es[i].Source < es[j].Source
	})
	return es, nil
}

// checkEntry reports an entry that cannot be stored faithfully.
func checkEntry(e Entry) error {
	switch {
	case e.Lang == "":
		return fmt.Errorf("memory: entry for %q has no language", short(e.Source))
	case e.Source == "":
		return fmt.Errorf("memory: %s entry has an empty source", e.Lang)
	}
	for _, s := range []string{e.Lang, e.Source, e.Text, e.Model, e.Origin} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("memory: %s entry for %q is not valid UTF-8", e.Lang, short(e.Source))
		}
	}
	return nil
}

func short(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}

// normalize returns e as it is stored: pinned, created now if it has no
// time, in UTC whole seconds.
func normalize(e Entry, now time.Time) Entry {
	e.Pinned = true
	if e.Created.IsZero() {
		e.Created = now
	}
	e.Created = e.Created.UTC().Truncate(time.Second)
	return e
}

// Pin stores es as pinned, replacing any pin for the same (lang, source).
// When it returns nil the entries are on disk durably. An entry with no
// Created gets the current time. An entry whose pin already has the same
// Text, Model and Origin is left as it is (so pinning the same corrections
// on every run changes nothing, not even [Memory.Generation]). An entry
// with an empty Lang or Source, or that is not valid UTF-8, fails the whole
// call before anything is written.
func (m *Memory) Pin(es ...Entry) error {
	_, err := m.pin(es, false)
	return err
}

// Import pins all es, like Pin: they are all checked before anything is
// written, so bad input writes nothing. Entries whose pin already has the
// same text are counted as Same and left untouched (their Created and
// Origin stay). When es holds the same (lang, source) more than once, the
// last one counts.
func (m *Memory) Import(es []Entry) (ImportStats, error) {
	return m.pin(es, true)
}

func (m *Memory) pin(es []Entry, skipSame bool) (ImportStats, error) {
	var st ImportStats
	for _, e := range es {
		if err := checkEntry(e); err != nil {
			return st, err
		}
	}
	// The last entry for a key wins.
	last := make(map[pinKey]int, len(es))
	for i, e := range es {
		last[pinKey{e.Lang, e.Source}] = i
	}
	now := time.Now()
	m.wmu.Lock()
	defer m.wmu.Unlock()
	var writes []pendingFile
	var stored []Entry
	for i, e := range es {
		if last[pinKey{e.Lang, e.Source}] != i {
			continue
		}
		e = normalize(e, now)
		if old, ok := m.readPin(e.Lang, e.Source); !ok {
			st.New++
		} else if old.Text == e.Text {
			st.Same++
			if skipSame || old.Model == e.Model && old.Origin == e.Origin {
				stored = append(stored, old) // for this Memory's index, which may predate it
				continue
			}
		} else {
			st.Replaced++
		}
		data, err := json.MarshalIndent(pinFile{Format: pinMagic, Lang: e.Lang, Source: e.Source, Text: e.Text,
			Model: e.Model, Created: e.Created, Origin: e.Origin}, "", "\t")
		if err != nil {
			return ImportStats{}, fmt.Errorf("memory: %w", err)
		}
		dir, name := m.pinPath(e.Lang, e.Source)
		writes = append(writes, pendingFile{dir: dir, name: name, data: append(data, '\n')})
		stored = append(stored, e)
	}
	if len(writes) > 0 {
		if err := m.writeFiles(writes); err != nil {
			return ImportStats{}, err
		}
	}
	m.mu.Lock()
	if m.loaded {
		for _, e := range stored {
			m.index[pinKey{e.Lang, e.Source}] = e
		}
	}
	m.mu.Unlock()
	if len(writes) == 0 {
		return st, nil
	}
	if err := m.bumpGeneration(); err != nil {
		return ImportStats{}, err
	}
	return st, nil
}

// Unpin removes the pin for (lang, source). It reports false when there was
// none.
func (m *Memory) Unpin(lang, source string) (bool, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	dir, name := m.pinPath(lang, source)
	err := os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		m.mu.Lock()
		if m.loaded {
			delete(m.index, pinKey{lang, source})
		}
		m.mu.Unlock()
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("memory: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return false, fmt.Errorf("memory: %w", err)
	}
	m.mu.Lock()
	if m.loaded {
		delete(m.index, pinKey{lang, source})
	}
	m.mu.Unlock()
	if err := m.bumpGeneration(); err != nil {
		return true, err
	}
	return true, nil
}

// Generation returns a token that changes whenever the set of pins changes
// (Pin, Unpin, Import, in any process): a fresh random token is written
// after the pin files are durable. It is "" when no pin was ever made.
// It costs one small file read.
func (m *Memory) Generation() string {
	data, err := os.ReadFile(filepath.Join(m.dir, genFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (m *Memory) bumpGeneration() error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	tok := fmt.Sprintf("%d-%s\n", time.Now().Unix(), hex.EncodeToString(b[:]))
	return m.writeFiles([]pendingFile{{dir: m.dir, name: genFile, data: []byte(tok)}})
}

// pendingFile is one file for writeFiles.
type pendingFile struct {
	dir, name string
	data      []byte
}

// writeFiles writes each file durably and atomically: all are written to
// fsynced temporary files first, then renamed into place, then their
// directories are fsynced. If any temporary file cannot be written, none is
// renamed.
func (m *Memory) writeFiles(files []pendingFile) error { return m.write(files, true) }

// write is writeFiles; without durable, nothing is fsynced: the files are
// still atomic (complete or absent after a kill), but a power cut may lose
// them.
func (m *Memory) write(files []pendingFile, durable bool) error {
	dirs := map[string]bool{}
	for _, f := range files {
		if !dirs[f.dir] {
			if err := m.mkdir(f.dir); err != nil {
				return fmt.Errorf("memory: %w", err)
			}
			dirs[f.dir] = true
		}
	}
	tmps := make([]string, 0, len(files))
	cleanup := func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	for _, f := range files {
		t, err := writeTemp(f.dir, f.name, f.data, durable)
		if err != nil {
			cleanup()
			return fmt.Errorf("memory: %w", err)
		}
		tmps = append(tmps, t)
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(f.dir, f.name)); err != nil {
			tmps = tmps[i:]
			cleanup()
			return fmt.Errorf("memory: %w", err)
		}
	}
	for d := range dirs {
		if durable {
			if err := syncDir(d); err != nil {
				return fmt.Errorf("memory: %w", err)
			}
		}
		sweepTemps(d)
	}
	return nil
}

// writeTemp writes data to a new fsynced 0600 temporary file in dir and
// returns its path.
func writeTemp(dir, name string, data []byte, durable bool) (string, error) {
	f, err := os.CreateTemp(dir, tmpPref+name+"-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// mkdir creates dir and its missing parents 0700, fsyncing each parent in
// which it created one, so that the new directory entries are durable too.
func (m *Memory) mkdir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := m.mkdir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // made meanwhile by another writer
		}
		return err
	}
	return syncDir(parent)
}

// sweepTemps removes the temporary files a killed writer left in dir. Only
// old ones: a younger one may be another process's write in progress.
func sweepTemps(dir string) {
	if _, done := swept.LoadOrStore(dir, true); done {
		return // once per directory and process: a run writes many records
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), tmpPref) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// swept holds the directories sweepTemps has swept.
var swept sync.Map

// syncDir fsyncs a directory so that renames and removals in it are
// durable. Windows cannot fsync a directory (and needs not).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
