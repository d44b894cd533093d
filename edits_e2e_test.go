package main_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
	"github.com/xlate/xlate/memory"
)

// Hand edits (issue 11): a person corrects translations in the outputs; no
// run loses a correction.

// editFiles are the articles the hand-edit tests translate: front matter
// over HTML, and plain text.
var editFiles = []string{"颜宁等当选中国科学院院士.md", "plain-seed-cnbeta.txt"}

func editDir(t *testing.T) string { t.Helper(); return corpusCopy(t, editFiles) }

// bilingualEdit replaces the translation of a paragraph (a "> " line after
// a blank line, with a blank line after it, of a paragraph with no link)
// in a bilingual output with text, and returns the new file.
func bilingualEdit(t *testing.T, md, text string, nth int) string {
	t.Helper()
	lines := strings.Split(md, "\n")
	seen := 0
	for i := 2; i+1 < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "> ") || lines[i-1] != "" || lines[i+1] != "" || strings.HasPrefix(l, "> >") ||
			strings.HasPrefix(l, "> |") || strings.Contains(l, "](") || strings.Contains(l, "http") || strings.Contains(lines[i-2], "http") || !hasHan(lines[i-2]) || strings.HasPrefix(lines[i-2], "#") || strings.HasPrefix(lines[i-2], "- ") {
			continue
		}
		if seen++; seen < nth {
			continue
		}
		lines[i] = "> " + text
		return strings.Join(lines, "\n")
	}
	t.Fatalf("no paragraph translation to edit in:\n%s", md)
	return ""
}

// englishEdit replaces a body paragraph of an English-layout output.
func englishEdit(t *testing.T, md, text string) string {
	t.Helper()
	lines := strings.Split(md, "\n")
	body := false
	for i := 1; i+1 < len(lines); i++ {
		l := lines[i]
		if l == "---" && !body {
			body = true // the end of the front matter
			continue
		}
		if !body || lines[i-1] != "" || lines[i+1] != "" || l == "" || strings.ContainsAny(l[:1], "#->|![*0123456789\\<`") ||
			strings.Contains(l, "](") || len(l) < 60 {
			continue
		}
		lines[i] = text
		return strings.Join(lines, "\n")
	}
	t.Fatalf("no paragraph to edit in:\n%s", md)
	return ""
}

var hanRE = regexp.MustCompile(`\p{Han}`)

