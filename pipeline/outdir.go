package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// OutputDirError is an output directory that cannot be written in: found
// by CheckOutputDir before any work is done.
type OutputDirError struct {
	Dir string // the output directory
	Err error
}

func (e *OutputDirError) Error() string { return "output directory " + e.Dir + ": " + e.Err.Error() }

func (e *OutputDirError) Unwrap() error { return e.Err }

// CheckOutputDir makes sure, before anything is paid for, that the outputs
// of jobs can be written: the directory they go to (the one of an output
// file, the top of a mirrored tree) must be a directory, or one that can be
// created, and must take new files. It tries: it creates a file there (in
// the closest existing parent when the directory is yet to be created) and
// removes it, so that it works as well for root, whom permission bits do not
// stop, and on a read-only file system. It creates nothing that stays.
func CheckOutputDir(jobs []Job) error {
	dir := outputRoot(jobs)
	if dir == "" {
		return nil
	}
	existing := dir
	for {
		fi, err := os.Stat(existing)
		if err == nil {
			if !fi.IsDir() {
				if existing == dir {
					return &OutputDirError{Dir: dir, Err: errors.New("not a directory")}
				}
				return &OutputDirError{Dir: dir, Err: fmt.Errorf("cannot be created: %s is not a directory", existing)}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return &OutputDirError{Dir: dir, Err: fileErr(existing, err).Err}
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return &OutputDirError{Dir: dir, Err: fileErr(existing, err).Err}
		}
		existing = parent
	}
	f, err := os.CreateTemp(existing, ".xlate-probe-*.tmp")
	if err != nil {
		err = fileErr(existing, err).Err
		if existing == dir {
			return &OutputDirError{Dir: dir, Err: fmt.Errorf("cannot write in it (%w)", err)}
		}
		return &OutputDirError{Dir: dir, Err: fmt.Errorf("cannot be created in %s (%w)", existing, err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// outputRoot is the closest directory holding every output file of jobs,
// or "" when all go to standard output.
func outputRoot(jobs []Job) string {
	root := ""
	for _, j := range jobs {
		if j.Out == Stdio {
			continue
		}
		d := filepath.Dir(j.Out)
		if root == "" {
			root = d
			continue
		}
		for !within(d, root) {
			up := filepath.Dir(root)
			if up == root {
				break
			}
			root = up
		}
	}
	return root
}

// within reports whether directory d is dir or under it (both clean).
func within(d, dir string) bool {
	if d == dir || dir == "." && !filepath.IsAbs(d) && d != ".." && !strings.HasPrefix(d, ".."+string(filepath.Separator)) {
		return true
	}
	return strings.HasPrefix(d, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
