package memory

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

var codes = map[string]string{
	"English":             "en",
	"French":              "fr",
	"Japanese":            "ja",
	"German":              "de",
	"Traditional Chinese": "zh-TW",
	"Simplified Chinese":  "zh-CN",
}

func codeOf(lang string) (string, bool) {
	c, ok := codes[lang]
	return c, ok
}

func nameOf(code string) string {
	c := strings.ToLower(strings.ReplaceAll(code, "_", "-"))
	for name, k := range codes {
		if strings.ToLower(k) == c || strings.HasPrefix(c, strings.ToLower(k)+"-") {
			return name
		}
	}
	switch {
	case c == "zh-hant" || c == "zh-hk":
		return "Traditional Chinese"
	case strings.HasPrefix(c, "en-"):
		return "English"
	case strings.HasPrefix(c, "fr-"):
		return "French"
	}
	return ""
}

// xmllint validates file against the TMX 1.4b DTD in testdata.
func xmllint(t *testing.T, file string) error {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed, and the TMX tests need it to validate against the TMX 1.4b DTD: " +
			"install libxml2-utils (apt-get install libxml2-utils)")
	}
	out, err := exec.Command(bin, "--noout", "--dtdvalid", filepath.Join("testdata", "tmx14b.dtd"), file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func TestDTDCheckCanFail(t *testing.T) {
	// The validation below must be able to fail: a document with the props
	// after the tuvs and no srclang does not validate.
	bad := `<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="xlate" creationtoolversion="1" segtype="paragraph" o-tmf="xlate" adminlang="en" datatype="markdown"/>
  <body><tu><tuv xml:lang="zh-CN"><seg>一</seg></tuv><prop type="x-pinned">true</prop></tu></body>
</tmx>
`
	f := filepath.Join(t.TempDir(), "bad.tmx")
	os.WriteFile(f, []byte(bad), 0o600)
	if err := xmllint(t, f); err == nil {
		t.Fatal("xmllint accepted an invalid TMX document")
	}
}

func tmxEntries() []Entry {
	es := sampleEntries()
	es = append(es,
		Entry{Lang: "English", Source: "  前后空格 \t制表  ", Text: "  leading and trailing \t tab  ", Pinned: false, Model: "m<&>\"'", Origin: "/out/a & b <c>.md", Created: created},
		Entry{Lang: "German", Source: "`代码 <tag>` & ]]> 结束", Text: "`Code <tag>` & ]]> Ende", Pinned: true, Created: created, Origin: "import: old.tmx"},
		Entry{Lang: "English", Source: "回车\r\n换行", Text: "CR\r\nLF", Pinned: true, Created: created, Origin: "o"},
		Entry{Lang: "Simplified Chinese", Source: "繁体？不，简体源", Text: "简体目标", Pinned: true, Created: created, Origin: "o"},
	)
	return es
}

func TestWriteTMXValidates(t *testing.T) {
	tests := []struct {
		name string
		es   []Entry
	}{
		{"entries", tmxEntries()},
		{"no entries", nil},
		{"no dates, origins or models", []Entry{{Lang: "English", Source: "一", Text: "one"}}},
		{"empty text", []Entry{{Lang: "English", Source: "一", Text: ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteTMX(&b, tt.es, codeOf, "1.2.3"); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "out.tmx")
			if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := xmllint(t, f); err != nil {
				t.Errorf("WriteTMX output does not validate against the TMX 1.4b DTD: %v\n%s", err, b.String())
			}
		})
	}
}

func TestWriteTMXShape(t *testing.T) {
	var b bytes.Buffer
	es := []Entry{{Lang: "English", Source: "**粗体**\n第二行 & <x>", Text: "**bold**\nline two & <x>", Model: "gpt-4o",
		Created: created, Pinned: true, Origin: "/out/a.md"}}
	if err := WriteTMX(&b, es, codeOf, ""); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<tmx version="1.4">`,
		`<header creationtool="xlate" creationtoolversion="unknown" segtype="paragraph" o-tmf="xlate" adminlang="en" srclang="zh-CN" datatype="markdown"/>`,
		`<tu creationdate="20250304T050607Z">`,
		`<prop type="x-pinned">true</prop>`,
		`<prop type="x-model">gpt-4o</prop>`,
		`<prop type="x-origin">/out/a.md</prop>`,
		"<tuv xml:lang=\"zh-CN\"><seg>**粗体**\n第二行 &amp; &lt;x&gt;</seg></tuv>",
		"<tuv xml:lang=\"en\"><seg>**bold**\nline two &amp; &lt;x&gt;</seg></tuv>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "x-origin") > strings.Index(out, "<tuv") {
		t.Error("props after tuv")
	}
}

func TestWriteTMXRefuses(t *testing.T) {
	tests := []struct {
		name string
		es   []Entry
		want string
	}{
		{"unknown language", []Entry{{Lang: "English", Source: "一", Text: "one"}, {Lang: "French-ish", Source: "二", Text: "deux"}},
			"cannot export French-ish: no BCP 47 code for it"},
		{"control character", []Entry{{Lang: "English", Source: "一", Text: "one"}, {Lang: "English", Source: "二\x01", Text: "two"}},
			"U+0001"},
		{"invalid UTF-8", []Entry{{Lang: "English", Source: "一", Text: "one\xff"}}, "UTF-8"},
		{"empty source", []Entry{{Lang: "English", Source: "", Text: "one"}}, "empty source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteTMX(&b, tt.es, codeOf, "1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
}

func TestTMXRoundTrip(t *testing.T) {
	es := tmxEntries()
	var b bytes.Buffer
	if err := WriteTMX(&b, es, codeOf, "1"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTMX(&b, "x.tmx", nameOf)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]Entry, len(es))
	for i, e := range es {
		if e.Origin == "" {
			e.Origin = "import: x.tmx"
		}
		want[i] = e
	}
	if len(got) != len(want) {
		t.Fatalf("read %d entries, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("entry %d:\n got %#v\nwant %#v", i, got[i], want[i])
		}
	}
}

// lineOf returns the 1-based line of the first occurrence of marker in doc.
func lineOf(t *testing.T, doc, marker string) int {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("marker %q not in document", marker)
	}
	return strings.Count(doc[:i], "\n") + 1
}

// An OmegaT-style file: TMX 1.1-like lang attributes, upper case codes,
// sentence segmentation, <ph> and <bpt>/<ept> placeholders.
const omegatTMX = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx11.dtd">
<tmx version="1.1">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext" creationtoolversion="6.0.0_0" segtype="sentence" srclang="ZH-CN"/>
  <body>
<!-- Default translations -->
    <tu>
      <tuv lang="ZH-CN">
        <seg>第一句。</seg>
      </tuv>
      <tuv lang="EN-US" changeid="ana" changedate="20240102T030405Z" creationid="ana" creationdate="20240101T000000Z">
        <seg>First sentence.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv lang="ZH-CN">
        <seg>换行<ph x="1">&lt;br/&gt;</ph>之后</seg>
      </tuv>
      <tuv lang="EN-US">
        <seg>Line<ph x="1">&lt;br/&gt;</ph> break</seg>
      </tuv>
    </tu>
    <tu>
      <tuv lang="ZH-CN">
        <seg>这是<bpt i="1" x="1">&lt;b0&gt;</bpt>重要<ept i="1">&lt;/b0&gt;</ept>的。</seg>
      </tuv>
      <tuv lang="EN-US">
        <seg>This is <bpt i="1" x="1">&lt;b0&gt;</bpt>important<ept i="1">&lt;/b0&gt;</ept>.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv lang="ZH-CN">
        <seg>没有翻译。</seg>
      </tuv>
    </tu>
    <tu>
      <tuv lang="ZH-CN">
        <seg>空的译文。</seg>
      </tuv>
      <tuv lang="EN-US">
        <seg></seg>
      </tuv>
    </tu>
  </body>
</tmx>
`

// A Trados/memoQ-style TMX 1.4: xml:lang, lower/mixed case, zh-Hans source
// named by srclang, several targets, hi, it, sub, notes and unknown props.
const tradosTMX = `<?xml version="1.0" encoding="utf-8"?>
<tmx version="1.4">
<header creationtool="SDL Language Platform" creationtoolversion="8.1" o-tmf="SDL TM8 Format" datatype="xml" segtype="sentence" adminlang="en-US" srclang="zh-Hans">
<prop type="x-Recognizers">RecognizeAll</prop>
</header>
<body>
<tu creationdate="20230405T060708Z" creationid="PC\user" changedate="20230506T000000Z">
<prop type="x-Context">0, 0</prop>
<note>checked</note>
<tuv xml:lang="en-GB"><seg>Press <it pos="begin" x="1">&lt;i&gt;</it><hi type="b">Start</hi> now &amp; wait.</seg></tuv>
<tuv xml:lang="zh-Hans"><seg>现在按<it pos="begin" x="1">&lt;i&gt;</it><hi type="b">开始</hi>并等待。</seg></tuv>
<tuv xml:lang="fr-FR"><seg>Appuyez sur <hi>Démarrer</hi> &amp; attendez.</seg></tuv>
<tuv xml:lang="zh-TW"><seg>現在按開始並等待。</seg></tuv>
</tu>
<tu>
<tuv xml:lang="zh-Hans"><seg>图片<ph type="image">&lt;img alt="<sub>说明</sub>"/&gt;</ph>在这里</seg></tuv>
<tuv xml:lang="en-US"><seg>Image<ph type="image">&lt;img alt="<sub>caption</sub>"/&gt;</ph> here</seg></tuv>
</tu>
</body>
</tmx>
`

// A file whose datatype is markdown: native codes are markdown and are kept.
const markdownTMX = `<?xml version="1.0"?>
<tmx version="1.4"><header creationtool="t" creationtoolversion="1" segtype="paragraph" o-tmf="t" adminlang="en" srclang="zh" datatype="x-markdown"/>
<body>
<tu srclang="zh"><prop type="x-pinned">false</prop><prop type="x-model">m1</prop><prop type="x-origin">o1</prop>
<tuv xml:lang="zh"><seg>这是<bpt i="1">**</bpt>重要<ept i="1">**</ept>的。</seg></tuv>
<tuv xml:lang="ja"><seg>これは<bpt i="1">**</bpt>重要<ept i="1">**</ept>です。</seg></tuv>
</tu>
</body></tmx>`

func TestReadTMXFromCATTools(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		want []Entry
	}{
		{"OmegaT", []byte(omegatTMX), []Entry{
			{Lang: "English", Source: "第一句。", Text: "First sentence.", Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "English", Source: "换行之后", Text: "Line break", Pinned: true, Origin: "import: in.tmx"},
			{Lang: "English", Source: "这是重要的。", Text: "This is important.", Pinned: true, Origin: "import: in.tmx"},
		}},
		{"Trados/memoQ", []byte(tradosTMX), []Entry{
			{Lang: "English", Source: "现在按开始并等待。", Text: "Press Start now & wait.", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "French", Source: "现在按开始并等待。", Text: "Appuyez sur Démarrer & attendez.", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "Traditional Chinese", Source: "现在按开始并等待。", Text: "現在按開始並等待。", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "English", Source: "图片在这里", Text: "Image here", Pinned: true, Origin: "import: in.tmx"},
		}},
		{"Trados in UTF-16LE with BOM", utf16LE(strings.Replace(tradosTMX, `encoding="utf-8"`, `encoding="UTF-16"`, 1)), []Entry{
			{Lang: "English", Source: "现在按开始并等待。", Text: "Press Start now & wait.", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "French", Source: "现在按开始并等待。", Text: "Appuyez sur Démarrer & attendez.", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "Traditional Chinese", Source: "现在按开始并等待。", Text: "現在按開始並等待。", Created: time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), Pinned: true, Origin: "import: in.tmx"},
			{Lang: "English", Source: "图片在这里", Text: "Image here", Pinned: true, Origin: "import: in.tmx"},
		}},
		{"markdown datatype keeps codes; props", []byte(markdownTMX), []Entry{
			{Lang: "Japanese", Source: "这是**重要**的。", Text: "これは**重要**です。", Model: "m1", Pinned: false, Origin: "o1"},
		}},
		{"UTF-8 BOM, empty body", []byte("\xEF\xBB\xBF<tmx version=\"1.4\"><header srclang=\"zh-CN\"/><body/></tmx>"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTMX(bytes.NewReader(tt.doc), "in.tmx", nameOf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadTMX =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %#v\n", e)
	}
	return b.String()
}

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func TestReadTMXErrors(t *testing.T) {
	good := "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\">\n<header srclang=\"zh-CN\"/>\n<body>\n" +
		"<tu>\n<tuv xml:lang=\"zh-CN\"><seg>一</seg></tuv>\n<tuv xml:lang=\"en\"><seg>one</seg></tuv>\n</tu>\n"
	end := "</body>\n</tmx>\n"
	tests := []struct {
		name   string
		doc    string
		marker string // the error is on this marker's line; "" = where the input ends
		want   string
	}{
		{"truncated", good[:len(good)-20], "", "malformed XML"},
		{"truncated in a seg", good + "<tu>\n<tuv xml:lang=\"zh-CN\"><seg>二", "", "malformed XML"},
		{"mismatched tags", good + "<tu>\n<tuv xml:lang=\"zh-CN\"><seg>二</tuv>\n</tu>\n" + end, "<seg>二</tuv>", "malformed XML"},
		{"bad entity", good + "<tu>\n<tuv xml:lang=\"zh-CN\"><seg>二 &nbsp;</seg></tuv>\n</tu>\n" + end, "&nbsp;", "malformed XML"},
		{"wrong root", "<?xml version=\"1.0\"?>\n<!-- x -->\n<xliff version=\"1.2\">\n<file/>\n</xliff>\n", "<xliff", "not a TMX document"},
		{"no root", "<?xml version=\"1.0\"?>\n\n", "", "no root element"},
		{"tu without a Chinese source", good + "<tu creationdate=\"20240101T000000Z\">\n<tuv xml:lang=\"en\"><seg>two</seg></tuv>\n<tuv xml:lang=\"fr\"><seg>deux</seg></tuv>\n</tu>\n" + end,
			"<tu creationdate", "without a Chinese source"},
		{"tu start tag on two lines", good + "<tu\n  creationdate=\"20240101T000000Z\">\n<tuv xml:lang=\"en\"><seg>two</seg></tuv>\n</tu>\n" + end,
			"<tu\n  creationdate", "without a Chinese source"},
		{"tu with only a traditional source", strings.Replace(good, `srclang="zh-CN"`, `srclang="en"`, 1) + "<tu>\n<tuv xml:lang=\"zh-TW\"><seg>二</seg></tuv>\n<tuv xml:lang=\"en\"><seg>two</seg></tuv>\n</tu>\n" + end,
			"<tu>\n<tuv xml:lang=\"zh-TW\"", "without a Chinese source"},
		{"empty source", good + "<tu>\n<tuv xml:lang=\"en\"><seg>two</seg></tuv>\n<tuv xml:lang=\"zh-CN\"><seg>  </seg></tuv>\n</tu>\n" + end,
			"<tuv xml:lang=\"zh-CN\"><seg>  ", "empty zh-CN source"},
		{"tuv without language", good + "<tu>\n<tuv><seg>二</seg></tuv>\n</tu>\n" + end, "<tuv><seg>二", "without xml:lang"},
		{"unknown target language", good + "<tu>\n<tuv xml:lang=\"zh-CN\"><seg>二</seg></tuv>\n<tuv xml:lang=\"x-klingon\"><seg>cha'</seg></tuv>\n</tu>\n" + end,
			"x-klingon", `no language known for the code "x-klingon"`},
		{"unsupported encoding", "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<tmx/>", "<?xml", "unsupported encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := strings.Count(tt.doc, "\n") + 1 // where the input ends
			if tt.marker != "" {
				line = lineOf(t, tt.doc, tt.marker)
			}
			es, err := ReadTMX(strings.NewReader(tt.doc), "dir/bad file.tmx", nameOf)
			if err == nil {
				t.Fatalf("no error; entries %+v", es)
			}
			if es != nil {
				t.Errorf("entries returned with the error: %+v", es)
			}
			prefix := fmt.Sprintf("dir/bad file.tmx:%d: ", line)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q...%q", err, prefix, tt.want)
			}
		})
	}
}

func TestReadTMXGoodBeforeBadReturnsNothing(t *testing.T) {
	// All or nothing: the good units before a bad one are not returned.
	doc := "<tmx version=\"1.4\"><header srclang=\"zh-CN\"/><body>\n" +
		"<tu><tuv xml:lang=\"zh-CN\"><seg>一</seg></tuv><tuv xml:lang=\"en\"><seg>one</seg></tuv></tu>\n" +
		"<tu><tuv xml:lang=\"en\"><seg>two</seg></tuv></tu>\n</body></tmx>"
	es, err := ReadTMX(strings.NewReader(doc), "f.tmx", nameOf)
	if err == nil || es != nil || !strings.HasPrefix(err.Error(), "f.tmx:3: ") {
		t.Errorf("ReadTMX = %v, %v; want nil and an error at f.tmx:3", es, err)
	}
}

func TestImportOfReadTMX(t *testing.T) {
	// Export the pins, import them into another memory: same pins.
	a := open(t, t.TempDir())
	es := tmxEntries()
	if err := a.Pin(es...); err != nil {
		t.Fatal(err)
	}
	pins, err := a.Pins()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteTMX(&b, pins, codeOf, "1"); err != nil {
		t.Fatal(err)
	}
	read, err := ReadTMX(&b, "pins.tmx", nameOf)
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, t.TempDir())
	st, err := c.Import(read)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{New: len(es)}) {
		t.Errorf("Import = %+v, want %d new", st, len(es))
	}
	got, err := c.Pins()
	if err != nil {
		t.Fatal(err)
	}
	for i := range pins {
		if pins[i].Origin == "" {
			pins[i].Origin = "import: pins.tmx"
		}
	}
	if !reflect.DeepEqual(got, pins) {
		t.Errorf("after export and import:\n%s\nwant\n%s", dump(got), dump(pins))
	}
	if st, _ := c.Import(read); st != (ImportStats{Same: len(es)}) {
		t.Errorf("second Import = %+v, want all same", st)
	}
}
