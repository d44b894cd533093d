// Package atomicfile writes files so that a reader, or a process killed
// mid-write, never leaves one half written.
package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleAge is the age after which a temporary file left next to an output
// by a killed run is removed (see [Write]).
const StaleAge = time.Minute

// Write writes data to path through a temporary file in the same
// directory and a rename, so that path is either complete or absent (or the
// previous version), even if the process is killed mid-write. An unchanged
// file is not rewritten.
//
// The temporary file is named "."+base+".NNN.tmp". Such files of path older
// than StaleAge, left by a run that was killed, are removed before a
// write.
func Write(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil // unchanged: a warm re-run rewrites nothing
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	removeStaleTemps(path, time.Now().Add(-StaleAge))
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	tmp := f.Name()
	// No fsync: the rename is atomic for other processes and survives the
	// writer being killed at any moment; only a power cut can leave an empty
	// file, and a sync per output costs a warm re-run more than all else.
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// removeStaleTemps removes the temporary files of path (see
// Write) last modified before cutoff. A younger one may belong to
// a run still writing. Errors are ignored: a leftover is harmless.
func removeStaleTemps(path string, cutoff time.Time) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+"."
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		mid, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, ".tmp")
		if !ok || mid == "" || strings.Trim(mid, "0123456789") != "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(cutoff) {
			os.Remove(p)
		}
	}
}
