package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// Stdio names standard input (as an input) and standard output (as an
// output).
const Stdio = "-"

// Job is one input file and where its output goes.
type Job struct {
	In  string // input path, or Stdio
	Out string // output path, or Stdio
}

// UsageError is a command line that cannot work, such as a directory input
// without an output directory.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// outputExts are the endings that make a new -o name a file, not a
// directory to create.
var outputExts = map[string]bool{".md": true, ".markdown": true, ".txt": true, ".html": true, ".htm": true}

// Extensions are the file types taken from a directory.
var Extensions = map[string]bool{".txt": true, ".md": true, ".markdown": true, ".html": true, ".htm": true}

// Plan maps the command line's inputs and -o value to jobs. No inputs means
// standard input. One file (or stdin) goes to output, or to standard output
// when output is empty. A directory or several inputs need output to be a
// directory: a directory input's tree is mirrored under it, each file
// written as <name>.md; a file input lands at its base name.
//
// Problems with single inputs (an unreadable directory entry, two inputs that
// map to one output) come back in skipped, and the rest still runs; a
// command line that cannot work at all is a *UsageError.
func Plan(inputs []string, output string) (jobs []Job, skipped []error, err error) {
	return PlanWith(inputs, output, PlanOptions{})
}

// PlanOptions adjust how outputs are named.
type PlanOptions struct {
	// Suffix goes between an output's name and its ".md", e.g. ".en" for
	// Hugo's multilingual naming (article.en.md).
	Suffix string
}

