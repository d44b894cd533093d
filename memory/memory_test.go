package memory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name string
		xdg  string
		set  bool
		want string
	}{
		{"absolute XDG_DATA_HOME", "/data/me", true, "/data/me/xlate"},
		{"relative XDG_DATA_HOME is ignored", "rel/data", true, filepath.Join(home, ".local", "share", "xlate")},
		{"empty XDG_DATA_HOME", "", true, filepath.Join(home, ".local", "share", "xlate")},
		{"unset XDG_DATA_HOME", "", false, filepath.Join(home, ".local", "share", "xlate")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			if !tt.set {
				os.Unsetenv("XDG_DATA_HOME")
			}
			got, err := DefaultDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func open(t *testing.T, dir string) *Memory {
	t.Helper()
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReadsCreateNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "xlate")
	m := open(t, dir)
	if _, ok := m.Pinned("English", "你好"); ok {
		t.Error("Pinned found an entry in an empty memory")
	}
	if es, err := m.Pins(); err != nil || len(es) != 0 {
		t.Errorf("Pins() = %v, %v; want none", es, err)
	}
	if g := m.Generation(); g != "" {
		t.Errorf("Generation() = %q, want \"\"", g)
	}
	if _, ok, err := m.Record("/out/a.md"); ok || err != nil {
		t.Errorf("Record = %v, %v", ok, err)
	}
	if err := m.Records(func(Record) error { return errors.New("called") }); err != nil {
		t.Error(err)
	}
	if ok, err := m.Unpin("English", "你好"); ok || err != nil {
		t.Errorf("Unpin = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading an empty memory created %s (stat: %v)", filepath.Dir(dir), err)
	}
}

func TestOpenRejectsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil {
		t.Error("Open of a file succeeded")
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

var created = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func sampleEntries() []Entry {
	return []Entry{
		{Lang: "English", Source: "你好，世界。", Text: "Hello, world.", Model: "gpt-4o", Created: created, Pinned: true, Origin: "/out/a.md"},
		{Lang: "English", Source: "**粗体**和[链接](https://例子.cn/?a=1&b=2)", Text: "**bold** and [link](https://例子.cn/?a=1&b=2)", Created: created, Pinned: true, Origin: "/out/b.md"},
		{Lang: "French", Source: "你好，世界。", Text: "Bonjour, le monde.", Created: created, Pinned: true},
		{Lang: "Traditional Chinese", Source: "第一行\n第二行 <br> & \"引号\" '单'", Text: "第一行\n第二行 <br> & \"引號\" '單'", Created: created, Pinned: true, Origin: "import: x.tmx"},
		{Lang: "Japanese", Source: "表情 😀 と CJK 𠮷", Text: "絵文字 😀 と CJK 𠮷", Created: created, Pinned: true},
	}
}

func TestPinRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := open(t, dir)
	es := sampleEntries()
	if err := m.Pin(es...); err != nil {
		t.Fatal(err)
	}
	// The same Memory, and a second one on the same directory (as another
	// process would see it).
	m2 := open(t, dir)
	for _, mm := range []*Memory{m, m2} {
		for _, e := range es {
			got, ok := mm.Pinned(e.Lang, e.Source)
			if !ok {
				t.Errorf("Pinned(%q, %q) not found", e.Lang, e.Source)
				continue
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("Pinned(%q, %q) = %+v, want %+v", e.Lang, e.Source, got, e)
			}
		}
		if _, ok := mm.Pinned("German", "你好，世界。"); ok {
			t.Error("Pinned found a language that was never pinned")
		}
		if _, ok := mm.Pinned("English", "你好，世界"); ok {
			t.Error("Pinned matched a source that differs by one character")
		}
	}
	pins, err := m2.Pins()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range pins {
		keys = append(keys, p.Lang+"|"+p.Source)
	}
	want := []string{"English|**粗体**和[链接](https://例子.cn/?a=1&b=2)", "English|你好，世界。", "French|你好，世界。",
		"Japanese|表情 😀 と CJK 𠮷", "Traditional Chinese|第一行\n第二行 <br> & \"引号\" '单'"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("Pins() order = %q, want %q", keys, want)
	}

	// Replace, then unpin.
	repl := Entry{Lang: "English", Source: "你好，世界。", Text: "Hi, world.", Origin: "/out/c.md"}
	if err := m.Pin(repl); err != nil {
		t.Fatal(err)
	}
	got, ok := m.Pinned("English", "你好，世界。")
	if !ok || got.Text != "Hi, world." || got.Model != "" || !got.Pinned || got.Created.IsZero() || got.Created.Location() != time.UTC {
		t.Errorf("after replacing: %+v, %v", got, ok)
	}
	if pins, _ := m.Pins(); len(pins) != len(es) {
		t.Errorf("after replacing: %d pins, want %d", len(pins), len(es))
	}
	if ok, err := m.Unpin("English", "你好，世界。"); !ok || err != nil {
		t.Fatalf("Unpin = %v, %v", ok, err)
	}
	if ok, err := m.Unpin("English", "你好，世界。"); ok || err != nil {
		t.Errorf("second Unpin = %v, %v; want false, nil", ok, err)
	}
	if _, ok := m.Pinned("English", "你好，世界。"); ok {
		t.Error("Pinned still finds an unpinned entry")
	}
	if _, ok := open(t, dir).Pinned("English", "你好，世界。"); ok {
		t.Error("a reopened memory finds an unpinned entry")
	}
	if _, ok := m.Pinned("French", "你好，世界。"); !ok {
		t.Error("Unpin removed another language's pin")
	}
}

func TestPinnedSeesOwnWritesAfterLoading(t *testing.T) {
	m := open(t, t.TempDir())
	if _, ok := m.Pinned("English", "一"); ok { // loads the (empty) index
		t.Fatal("found a pin in an empty memory")
	}
	if err := m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Pinned("English", "一"); !ok || e.Text != "one" {
		t.Errorf("Pinned after Pin = %+v, %v", e, ok)
	}
	if _, err := m.Import([]Entry{{Lang: "English", Source: "二", Text: "two"}}); err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Pinned("English", "二"); !ok || e.Text != "two" {
		t.Errorf("Pinned after Import = %+v, %v", e, ok)
	}
	if _, err := m.Unpin("English", "一"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Pinned("English", "一"); ok {
		t.Error("Pinned after Unpin still finds it")
	}
}

func TestPinOfAPinAnotherProcessMadeIsVisible(t *testing.T) {
	// a loads its index; b (another process) pins; a pins the same entry,
	// which has nothing to write: a must still see its own pin.
	e := Entry{Lang: "English", Source: "一", Text: "one", Origin: "/out/a.md"}
	tests := []struct {
		name string
		do   func(a *Memory) error
	}{
		{"Pin", func(a *Memory) error { return a.Pin(e) }},
		{"Import", func(a *Memory) error { _, err := a.Import([]Entry{e}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := open(t, dir), open(t, dir)
			a.Pinned("English", "二") // loads a's index, empty
			if err := b.Pin(e); err != nil {
				t.Fatal(err)
			}
			gen := a.Generation()
			if err := tt.do(a); err != nil {
				t.Fatal(err)
			}
			if got, ok := a.Pinned("English", "一"); !ok || got.Text != "one" {
				t.Errorf("a pinned it but does not see it: %+v, %v", got, ok)
			}
			if a.Generation() != gen {
				t.Error("pinning an identical entry changed the generation")
			}
		})
	}
}

func TestPinRejectsBadEntries(t *testing.T) {
	good := Entry{Lang: "English", Source: "好", Text: "good"}
	tests := []struct {
		name string
		bad  Entry
		want string
	}{
		{"no language", Entry{Source: "坏", Text: "bad"}, "no language"},
		{"empty source", Entry{Lang: "English", Text: "bad"}, "empty source"},
		{"invalid UTF-8 source", Entry{Lang: "English", Source: "坏\xff", Text: "bad"}, "UTF-8"},
		{"invalid UTF-8 text", Entry{Lang: "English", Source: "坏", Text: "bad\xc3"}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			m := open(t, dir)
			err := m.Pin(good, tt.bad)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Pin error = %v, want one containing %q", err, tt.want)
			}
			_, err = m.Import([]Entry{good, tt.bad})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import error = %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a rejected batch wrote something (stat %s: %v)", dir, err)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "a", "xlate")
	m := open(t, dir)
	if err := m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetRecord(Record{Path: "/out/x.md", Sum: "00"}); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(filepath.Dir(dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | fs.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
		if strings.HasPrefix(d.Name(), tmpPref) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGeneration(t *testing.T) {
	dir := t.TempDir()
	m := open(t, dir)
	other := open(t, dir) // as another process
	gen := m.Generation()
	if gen != "" {
		t.Fatalf("fresh memory: Generation() = %q", gen)
	}
	seen := map[string]bool{}
	steps := []struct {
		name    string
		do      func() error
		changes bool
	}{
		{"Pin", func() error { return m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}) }, true},
		{"Pinned, Pins, SetRecord", func() error {
			m.Pinned("English", "一")
			if _, err := m.Pins(); err != nil {
				return err
			}
			return m.SetRecord(Record{Path: "/out/a.md"})
		}, false},
		{"Pin the same again", func() error { return m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}) }, false},
		{"Pin the same text from elsewhere", func() error {
			return m.Pin(Entry{Lang: "English", Source: "一", Text: "one", Origin: "/out/b.md"})
		}, true},
		{"Pin by another Memory", func() error { return other.Pin(Entry{Lang: "English", Source: "二", Text: "two"}) }, true},
		{"Unpin of nothing", func() error { _, err := m.Unpin("English", "三"); return err }, false},
		{"Unpin", func() error { _, err := m.Unpin("English", "一"); return err }, true},
		{"Import of a new entry", func() error {
			_, err := m.Import([]Entry{{Lang: "English", Source: "四", Text: "four"}})
			return err
		}, true},
		{"Import of identical entries", func() error {
			_, err := m.Import([]Entry{{Lang: "English", Source: "四", Text: "four"}, {Lang: "English", Source: "二", Text: "two"}})
			return err
		}, false},
		{"Import of a changed entry", func() error {
			_, err := m.Import([]Entry{{Lang: "English", Source: "四", Text: "Four"}})
			return err
		}, true},
		{"Import of nothing", func() error { _, err := m.Import(nil); return err }, false},
		{"Pin of nothing", func() error { return m.Pin() }, false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		g := m.Generation()
		if g2 := other.Generation(); g2 != g {
			t.Errorf("%s: two Memories on one dir disagree: %q vs %q", s.name, g, g2)
		}
		if again := m.Generation(); again != g {
			t.Errorf("%s: Generation not stable: %q then %q", s.name, g, again)
		}
		if s.changes {
			if g == gen || g == "" || seen[g] {
				t.Errorf("%s: Generation %q did not change to a new value (was %q)", s.name, g, gen)
			}
		} else if g != gen {
			t.Errorf("%s: Generation changed from %q to %q", s.name, gen, g)
		}
		seen[g] = true
		gen = g
	}
}

func TestImportStats(t *testing.T) {
	m := open(t, t.TempDir())
	if err := m.Pin(
		Entry{Lang: "English", Source: "一", Text: "one", Origin: "/out/a.md", Created: created},
		Entry{Lang: "English", Source: "二", Text: "two"},
	); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		es   []Entry
		want ImportStats
	}{
		{"all new", []Entry{{Lang: "French", Source: "一", Text: "un"}, {Lang: "French", Source: "二", Text: "deux"}}, ImportStats{New: 2}},
		{"mixed", []Entry{
			{Lang: "English", Source: "一", Text: "one", Origin: "import: x.tmx"}, // same
			{Lang: "English", Source: "二", Text: "Two"},                          // replaced
			{Lang: "English", Source: "三", Text: "three"},                        // new
		}, ImportStats{New: 1, Replaced: 1, Same: 1}},
		{"duplicates: the last wins", []Entry{
			{Lang: "German", Source: "一", Text: "ein"},
			{Lang: "German", Source: "一", Text: "eins"},
		}, ImportStats{New: 1}},
		{"nothing", nil, ImportStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Import(tt.es)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Import = %+v, want %+v", got, tt.want)
			}
		})
	}
	// Same entries are left as they were.
	if e, _ := m.Pinned("English", "一"); e.Origin != "/out/a.md" || !e.Created.Equal(created) {
		t.Errorf("an identical import rewrote the pin: %+v", e)
	}
	if e, _ := m.Pinned("English", "二"); e.Text != "Two" {
		t.Errorf("replaced pin: %+v", e)
	}
	if e, _ := open(t, m.Dir()).Pinned("German", "一"); e.Text != "eins" {
		t.Errorf("duplicate import kept %q, want the last (eins)", e.Text)
	}
}

func TestForeignAndCorruptPinFilesIgnored(t *testing.T) {
	dir := t.TempDir()
	m := open(t, dir)
	if err := m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}); err != nil {
		t.Fatal(err)
	}
	pdir, name := m.pinPath("English", "二")
	os.MkdirAll(pdir, 0o700)
	// A torn file, a pin stored under the wrong name, a temporary file.
	os.WriteFile(filepath.Join(pdir, name), []byte(`{"xlate_pin":1,"lang":"English","sour`), 0o600)
	wrong, _ := os.ReadFile(func() string { d, n := m.pinPath("English", "一"); return filepath.Join(d, n) }())
	os.WriteFile(filepath.Join(pdir, strings.Repeat("a", 64)+pinExt), wrong, 0o600)
	os.WriteFile(filepath.Join(pdir, tmpPref+"x.json-1"), wrong, 0o600)
	m2 := open(t, dir)
	pins, err := m2.Pins()
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].Source != "一" {
		t.Errorf("Pins() = %+v, want only 一", pins)
	}
	if _, ok := m2.Pinned("English", "二"); ok {
		t.Error("a torn pin file was used")
	}
}

