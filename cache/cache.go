// Package cache is a small content-addressed file cache that goroutines and
// separate xlate processes can share.
//
// Keys come from [Key], a SHA-256 over the parts that determine a result
// (prompt version, model, language, text...). A [Dir] stores each value in
// its own file, dir/<first two hex digits>/<key>, so no index has to be
// locked. [Nop] is a Store that never hits, for --no-cache.
//
// # Concurrency and crash safety
//
// [Dir.Put] writes the entry to a temporary file in the entry's shard
// directory and renames it into place. Rename is atomic within a directory,
// so a reader sees either the old file, the new one or none, never a mix,
// however many goroutines or processes write the same key. A process killed
// mid-write leaves only a temporary file behind; [Dir.Get] never looks at
// temporary files, and [Dir.Prune] and [Dir.Clear] remove them.
//
// # Entry format
//
// An entry file is one header line followed by the value:
//
//	xlate-cache 1 <key> <value length> <hex SHA-256 of the value>\n<value>
//
// Get rebuilds the header it expects from the key and the value it read and
// serves the value only if the file matches exactly. A truncated, torn,
// corrupted, foreign or older-format file is therefore a miss, never a wrong
// answer. Get never fails: anything it cannot read is a miss.
//
// The cache holds no secrets, but translations are private to the user, so
// directories are created 0700 and files 0600.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Store is a key-value cache. Get reports a miss as false; it never fails.
// Implementations are safe for concurrent use.
type Store interface {
	Get(key string) ([]byte, bool)
	Put(key string, val []byte) error
}

// Key returns the hex SHA-256 of parts, each prefixed with its length, so
// that different splits of the same bytes give different keys:
// Key("ab", "c") != Key("a", "bc").
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Nop is a Store that never hits and discards what it is given.
type Nop struct{}

// Get always misses.
func (Nop) Get(string) ([]byte, bool) { return nil, false }

// Put discards val.
func (Nop) Put(string, []byte) error { return nil }

const (
	// version is the entry format version in the header. Bump it when the
	// format changes; old entries then become misses.
	version = 1

	// MaxValueSize is the largest value Put accepts (and Get reads).
	MaxValueSize = 64 << 20

	// tempPrefix starts the names of temporary files. Keys are hex, so no
	// entry name can start with it.
	tempPrefix = ".tmp-"

	// tempGrace is the age below which Prune leaves a temporary file alone:
	// it may belong to a Put (or an Open's probe) still in progress in
	// another process. Such a file is written in one go and renamed (or
	// removed) at once, so an older one was left by a killed process.
	tempGrace = time.Minute
)

// ErrInvalidKey is returned by Put for a key that is not 2 to 128 lowercase
// hex digits (what Key returns is always valid).
var ErrInvalidKey = errors.New("invalid cache key")

// validKey reports whether key can name an entry file: lowercase hex only,
// so it can never escape the directory or collide with a temporary file.
func validKey(key string) bool {
	if len(key) < 2 || len(key) > 128 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Dir is a Store kept in a directory. It is safe for concurrent use by
// goroutines and processes.
type Dir struct {
	path string
}

var _ Store = (*Dir)(nil)

// DefaultDir returns the per-user cache directory for xlate,
// os.UserCacheDir()/xlate (e.g. ~/.cache/xlate on Linux). It does not
// create it.
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: locate user cache dir: %w", err)
	}
	return filepath.Join(base, "xlate"), nil
}

// Open returns the cache in dir, creating it (mode 0700) if needed. It fails
// if dir is not a directory or not writable.
func Open(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("cache: open: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, openError(abs, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, openError(abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cache: open %s: not a directory", abs)
	}
	probe, err := os.CreateTemp(abs, tempPrefix+"probe-*")
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: not writable: %w", abs, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, openError(abs, err)
	}
	return &Dir{path: abs}, nil
}

// openError is Open's error for dir: "cache: open DIR: ...", without a
// second copy of dir.
func openError(dir string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == dir {
		err = pe.Err
	}
	return fmt.Errorf("cache: open %s: %w", dir, err)
}

// Path returns the cache directory, as an absolute path.
func (d *Dir) Path() string { return d.path }

func (d *Dir) shard(key string) string { return filepath.Join(d.path, key[:2]) }

func (d *Dir) file(key string) string { return filepath.Join(d.path, key[:2], key) }

// header returns the header line of an entry.
func header(key string, val []byte) string {
	sum := sha256.Sum256(val)
	return "xlate-cache " + strconv.Itoa(version) + " " + key + " " +
		strconv.Itoa(len(val)) + " " + hex.EncodeToString(sum[:]) + "\n"
}