// PlanWith is Plan with options.
func PlanWith(inputs []string, output string, opts PlanOptions) (jobs []Job, skipped []error, err error) {
	if strings.ContainsAny(opts.Suffix, `/\`) || strings.Contains(opts.Suffix, "..") {
		return nil, nil, &UsageError{Msg: fmt.Sprintf("--suffix %q: use a plain suffix such as .en", opts.Suffix)}
	}
	outName := func(path string) string { return outName(path, opts.Suffix) }
	if len(inputs) == 0 {
		inputs = []string{Stdio}
	}
	single := len(inputs) == 1
	if single && inputs[0] != Stdio {
		fi, err := os.Stat(inputs[0])
		if err != nil {
			return nil, nil, statErr(inputs[0], err)
		}
		single = !fi.IsDir()
	}
	// A trailing slash says a directory, existing or not.
	dirNamed := strings.HasSuffix(output, "/") || strings.HasSuffix(output, string(filepath.Separator))
	if single {
		out := output
		if out == "" {
			out = Stdio
		} else if fi, err := os.Stat(out); dirNamed || err == nil && fi.IsDir() {
			out = filepath.Join(out, outName(inputs[0]))
		}
		if out != Stdio && inputs[0] != Stdio && sameFile(inputs[0], out) {
			return nil, nil, &UsageError{Msg: fmt.Sprintf("output %s is the input file; choose another -o", out)}
		}
		return []Job{{In: inputs[0], Out: out}}, nil, nil
	}

	if output == "" || output == Stdio {
		return nil, nil, &UsageError{Msg: "several inputs or a directory need an output directory: add -o DIR"}
	}
	if fi, err := os.Stat(output); err == nil && !fi.IsDir() {
		return nil, nil, &UsageError{Msg: fmt.Sprintf("-o %s is a file; several inputs or a directory need an output directory", output)}
	} else if err != nil && !dirNamed && outputExts[strings.ToLower(filepath.Ext(output))] {
		return nil, nil, &UsageError{Msg: fmt.Sprintf("-o %s names a file; several inputs or a directory need an output directory (-o DIR/)", output)}
	}
	outDir := newDirMatcher(output)

	seen := map[string]string{} // output path -> input path
	planned := inputSet{}
	// add plans in (named on the command line: named) to be written to out.
	// The same file named twice, under one name or two, is one job; so is
	// a file that two directories both hold and map to the same output.
	add := func(in, out string, named bool) {
		if planned.dup(in, out, named) {
			return
		}
		if prev, ok := seen[out]; ok {
			skipped = append(skipped, &FileError{Path: in, Err: fmt.Errorf("maps to the same output %s as %s; skipped", out, prev)})
			return
		}
		if sameFile(in, out) {
			skipped = append(skipped, &FileError{Path: in, Err: fmt.Errorf("output would overwrite the input; skipped")})
			return
		}
		seen[out] = in
		jobs = append(jobs, Job{In: in, Out: out})
	}
	for _, in := range inputs {
		if in == Stdio {
			return nil, nil, &UsageError{Msg: "stdin (-) cannot be combined with other inputs"}
		}
		fi, err := os.Stat(in)
		if err != nil {
			skipped = append(skipped, statErr(in, err))
			continue
		}
		if !fi.IsDir() {
			add(in, filepath.Join(output, outName(in)), true)
			continue
		}
		walkErrs := walk(in, outDir, func(path, rel string) {
			if isOutputName(filepath.Base(path), opts.Suffix) {
				return // an output of an earlier run, in place
			}
			add(path, filepath.Join(output, filepath.Dir(rel), outName(rel)), false)
		})
		skipped = append(skipped, walkErrs...)
	}
	return jobs, skipped, nil
}

// inputSet is the inputs planned so far, to recognise a file planned
// again under the same or another name.
type inputSet map[fileStamp][]plannedInput

// fileStamp narrows down the inputs that may be one file, portably.
type fileStamp struct {
	size int64
	mod  int64
}

type plannedInput struct {
	fi    fs.FileInfo
	out   string
	named bool
}

// dup reports whether in is a file already planned that should not be
// planned again: named on the command line (by either), or mapped to the
// same output. Two names of one file inside a directory tree (a symbolic
// link next to its target) stay two pages. Otherwise it records in.
func (s inputSet) dup(in, out string, named bool) bool {
	fi, err := os.Stat(in)
	if err != nil {
		return false
	}
	key := fileStamp{fi.Size(), fi.ModTime().UnixNano()}
	for _, p := range s[key] {
		if os.SameFile(p.fi, fi) && (named || p.named || p.out == out) {
			return true
		}
	}
	s[key] = append(s[key], plannedInput{fi: fi, out: out, named: named})
	return false
}

// dirMatcher recognises one directory (the output directory) under any
// name: the same absolute path, or the same file when it exists.
type dirMatcher struct {
	abs string
	fi  fs.FileInfo // nil if it does not exist (yet)
}

func newDirMatcher(dir string) dirMatcher {
	m := dirMatcher{}
	m.abs, _ = filepath.Abs(dir)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		m.fi = fi
	}
	return m
}

func (m dirMatcher) is(path string) bool {
	if abs, err := filepath.Abs(path); err == nil && abs == m.abs {
		return true
	}
	if m.fi == nil {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, m.fi)
}

// walk calls fn for every file with a known extension under root, in
// lexical order. It skips hidden directories, the output directory (so that
// xlate never reads back its own outputs) and does not follow symbolic links
// to directories (so a link loop cannot trap it). A symbolic link to a file
// is followed; a broken one is an error.
func walk(root string, outDir dirMatcher, fn func(path, rel string)) (errs []error) {
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		root += string(filepath.Separator) // walk the directory the link names
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fileErr(path, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			if path != root && outDir.is(path) {
				return fs.SkipDir
			}
			return nil
		}
		if !Extensions[ext(path)] {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				errs = append(errs, statErr(path, err))
				return nil
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			rel = filepath.Base(path)
		}
		fn(path, rel)
		return nil
	})
	return errs
}

// outName is the output file name for input path: <name><suffix>.md. A
// name that already carries a Chinese language code (name.zh.md, Hugo's
// multilingual naming) loses it when the suffix names the output's
// language, so that Hugo pairs name.en.md with name.zh.md.
func outName(path, suffix string) string {
	if path == Stdio {
		return "stdin" + suffix + ".md"
	}
	base := filepath.Base(path)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if LangOfSuffix(suffix) != "" {
		if i := strings.LastIndexByte(name, '.'); i > 0 && chineseCodes[strings.ToLower(name[i+1:])] {
			name = name[:i]
		}
	}
	return name + suffix + ".md"
}

// chineseCodes are the language codes an original's name may carry.
var chineseCodes = map[string]bool{"zh": true, "zh-cn": true, "zh-hans": true, "zh-sg": true,
	"zh-tw": true, "zh-hant": true, "zh-hk": true, "zh-mo": true, "cn": true}

var langSuffixRE = regexp.MustCompile(`^\.([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)$`)

// LangOfSuffix is the language code an output suffix names in Hugo's
// multilingual naming (".en" in name.en.md: "en"), or "" when the suffix
// is not one (".translated").
func LangOfSuffix(suffix string) string {
	if m := langSuffixRE.FindStringSubmatch(suffix); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// isOutputName reports whether a file found in a directory is named as an
// output of this run (suffix set: name<suffix>.md): it is never an input.
func isOutputName(name, suffix string) bool {
	return suffix != "" && strings.HasSuffix(strings.ToLower(name), strings.ToLower(suffix)+".md")
}

func ext(path string) string {
	if path == Stdio {
		return ""
	}
	return strings.ToLower(filepath.Ext(path))
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// fileErr wraps err for path, dropping a *fs.PathError's own copy of the path.
func fileErr(path string, err error) *FileError {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &FileError{Path: path, Err: err}
}

// statErr is fileErr for a failed os.Stat of path, saying so when path is a
// symbolic link that leads nowhere or in a circle.
func statErr(path string, err error) *FileError {
	fe := fileErr(path, err)
	if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
		switch target, _ := os.Readlink(path); {
		case errors.Is(err, fs.ErrNotExist):
			fe.Err = fmt.Errorf("broken symbolic link to %s: %w", target, fe.Err)
		case errors.Is(err, syscall.ELOOP):
			fe.Err = fmt.Errorf("symbolic link loop: %w", fe.Err)
		}
	}
	return fe
}