func TestConcurrentPinAndRead(t *testing.T) {
	dir := t.TempDir()
	ms := []*Memory{open(t, dir), open(t, dir)} // two "processes"
	const workers, rounds, keys = 6, 40, 10
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			m := ms[w%2]
			for i := 0; i < rounds; i++ {
				src := fmt.Sprintf("句子%d", (w+i)%keys)
				switch i % 5 {
				case 0, 1:
					if err := m.Pin(Entry{Lang: "English", Source: src, Text: fmt.Sprintf("w%d i%d", w, i)}); err != nil {
						t.Error(err)
					}
				case 2:
					if e, ok := m.Pinned("English", src); ok && (e.Source != src || !strings.HasPrefix(e.Text, "w")) {
						t.Errorf("Pinned(%q) = %+v", src, e)
					}
					m.Generation()
				case 3:
					if _, err := m.Pins(); err != nil {
						t.Error(err)
					}
				case 4:
					if _, err := m.Unpin("English", src); err != nil {
						t.Error(err)
					}
					if _, err := m.Import([]Entry{{Lang: "French", Source: src, Text: "fr"}}); err != nil {
						t.Error(err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	pins, err := open(t, dir).Pins()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if !strings.HasPrefix(p.Source, "句子") || p.Text == "" {
			t.Errorf("bad pin after concurrent writes: %+v", p)
		}
	}
	// The index of each Memory agrees with the disk for its own last writes
	// only, but every pin on disk must parse: count files vs pins.
	n := 0
	filepath.WalkDir(filepath.Join(dir, pinsDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if strings.HasPrefix(d.Name(), tmpPref) {
				t.Errorf("temporary file left: %s", p)
			}
			n++
		}
		return nil
	})
	if n != len(pins) {
		t.Errorf("%d pin files, %d parse", n, len(pins))
	}
}

func TestWriteSweepsStaleTemps(t *testing.T) {
	m := open(t, t.TempDir())
	dir, _ := m.pinPath("English", "一")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, tmpPref+"killed.json-1")
	fresh := filepath.Join(dir, tmpPref+"inflight.json-2")
	for _, f := range []string{stale, fresh} {
		if err := os.WriteFile(f, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := m.Pin(Entry{Lang: "English", Source: "一", Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file not removed (stat: %v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a recent temporary file (maybe a write in progress) was removed: %v", err)
	}
}

// BenchmarkPinned measures the lookup xlate makes for every segment.
func BenchmarkPinned(b *testing.B) {
	m, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var es []Entry
	for i := 0; i < 2000; i++ {
		es = append(es, Entry{Lang: "English", Source: fmt.Sprintf("第%d句话，有一些中文。", i), Text: "text"})
	}
	if err := m.Pin(es...); err != nil {
		b.Fatal(err)
	}
	if m, err = Open(m.Dir()); err != nil {
		b.Fatal(err)
	}
	m.Pinned("English", "warm up")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Pinned("English", es[i%len(es)].Source)
			i++
		}
	})
}
