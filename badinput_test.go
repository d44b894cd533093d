package main_test

// The bad-input table (issue 3): every kind of broken or awkward input runs
// through the real binary next to a good file, and must give either one
// clear error line naming the file or a correct output, never stop the rest
// of the batch, and never leave temporary files behind.

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/lang"
)

// goodSrc is the good file of every batch.
const goodSrc = "testdata/corpus/plain-seed-cnbeta.txt"

// summaryLineRE matches the end-of-run summary line on stderr.
var summaryLineRE = regexp.MustCompile(`^xlate: \d+ done \(\d+ from cache or shared\), \d+ failed; `)

// badCase is one row of TestBadInputs. Unless args says otherwise, the run
// is `xlate -o OUT IN` where IN holds good.txt (goodSrc) and whatever make
// adds.
type badCase struct {
	name string
	// skip, when it returns a reason, skips the row.
	skip func() string
	// make fills the input directory in and returns the bad input's path
	// ("" when there is none).
	make func(t *testing.T, in string) string
	// args are the runs' arguments (default: one run of -o out in); the
	// checks apply to the last run.
	args func(in, out string) [][]string
	code int
	// msg is the problem reported for the bad input: stderr must hold
	// exactly the line "xlate: BAD: msg" (besides the run summary). Empty
	// means no error line at all. "{in}" and "{out}" stand for the input
	// and output directories.
	msg string
	// outputs are the files expected in out, relative, besides good.md.
	outputs []string
	// check looks further at the outputs.
	check func(t *testing.T, srv *fakeopenai.Server, in, out string)
	// single also runs `xlate BAD` and expects the same error line and
	// exit code, or (when msg is empty) the bad input's output on stdout.
	single bool
}