func hasHan(s string) bool { return hanRE.MatchString(s) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeText(t *testing.T, path, s string) { t.Helper(); writeFile(t, path, []byte(s)) }

func TestHandEditsAreKept(t *testing.T) {
	in := editDir(t)
	cacheDir := t.TempDir()
	outB, outE := filepath.Join(t.TempDir(), "bi"), filepath.Join(t.TempDir(), "en")
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, cacheDir)
	run := func(e []string, args ...string) result {
		t.Helper()
		return runXlate(t, e, nil, args...)
	}
	for _, r := range []result{run(e, "-o", outB, in), run(e, "--layout", "english", "-o", outE, in)} {
		if r.code != 0 {
			t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
		}
	}
	biFile := filepath.Join(outB, outName(editFiles[0]))
	enFile := filepath.Join(outE, outName(editFiles[0]))
	const (
		biText = "A person wrote this translation, and it stays."
		enText = "This English paragraph was corrected by hand and must survive every run."
	)
	writeText(t, biFile, bilingualEdit(t, readFile(t, biFile), biText, 2))
	// A key a person added to the front matter is kept too.
	en := englishEdit(t, readFile(t, enFile), enText)
	en = strings.Replace(en, "\n---\n", "\nweight: 7 # added by hand\n---\n", 1)
	writeText(t, enFile, en)
	kept := func(stage string, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", stage, r.code, r.stderr)
		}
		b, en := readFile(t, biFile), readFile(t, enFile)
		if !strings.Contains(b, "> "+biText+"\n") {
			t.Errorf("%s: the bilingual edit is lost", stage)
		}
		if !strings.Contains(en, "\n"+enText+"\n") {
			t.Errorf("%s: the english-layout edit is lost", stage)
		}
		if !strings.Contains(en, "weight: 7 # added by hand\n") {
			t.Errorf("%s: the front matter key added by hand is lost", stage)
		}
	}

	// The same settings: read back, kept, said.
	srv.Reset()
	rb, re := run(e, "-o", outB, in), run(e, "--layout", "english", "-o", outE, in)
	kept("same settings", rb)
	kept("same settings", re)
	if !strings.Contains(rb.stderr, "kept 1 edited translation in "+biFile) || !strings.Contains(re.stderr, "kept 1 edited translation in "+enFile) {
		t.Errorf("stderr does not say the edits were kept:\n%s\n%s", rb.stderr, re.stderr)
	}
	if srv.Count() != 0 {
		t.Errorf("the same settings made %d requests, want 0", srv.Count())
	}

	// Another model: everything else is translated again, the edits stay
	// and are never sent.
	srv.Reset()
	kept("--model other", run(e, "--model", "other", "-o", outB, in))
	kept("--model other", run(e, "--model", "other", "--layout", "english", "-o", outE, in))
	if srv.CountKind(fakeopenai.KindTranslate) == 0 {
		t.Fatal("--model other translated nothing again")
	}
	for _, rec := range srv.Requests() {
		if rec.Model != "other" {
			t.Errorf("a request for model %q", rec.Model)
		}
		for _, m := range rec.Messages {
			if strings.Contains(m.Content, biText) || strings.Contains(m.Content, enText) {
				t.Errorf("a person's translation was sent to the model")
			}
		}
	}
	for _, f := range []string{biFile, enFile} {
		if !regexp.MustCompile(`\ntranslation_model: "?other"?\n`).MatchString(readFile(t, f)) {
			t.Errorf("%s was not rewritten by the other model", f)
		}
	}

	// cache clear, then a re-run: the edits are the memory's, not the
	// cache's.
	if r := run(e, "cache", "clear"); r.code != 0 {
		t.Fatalf("cache clear: %s", r.stderr)
	}
	kept("after cache clear", run(e, "-o", outB, in))
	kept("after cache clear", run(e, "--layout", "english", "-o", outE, in))
	kept("--no-cache", run(e, "--no-cache", "--layout", "english", "-o", outE, in))

	// A dry run says what it would keep.
	writeText(t, biFile, bilingualEdit(t, readFile(t, biFile), "A second correction.", 3))
	if r := run(e, "--dry-run", "-o", outB, in); r.code != 0 || !strings.Contains(r.stderr, "would keep 1 edited translation in "+biFile) {
		t.Errorf("dry run: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	// Restructured: a paragraph of the original removed. Left untouched,
	// exit 1, the other file done; --force saves it as .orig.
	md := readFile(t, biFile)
	lines := strings.Split(md, "\n")
	for i := len(lines) / 2; i < len(lines); i++ {
		if hasHan(lines[i]) && !strings.HasPrefix(lines[i], ">") && lines[i-1] == "" {
			lines = append(lines[:i], lines[i+1:]...)
			break
		}
	}
	restructured := strings.Join(lines, "\n")
	writeText(t, biFile, restructured)
	other := filepath.Join(outB, outName(editFiles[1]))
	os.Remove(other)
	r := run(e, "-o", outB, in)
	if r.code != 1 || !strings.Contains(r.stderr, "left untouched") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("restructured: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if readFile(t, biFile) != restructured {
		t.Error("a restructured output was changed")
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the other file of the run was not written: %v", err)
	}
	r = run(e, "--force", "-o", outB, in)
	if r.code != 0 || readFile(t, biFile+".orig") != restructured || readFile(t, biFile) == restructured {
		t.Errorf("--force: exit %d (%s); the old file must be in .orig and the output rewritten", r.code, r.stderr)
	}
	if !strings.Contains(readFile(t, biFile), "> "+biText+"\n") {
		t.Error("--force lost the edit pinned before (it overwrites the file, not the memory)")
	}
}

func TestTMXExportImport(t *testing.T) {
	in := editDir(t)
	cacheDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, cacheDir)
	if r := runXlate(t, e, nil, "--no-summary", "-o", out, in); r.code != 0 {
		t.Fatalf("first run: %s", r.stderr)
	}
	file := filepath.Join(out, outName(editFiles[0]))
	const fixed = "Corrected & exported <as> \"TMX\"."
	writeText(t, file, bilingualEdit(t, readFile(t, file), fixed, 1))
	if r := runXlate(t, e, nil, "--no-summary", "-o", out, in); r.code != 0 || !strings.Contains(r.stderr, "kept 1 edited translation") {
		t.Fatalf("read-back run: exit %d: %s", r.code, r.stderr)
	}

	tmx := filepath.Join(t.TempDir(), "all.tmx")
	if r := runXlate(t, e, nil, "tm", "export", "-o", tmx); r.code != 0 {
		t.Fatalf("tm export: %s", r.stderr)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate TMX (apt-get install libxml2-utils)")
	}
	if b, err := exec.Command(xmllint, "--noout", "--dtdvalid", filepath.Join("memory", "testdata", "tmx14b.dtd"), tmx).CombinedOutput(); err != nil {
		t.Fatalf("the export is not valid TMX 1.4b: %v\n%s", err, b)
	}
	body := readFile(t, tmx)
	if !strings.Contains(body, "Corrected &amp; exported &lt;as&gt;") {
		t.Errorf("the export lacks the correction:\n%.2000s", body)
	}
	pinnedOnly := filepath.Join(t.TempDir(), "pinned.tmx")
	if r := runXlate(t, e, nil, "tm", "export", "--pinned", "-o", pinnedOnly); r.code != 0 || strings.Count(readFile(t, pinnedOnly), "<tu ") != 1 {
		t.Errorf("tm export --pinned: exit %d, %d units; want 1", r.code, strings.Count(readFile(t, pinnedOnly), "<tu "))
	}

	// Into an empty memory and an empty cache: nothing left to ask.
	fresh := fakeopenai.New(t, fakeopenai.Options{})
	e2 := env(t, fresh, t.TempDir())
	r := runXlate(t, e2, nil, "tm", "import", tmx)
	if r.code != 0 || !strings.Contains(r.stdout, "imported") {
		t.Fatalf("tm import: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	out2 := filepath.Join(t.TempDir(), "out")
	if r := runXlate(t, e2, nil, "--no-summary", "-o", out2, in); r.code != 0 {
		t.Fatalf("run after import: %s", r.stderr)
	}
	if fresh.Count() != 0 {
		t.Errorf("after tm import, a --no-summary run sent %d requests, want 0", fresh.Count())
	}
	if !strings.Contains(readFile(t, filepath.Join(out2, outName(editFiles[0]))), "> "+"Corrected & exported \\<as> \"TMX\".") {
		t.Errorf("the imported correction is not in the output")
	}

	// tm list and unpin.
	r = runXlate(t, e, nil, "tm", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "Corrected & exported") {
		t.Fatalf("tm list: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := strings.Fields(r.stdout)[0]
	if r := runXlate(t, e, nil, "tm", "unpin", id); r.code != 0 || !strings.Contains(r.stdout, "unpinned 1") {
		t.Fatalf("tm unpin: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runXlate(t, e, nil, "tm", "list"); strings.Contains(r.stdout, "Corrected") {
		t.Errorf("still listed after unpin:\n%s", r.stdout)
	}
	// Unpinned, the model's translation is back in the output.
	if r := runXlate(t, e, nil, "--no-summary", "-o", out, in); r.code != 0 || strings.Contains(readFile(t, file), "Corrected & exported") {
		t.Errorf("after unpin: exit %d, the output still has the unpinned correction (%s)", r.code, r.stderr)
	}

	// Bad TMX: one line naming the file and the line; nothing imported.
	bad := filepath.Join(t.TempDir(), "bad.tmx")
	writeText(t, bad, "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header srclang=\"zh-CN\"/>\n<body><tu><tuv xml:lang=\"zh-CN\"><seg>一</seg></tuv>\n<tuv xml:lang=\"en\"><seg>one</seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>two\n</body></tmx>\n")
	empty := env(t, fresh, t.TempDir())
	r = runXlate(t, empty, nil, "tm", "import", bad)
	if r.code == 0 || !strings.Contains(r.stderr, bad+":") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Errorf("bad TMX: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := runXlate(t, empty, nil, "tm", "export", "--pinned"); strings.Contains(r.stdout, "<tu ") {
		t.Errorf("a bad TMX was half imported:\n%s", r.stdout)
	}
}

// TestKill9KeepsEdits kills a run that reads edits back at random moments:
// afterwards every edit is pinned in the memory or still in its file.
func TestKill9KeepsEdits(t *testing.T) {
	in := faultDir(t)
	cacheDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"--concurrency", "2", "--chunk-tokens", "300", "-q"}
	if r := runXlate(t, env(t, fakeopenai.New(t, fakeopenai.Options{}), cacheDir), nil, append(args, "-o", out, in)...); r.code != 0 {
		t.Fatalf("first run: %s", r.stderr)
	}
	names, err := filepath.Glob(filepath.Join(out, "*.md"))
	if err != nil || len(names) < 5 {
		t.Fatalf("%d outputs (%v)", len(names), err)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	mem := cacheDir + "-memory"
	// Kill moments from the read-back (the first milliseconds) to the
	// writing of the last files; the run takes over a second.
	windows := [][2]int{{0, 30}, {30, 150}, {150, 500}, {500, 1000}, {0, 1000}, {0, 1000}}
	killed := 0
	for round, w := range windows {
		edits := map[string]string{}
		for i, name := range names {
			text := "Hand edit " + string(rune('A'+round)) + string(rune('a'+i)) + ", never to be lost."
			edits[name] = text
			writeText(t, name, bilingualEdit(t, readFile(t, name), text, 1+round%4))
		}
		// Another model, slowly: the run re-translates while it reads the
		// edits back and writes the files.
		srv := fakeopenai.New(t, fakeopenai.Options{TTFT: 20 * time.Millisecond, TokensPerSecond: 4000})
		cmd, wait := startXlate(t, env(t, srv, cacheDir), append(args, "--model", "m"+string(rune('0'+round)), "-o", out, in)...)
		time.Sleep(time.Duration(w[0]+rng.IntN(w[1]-w[0])) * time.Millisecond)
		_ = cmd.Process.Kill()
		r := wait()
		if r.code != 0 {
			killed++
		}
		m, err := memory.Open(mem)
		if err != nil {
			t.Fatal(err)
		}
		pins, err := m.Pins()
		if err != nil {
			t.Fatalf("round %d: the memory does not read after kill -9: %v", round, err)
		}
		pinned := map[string]bool{}
		for _, p := range pins {
			pinned[p.Text] = true
		}
		for name, text := range edits {
			if !pinned[text] && !bytes.Contains([]byte(readFile(t, name)), []byte(text)) {
				t.Errorf("round %d (exit %d): the edit of %s is neither pinned nor in its file", round, r.code, filepath.Base(name))
			}
		}
		// The next round starts from complete files: finish this one.
		if r := runXlate(t, env(t, fakeopenai.New(t, fakeopenai.Options{}), cacheDir), nil, append(args, "--model", "m"+string(rune('0'+round)), "-o", out, in)...); r.code != 0 {
			t.Fatalf("round %d: the run after the kill: exit %d: %s", round, r.code, r.stderr)
		}
		for name, text := range edits {
			if !strings.Contains(readFile(t, name), text) {
				t.Errorf("round %d: after the finishing run, %s lacks its edit", round, filepath.Base(name))
			}
		}
	}
	if killed < 4 {
		t.Errorf("only %d of %d runs were killed before they ended (seed %d): the test needs slower runs", killed, len(windows), seed)
	}
}

// TestEditedTitleSummaryAndChangedInput: the title and the summary are
// read back too; an input that changed keeps the edits that still match and
// says which do not; outputs without a record are judged by their model.
func TestEditedTitleSummaryAndChangedInput(t *testing.T) {
	in := t.TempDir()
	src := readFile(t, filepath.Join("testdata", "corpus", editFiles[0]))
	input := filepath.Join(in, "a.txt")
	writeText(t, input, src)
	out := filepath.Join(t.TempDir(), "out")
	srv := fakeopenai.New(t, fakeopenai.Options{})
	e := env(t, srv, t.TempDir())
	if r := runXlate(t, e, nil, "-o", out, in); r.code != 0 {
		t.Fatalf("first run: %s", r.stderr)
	}
	file := filepath.Join(out, "a.md")
	md := readFile(t, file)
	title := regexp.MustCompile(`(?m)^title: .*$`)
	tldr := regexp.MustCompile(`(?m)^\*\*TL;DR:\*\* .*$`)
	if !title.MatchString(md) || !tldr.MatchString(md) {
		t.Fatalf("no title or TL;DR in:\n%.1500s", md)
	}
	md = title.ReplaceAllString(md, `title: "A Title Written by Hand"`)
	md = tldr.ReplaceAllString(md, "**TL;DR:** A summary written by hand.")
	md = bilingualEdit(t, md, "First paragraph, corrected.", 1)
	md = bilingualEdit(t, md, "Second paragraph, corrected.", 2)
	writeText(t, file, md)
	r := runXlate(t, e, nil, "-o", out, in)
	if r.code != 0 || !strings.Contains(r.stderr, "kept 3 edited translations and the edited summary in "+file) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	got := readFile(t, file)
	for _, want := range []string{`title: "A Title Written by Hand"`, "**TL;DR:** A summary written by hand.", `summary: "A summary written by hand."`,
		"> First paragraph, corrected.\n", "> Second paragraph, corrected.\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the read-back run, the output lacks %q", want)
		}
	}

	// The original of the second edited paragraph changes: that edit no
	// longer matches (said), the other edits and the summary stay.
	lines := strings.Split(got, "\n")
	var changed string
	for i := range lines {
		if lines[i] == "> Second paragraph, corrected." {
			changed = lines[i-2]
		}
	}
	if changed == "" || !strings.Contains(src, changed) {
		t.Fatalf("cannot find the original of the second edit")
	}
	writeText(t, input, strings.Replace(src, changed, changed+"补充一句。", 1))
	srv.Reset()
	r = runXlate(t, e, nil, "-o", out, in)
	if r.code != 0 || !regexp.MustCompile(`the edit of paragraph \d+ no longer matches`).MatchString(r.stderr) ||
		!strings.Contains(r.stderr, "the edited summary is kept") {
		t.Errorf("changed input: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	got = readFile(t, file)
	if strings.Contains(got, "Second paragraph, corrected.") || !strings.Contains(got, "> First paragraph, corrected.\n") ||
		!strings.Contains(got, "A Title Written by Hand") || !strings.Contains(got, "A summary written by hand.") {
		t.Errorf("changed input: the output is not as expected:\n%.3000s", got)
	}
	if srv.CountKind(fakeopenai.KindTranslate) != 1 {
		t.Errorf("changed input: %d translation requests, want 1 (the changed paragraph)", srv.CountKind(fakeopenai.KindTranslate))
	}

	// Without a record (an output of an older xlate): the same model's
	// file is read against the input, what differs is kept; another
	// model's, and a file xlate did not write, are left untouched.
	fresh := env(t, srv, t.TempDir()) // another cache and memory
	writeText(t, file, strings.Replace(readFile(t, file), "> First paragraph, corrected.", "> First paragraph, corrected twice.", 1))
	if r := runXlate(t, fresh, nil, "-o", out, in); r.code != 0 || !strings.Contains(r.stderr, "kept ") {
		t.Errorf("no record, same model: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(readFile(t, file), "> First paragraph, corrected twice.\n") {
		t.Error("no record, same model: the edit is lost")
	}
	other := env(t, srv, t.TempDir())
	before := readFile(t, file)
	if r := runXlate(t, other, nil, "--model", "other", "-o", out, in); r.code != 1 || !strings.Contains(r.stderr, "left untouched") || readFile(t, file) != before {
		t.Errorf("no record, other model: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	mine := filepath.Join(t.TempDir(), "mine.md")
	writeText(t, mine, "# My own notes\n\nNot written by xlate.\n")
	if r := runXlate(t, e, nil, "-o", mine, input); r.code != 1 || !strings.Contains(r.stderr, "xlate did not write it") || readFile(t, mine) != "# My own notes\n\nNot written by xlate.\n" {
		t.Errorf("a file xlate did not write: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestSameTextEditedTwice: one paragraph corrected differently in two
// files; each file keeps its own wording, and the run says so.
func TestSameTextEditedTwice(t *testing.T) {
	in := t.TempDir()
	src := readFile(t, filepath.Join("testdata", "corpus", "plain-seed-cnbeta.txt"))
	writeText(t, filepath.Join(in, "a.txt"), src)
	writeText(t, filepath.Join(in, "b.txt"), src)
	out := filepath.Join(t.TempDir(), "out")
	e := env(t, fakeopenai.New(t, fakeopenai.Options{}), t.TempDir())
	if r := runXlate(t, e, nil, "-q", "-o", out, in); r.code != 0 {
		t.Fatalf("first run: %s", r.stderr)
	}
	a, b := filepath.Join(out, "a.md"), filepath.Join(out, "b.md")
	writeText(t, a, bilingualEdit(t, readFile(t, a), "Wording of file a.", 1))
	if r := runXlate(t, e, nil, "-o", out, in); r.code != 0 {
		t.Fatalf("read a: %s", r.stderr)
	}
	if !strings.Contains(readFile(t, b), "> Wording of file a.\n") {
		t.Error("a pinned translation is not used for the same text in another file")
	}
	writeText(t, b, strings.Replace(readFile(t, b), "> Wording of file a.", "> Wording of file b.", 1))
	r := runXlate(t, e, nil, "--model", "other", "-o", out, in)
	if r.code != 0 || !strings.Contains(r.stderr, "was corrected differently in") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(readFile(t, a), "> Wording of file a.\n") || !strings.Contains(readFile(t, b), "> Wording of file b.\n") {
		t.Error("a file lost its own wording of a text corrected differently elsewhere")
	}
}