// Get returns the value stored under key. Missing, unreadable and invalid
// entries are all misses.
func (d *Dir) Get(key string) ([]byte, bool) {
	if !validKey(key) {
		return nil, false
	}
	f, err := os.Open(d.file(key))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxValueSize+512 {
		return nil, false
	}
	buf := make([]byte, fi.Size())
	if _, err := readFull(f, buf); err != nil {
		return nil, false
	}
	nl := bytes.IndexByte(buf[:min(len(buf), 512)], '\n')
	if nl < 0 {
		return nil, false
	}
	val := buf[nl+1:]
	if string(buf[:nl+1]) != header(key, val) {
		return nil, false
	}
	return val, true
}

// readFull reads exactly len(buf) bytes and fails if the file holds more:
// a file that grew after Stat is not one Put wrote in one go.
func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	var extra [1]byte
	if m, _ := f.Read(extra[:]); m > 0 {
		return n, errors.New("file grew while reading")
	}
	return n, nil
}

// Put stores val under key, replacing any previous value atomically.
func (d *Dir) Put(key string, val []byte) error {
	if !validKey(key) {
		return fmt.Errorf("cache: put %q: %w", key, ErrInvalidKey)
	}
	if len(val) > MaxValueSize {
		return fmt.Errorf("cache: put %s: value of %d bytes exceeds %d", key, len(val), MaxValueSize)
	}
	if err := d.put(key, val); err != nil {
		return fmt.Errorf("cache: put %s: %w", key, err)
	}
	return nil
}

func (d *Dir) put(key string, val []byte) error {
	shard := d.shard(key)
	if err := os.Mkdir(shard, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	tmp, err := os.CreateTemp(shard, tempPrefix+key[:min(len(key), 16)]+"-*")
	if errors.Is(err, fs.ErrNotExist) {
		// A concurrent Clear removed the shard between Mkdir and here.
		if err := os.Mkdir(shard, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		tmp, err = os.CreateTemp(shard, tempPrefix+key[:min(len(key), 16)]+"-*")
	}
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.WriteString(header(key, val))
	if err == nil {
		_, err = tmp.Write(val)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, d.file(key))
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// Entries returns the number of entries and their total size in bytes,
// headers included. It does not verify the entries or count temporary
// files.
func (d *Dir) Entries() (n int, bytes int64, err error) {
	err = d.walk(func(path string, fi fs.FileInfo, temp bool) error {
		if !temp {
			n++
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cache: entries: %w", err)
	}
	return n, bytes, nil
}

// Prune removes entries written more than olderThan ago, and the temporary
// files that killed processes left, whatever olderThan: those older than a
// minute (a younger one may be a Put in progress). It returns the number of
// entries removed, not counting temporary files.
func (d *Dir) Prune(olderThan time.Duration) (removed int, err error) {
	now := time.Now()
	d.pruneProbes(now.Add(-tempGrace))
	d.pruneClaims()
	err = d.walk(func(path string, fi fs.FileInfo, temp bool) error {
		age := now.Sub(fi.ModTime())
		if temp && age < tempGrace || !temp && age < olderThan {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !temp {
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("cache: prune: %w", err)
	}
	return removed, nil
}

// pruneProbes removes the probe files of Open (in the cache directory
// itself) last modified before cutoff. Errors are ignored: a leftover is
// harmless.
func (d *Dir) pruneProbes(cutoff time.Time) {
	des, err := os.ReadDir(d.path)
	if err != nil {
		return
	}
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tempPrefix+"probe-") || !de.Type().IsRegular() {
			continue
		}
		if fi, err := de.Info(); err == nil && fi.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(d.path, de.Name()))
		}
	}
}

// Clear removes every entry and temporary file, and the emptied shard
// directories. It leaves the cache directory itself, and any file in it that
// the cache did not create, in place. A Put racing with Clear may fail.
func (d *Dir) Clear() error {
	err := d.walk(func(path string, _ fs.FileInfo, _ bool) error {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err == nil {
		err = d.eachShard(func(shard string) error {
			// Fails harmlessly if the shard holds foreign files or a
			// concurrent Put just created an entry.
			os.Remove(shard)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("cache: clear: %w", err)
	}
	return nil
}

// eachShard calls f with the path of each shard directory.
func (d *Dir) eachShard(f func(shard string) error) error {
	des, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	for _, de := range des {
		if de.IsDir() && len(de.Name()) == 2 && validKey(de.Name()) {
			if err := f(filepath.Join(d.path, de.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// walk calls f for each entry file (temp false) and temporary file (temp
// true) in the shard directories. Files that vanish meanwhile are skipped.
func (d *Dir) walk(f func(path string, fi fs.FileInfo, temp bool) error) error {
	return d.eachShard(func(shard string) error {
		des, err := os.ReadDir(shard)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		prefix := filepath.Base(shard)
		for _, de := range des {
			name := de.Name()
			temp := strings.HasPrefix(name, tempPrefix)
			if !temp && !(validKey(name) && strings.HasPrefix(name, prefix)) {
				continue // not ours
			}
			fi, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			if err := f(filepath.Join(shard, name), fi, temp); err != nil {
				return err
			}
		}
		return nil
	})
}