func TestBadInputs(t *testing.T) {
	good, err := os.ReadFile(goodSrc)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	randomBytes := func(n int, lo, hi byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = lo + byte(rng.IntN(int(hi-lo)+1))
		}
		return b
	}
	pngHeader := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00")
	binaryPNG := append(slices.Clone(pngHeader), randomBytes(4096, 0, 255)...)
	binaryNoNUL := randomBytes(4096, 1, 255)
	latin1 := []byte("Un caf\xe9 cr\xe8me et une cr\xe8me br\xfbl\xe9e, s'il vous pla\xeet. Gr\xfc\xdfe aus Z\xfcrich!\n")
	highBytes := randomBytes(4096, 0x80, 0xFF)
	gb18030, err := os.ReadFile("testdata/corpus/plain-gb18030-seed-cnbeta.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The long paragraph is 1 MiB, as the issue asks.
	longPara := longParagraph(rng, 1<<20)

	file := func(name string, data []byte) func(*testing.T, string) string {
		return func(t *testing.T, in string) string {
			return writeFile(t, filepath.Join(in, name), data)
		}
	}
	fileOutput := func(name string) func(t *testing.T, srv *fakeopenai.Server, in, out string) {
		return func(t *testing.T, srv *fakeopenai.Server, in, out string) {
			src, _ := os.ReadFile(filepath.Join(in, name))
			checkOutput(t, name, src, readOutput(t, out, outName(name)))
		}
	}

	cases := []badCase{
		{name: "empty file", make: file("x.md", nil), code: 1, msg: "empty file", single: true},
		{name: "white space only", make: file("x.txt", []byte(" \n\t\n\u3000\r\n  \n")), code: 1, msg: "empty file"},
		{
			name: "front matter only", make: file("x.md", []byte("---\ntitle: 只有标题的文章\ndate: 2024-01-01\ntags: [a, b]\n---\n\n")),
			outputs: []string{"x.md"}, single: true,
			check: func(t *testing.T, srv *fakeopenai.Server, in, out string) {
				fileOutput("x.md")(t, srv, in, out)
				got := readOutput(t, out, "x.md")
				want := "---\ntitle: \"" + fakeopenai.Translate("只有标题的文章") + "\"\noriginal_title: \"只有标题的文章\"\ndate: 2024-01-01\ntags: [a, b]\n"
				if !strings.HasPrefix(got, want) {
					t.Errorf("output:\n%s\nwant it to start with:\n%s", got, want)
				}
				if strings.Contains(got, "summary:") || strings.Contains(got, "TL;DR") {
					t.Errorf("an article without a body got a summary:\n%s", got)
				}
			},
		},
		{name: "binary file (PNG)", make: file("x.md", binaryPNG), code: 1, msg: "binary file (NUL bytes)", single: true},
		{name: "binary file without NUL bytes", make: file("x.md", binaryNoNUL), code: 1, msg: "binary file (control characters)"},
		{name: "Latin-1 text", make: file("x.md", latin1), code: 1, msg: "not valid UTF-8 or GB18030 text", single: true},
		{name: "random high bytes", make: file("x.txt", highBytes), code: 1, msg: "not valid UTF-8 or GB18030 text"},
		{
			name: "GB18030 text", make: file("gb.txt", gb18030), outputs: []string{"gb.md"}, single: true,
			check: func(t *testing.T, srv *fakeopenai.Server, in, out string) {
				if readOutput(t, out, "gb.md") != readOutput(t, out, "good.md") {
					t.Errorf("the GB18030 file's output differs from the same text's in UTF-8")
				}
			},
		},
		{
			name: "unterminated front matter", make: file("x.md", []byte("---\ntitle: 没有结尾\n\n正文第一段。\n")),
			code: 1, msg: `unterminated front matter: "---" on line 1 is never closed`, single: true,
		},
		{
			name: "malformed YAML front matter", make: file("x.md", []byte("---\ntitle: [unclosed\ndate: 2024-01-01\n---\n正文。\n")),
			code: 1, msg: "front matter: yaml: line 2: did not find expected ',' or ']'", single: true,
		},
		{
			name: "duplicate YAML keys", make: file("x.md", []byte("\n---\ntitle: 一\ntitle: 二\nsource: a\nsource: b\n---\n正文。\n")),
			code: 1, msg: `front matter: yaml: line 4: mapping key "title" already defined at line 3; line 6: mapping key "source" already defined at line 5`,
		},
		{
			name: "broken HTML file", outputs: []string{"x.md"}, check: brokenHTMLCheck("x.html"),
			make: file("x.html", []byte("<html><body><div><p>第一段<b>粗体没有结束\n</div></div></span><<< 垃圾字符 <p>第二段没有结束标签<table><tr><td>单元格")),
		},
		{
			name: "broken HTML under front matter", outputs: []string{"x.md"}, check: brokenHTMLCheck("x.md"),
			make: file("x.md", []byte("---\ntitle: 坏掉的网页\n---\n<div><p>第一段<b>粗体没有结束</div></div></span><<< 垃圾字符<p>第二段没有结束标签<img src=\"https://example.com/a.png\"")),
		},
		{
			name: "1 MiB paragraph without punctuation", make: file("x.txt", []byte(longPara+"\n")), outputs: []string{"x.md"},
			check: func(t *testing.T, srv *fakeopenai.Server, in, out string) {
				got := readOutput(t, out, "x.md")
				lines := strings.Split(got, "\n")
				i := slices.Index(lines, longPara)
				if i < 0 || strings.Count(got, longPara) != 1 {
					t.Fatalf("the paragraph is not in the output exactly once")
				}
				var quotes []string
				for _, l := range lines[i+1:] {
					if strings.HasPrefix(l, ">") {
						quotes = append(quotes, l)
					}
				}
				if len(quotes) != 1 {
					t.Fatalf("%d quote lines after the paragraph, want one translation", len(quotes))
				}
				tr := strings.TrimPrefix(quotes[0], "> ")
				if lang.NeedsTranslation(tr) || len(tr) < len(longPara)/2 {
					t.Errorf("translation: %d bytes for a %d byte paragraph, still Chinese: %v", len(tr), len(longPara), lang.NeedsTranslation(tr))
				}
				// Translated in pieces: many requests, none of them huge.
				n := 0
				for _, r := range srv.Requests() {
					if r.Kind == fakeopenai.KindTranslate {
						n++
						if len(r.User()) > 64<<10 {
							t.Errorf("request %d sends %d bytes: the paragraph was not cut into chunks", r.N, len(r.User()))
						}
					}
				}
				// With a 1500-token budget no request carries more than
				// about 3000 hanzi (o200k_base has at least half a token
				// per hanzi; in practice it is one).
				if runes := utf8.RuneCountInString(longPara); n < runes/3000 {
					t.Errorf("%d translation requests for a paragraph of %d characters", n, runes)
				}
			},
		},
		{
			name: "50 MiB file", code: 1, msg: "file too large (50 MiB; the limit is 16 MiB)", single: true,
			make: func(t *testing.T, in string) string {
				p := writeFile(t, filepath.Join(in, "x.md"), nil)
				if err := os.Truncate(p, 50<<20); err != nil { // sparse: takes no disk space
					t.Skip("sparse file:", err)
				}
				return p
			},
		},
		{
			name: "dangling symlink", code: 1, msg: "broken symbolic link to nowhere.md: no such file or directory", single: true,
			make: func(t *testing.T, in string) string { return symlink(t, "nowhere.md", filepath.Join(in, "x.md")) },
		},
		{
			name: "unreadable file", code: 1, msg: "permission denied",
			skip: func() string {
				switch {
				case runtime.GOOS == "windows":
					return "chmod 000 does not stop reads on Windows; the dangling symlink row covers unreadable files"
				case os.Geteuid() == 0:
					return "running as root, which reads files whatever their mode; the dangling symlink row covers unreadable files"
				}
				return ""
			},
			make: func(t *testing.T, in string) string {
				p := writeFile(t, filepath.Join(in, "x.md"), good)
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(p, 0o644) })
				return p
			},
		},
		{
			name: "symlink loop", outputs: []string{"d/a.md"}, check: fileOutput("d/a.md"),
			make: func(t *testing.T, in string) string {
				writeFile(t, filepath.Join(in, "d", "a.md"), []byte("# 标题\n\n子目录里的文章。\n"))
				symlink(t, "..", filepath.Join(in, "d", "loop"))
				return ""
			},
		},
		{
			name: "non-markdown files are ignored",
			make: func(t *testing.T, in string) string {
				writeFile(t, filepath.Join(in, "paper.pdf"), binaryPNG)
				writeFile(t, filepath.Join(in, "image.png"), binaryPNG)
				writeFile(t, filepath.Join(in, "notes"), latin1)
				return ""
			},
		},
		{
			name: "output directory inside the input, run twice",
			make: func(t *testing.T, in string) string { return "" },
			args: func(in, out string) [][]string {
				out = filepath.Join(in, "out")
				return [][]string{{"-o", out, in}, {"-o", out, in}}
			},
			check: func(t *testing.T, srv *fakeopenai.Server, in, out string) {
				if _, err := os.Stat(filepath.Join(in, "out", "out")); err == nil {
					t.Errorf("the second run read back the first run's outputs")
				}
			},
		},
		{
			name: "stale temp file of a killed run",
			make: func(t *testing.T, in string) string { return "" },
			args: func(in, out string) [][]string {
				tmp := writeFile(t, filepath.Join(out, ".good.md.1234567.tmp"), []byte("half an outp"))
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(tmp, old, old); err != nil {
					t.Fatal(err)
				}
				return [][]string{{"-o", out, in}}
			},
		},
		{
			name: "two inputs with the same output path", code: 1,
			make: func(t *testing.T, in string) string {
				writeFile(t, filepath.Join(in, "a", "x.md"), []byte("# 第一篇\n\n第一篇文章。\n"))
				return writeFile(t, filepath.Join(in, "b", "x.md"), []byte("# 第二篇\n\n第二篇文章。\n"))
			},
			args: func(in, out string) [][]string {
				return [][]string{{"-o", out, filepath.Join(in, "good.txt"), filepath.Join(in, "a", "x.md"), filepath.Join(in, "b", "x.md")}}
			},
			msg:     "maps to the same output {out}" + string(filepath.Separator) + "x.md as {in}" + string(filepath.Separator) + filepath.Join("a", "x.md") + "; skipped",
			outputs: []string{"x.md"}, check: func(t *testing.T, srv *fakeopenai.Server, in, out string) {
				if got := readOutput(t, out, "x.md"); !strings.Contains(got, "第一篇文章") || strings.Contains(got, "第二篇") {
					t.Errorf("x.md is not the first input's output:\n%s", got)
				}
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.skip != nil {
				if why := tc.skip(); why != "" {
					t.Skip(why)
				}
			}
			srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
			environ := env(t, srv, t.TempDir())
			root := t.TempDir()
			in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
			writeFile(t, filepath.Join(in, "good.txt"), good)
			bad := tc.make(t, in)
			msg := strings.NewReplacer("{in}", in, "{out}", out).Replace(tc.msg)
			runs := [][]string{{"-o", out, in}}
			if tc.args != nil {
				runs = tc.args(in, out)
				if runs[0][1] != out {
					out = runs[0][1]
				}
			}

			var r result
			for i, args := range runs {
				r = runXlate(t, environ, nil, args...)
				if i < len(runs)-1 && r.code != tc.code {
					t.Fatalf("run %d: exit %d, want %d\n%s", i+1, r.code, tc.code, r.stderr)
				}
			}
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			var wantLines []string
			if msg != "" {
				wantLines = []string{"xlate: " + bad + ": " + msg}
			}
			checkStderr(t, r.stderr, wantLines)
			if r.stdout != "" {
				t.Errorf("stdout = %.100q, want nothing with -o", r.stdout)
			}

			// The good file is written and right; the bad one only if
			// handling it is right; nothing else (no temporary files).
			checkOutput(t, "good.txt", good, readOutput(t, out, "good.md"))
			if got, want := listFiles(t, out), append([]string{"good.md"}, tc.outputs...); !sameSet(got, want) {
				t.Errorf("files in the output directory: %q, want %q", got, want)
			}
			if tc.check != nil {
				tc.check(t, srv, in, out)
			}

			if tc.single {
				s := runXlate(t, environ, nil, bad)
				if s.code != tc.code {
					t.Errorf("xlate BAD: exit %d, want %d", s.code, tc.code)
				}
				checkStderr(t, s.stderr, wantLines)
				if msg != "" && s.stdout != "" {
					t.Errorf("xlate BAD: stdout = %.100q, want nothing", s.stdout)
				}
				if msg == "" && s.stdout != readOutput(t, out, outName(filepath.Base(bad))) {
					t.Errorf("xlate BAD: stdout differs from the directory run's output")
				}
			}
		})
	}
}

// checkStderr checks that stderr holds exactly want (in any order) besides
// the run summary line, and nothing that looks like a crash.
func checkStderr(t *testing.T, stderr string, want []string) {
	t.Helper()
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("xlate crashed:\n%s", stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if l != "" && !summaryLineRE.MatchString(l) {
			got = append(got, l)
		}
	}
	if !sameSet(got, want) {
		t.Errorf("stderr lines:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func brokenHTMLCheck(name string) func(t *testing.T, srv *fakeopenai.Server, in, out string) {
	return func(t *testing.T, srv *fakeopenai.Server, in, out string) {
		src, _ := os.ReadFile(filepath.Join(in, name))
		got := readOutput(t, out, "x.md")
		checkOutput(t, name, src, got)
		for _, text := range []string{"第一段", "粗体没有结束", "垃圾字符", "第二段没有结束标签"} {
			if !strings.Contains(got, text) {
				t.Errorf("%q lost from the output:\n%s", text, got)
			}
		}
	}
}

// longParagraph is size bytes of random common hanzi with no punctuation,
// spaces or line breaks: nowhere for the chunker to cut but between
// characters.
func longParagraph(rng *rand.Rand, size int) string {
	hanzi := []rune("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严")
	var b strings.Builder
	for b.Len() < size {
		b.WriteRune(hanzi[rng.IntN(len(hanzi))])
	}
	return b.String()
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	return link
}

func readOutput(t *testing.T, out, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, rel))
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	return string(b)
}

// outName is xlate's output name for an input: <name>.md.
func outName(rel string) string {
	return strings.TrimSuffix(rel, filepath.Ext(rel)) + ".md"
}

// listFiles lists every file under dir (relative, slash-separated),
// hidden ones included.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
