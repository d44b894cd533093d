package memory

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func sampleRecord(path string) Record {
	return Record{
		Path:     path,
		Sum:      strings.Repeat("ab", 32),
		Written:  time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC),
		Model:    "gpt-4o-mini",
		Lang:     "English",
		Layout:   "bilingual",
		Syntax:   "markdown",
		HugoLang: "en",
		Input:    []byte("---\ntitle: 标题\n---\n\n第一段。\n\n**第二段**，有 <b>HTML</b> & \"引号\"。\n"),
		Title:    Pair{Source: "标题", Text: "Title"},
		Segments: []Pair{{Source: "第一段。", Text: "First paragraph."}, {Source: "**第二段**", Text: ""}},
		TLDR:     "A summary.",
		Points:   []string{"one", "two"},
		Meta:     map[string]string{"title": "h1", "tags": "h2"},
	}
}

func TestRecordSetGet(t *testing.T) {
	dir := t.TempDir()
	m := open(t, dir)
	out := filepath.Join(t.TempDir(), "out", "a.md")

	prevPrev := sampleRecord(out)
	prevPrev.Sum = "00"
	prev := sampleRecord(out)
	prev.Sum = "11"
	prev.Input = []byte{0xff, 0xfe, 'x', 0x80} // not UTF-8: must come back byte for byte
	prev.Prev = &prevPrev
	cur := sampleRecord(out)
	cur.Segments = append(cur.Segments, Pair{Source: "新段", Text: "New paragraph"})
	cur.Prev = &prev

	tests := []struct {
		name string
		set  Record
		want Record
	}{
		{"plain", sampleRecord(out), sampleRecord(out)},
		{"overwrite, Prev kept without its own Prev", cur, func() Record {
			w := cur
			p := prev
			p.Prev = nil
			w.Prev = &p
			return w
		}()},
		{"empty fields", Record{Path: out}, Record{Path: out}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := m.SetRecord(tt.set); err != nil {
				t.Fatal(err)
			}
			for _, mm := range []*Memory{m, open(t, dir)} {
				got, ok, err := mm.Record(out)
				if err != nil || !ok {
					t.Fatalf("Record = %v, %v", ok, err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Record =\n%+v\nwant\n%+v", got, tt.want)
				}
			}
		})
	}
	if cur.Prev.Prev != &prevPrev {
		t.Error("SetRecord modified its argument")
	}
}

func TestRecordRelativePath(t *testing.T) {
	m := open(t, t.TempDir())
	wd := t.TempDir()
	t.Chdir(wd)
	if err := m.SetRecord(Record{Path: "sub/../a.md", Sum: "1"}); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(wd, "a.md")
	r, ok, err := m.Record(abs)
	if err != nil || !ok || r.Path != abs {
		t.Errorf("Record(%q) = %+v, %v, %v", abs, r, ok, err)
	}
	if _, ok, _ := m.Record("a.md"); !ok {
		t.Error("Record of the relative path not found")
	}
	if err := m.SetRecord(Record{}); err == nil {
		t.Error("SetRecord with no path succeeded")
	}
}

func TestRecordCorruptIgnored(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		data func(good []byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"not gzip", func([]byte) []byte { return []byte(`{"xlate_record":1}`) }},
		{"truncated gzip", func(good []byte) []byte { return good[:len(good)/2] }},
		{"gzip of garbage", func([]byte) []byte { return gz("\x00garbage") }},
		{"gzip of truncated JSON", func([]byte) []byte { return gz(`{"xlate_record":1,"path":"/x`) }},
		{"another format", func([]byte) []byte { return gz(`{"xlate_record":2,"path":"/out/a.md"}`) }},
		{"another path", func([]byte) []byte { return gz(`{"xlate_record":1,"path":"/out/other.md"}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := open(t, t.TempDir())
			const out = "/out/a.md"
			if err := m.SetRecord(sampleRecord(out)); err != nil {
				t.Fatal(err)
			}
			if err := m.SetRecord(sampleRecord("/out/b.md")); err != nil {
				t.Fatal(err)
			}
			dir, name := m.recordPath(out)
			file := filepath.Join(dir, name)
			good, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, tt.data(good), 0o600); err != nil {
				t.Fatal(err)
			}
			r, ok, err := m.Record(out)
			if ok || err != nil || !reflect.DeepEqual(r, Record{}) {
				t.Errorf("Record of a corrupt file = %+v, %v, %v; want zero, false, nil", r, ok, err)
			}
			var paths []string
			if err := m.Records(func(r Record) error { paths = append(paths, r.Path); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(paths, []string{"/out/b.md"}) {
				t.Errorf("Records walked %q, want only /out/b.md", paths)
			}
			// A new SetRecord replaces the corrupt file.
			if err := m.SetRecord(sampleRecord(out)); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := m.Record(out); !ok {
				t.Error("record not readable after rewriting it")
			}
		})
	}
}

func TestRecordsWalksAll(t *testing.T) {
	m := open(t, t.TempDir())
	want := []string{"/out/a.md", "/out/b.md", "/out/sub/c.md", "/other/d.md"}
	for i, p := range want {
		r := sampleRecord(p)
		r.Sum = strings.Repeat(string(rune('0'+i)), 64)
		if err := m.SetRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SetRecord(sampleRecord("/out/a.md")); err != nil { // overwrite: still one record
		t.Fatal(err)
	}
	var got []string
	if err := m.Records(func(r Record) error {
		if !reflect.DeepEqual(r.Segments, sampleRecord("").Segments) {
			t.Errorf("%s: segments %+v", r.Path, r.Segments)
		}
		got = append(got, r.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Records walked %q, want %q", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := m.Records(func(Record) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Records with a failing f: err %v after %d calls; want stop after 1", err, n)
	}
}

func TestRecordCompressed(t *testing.T) {
	m := open(t, t.TempDir())
	r := sampleRecord("/out/big.md")
	r.Input = bytes.Repeat([]byte("这是一个相当长的中文段落，用来检查记录是否压缩。\n"), 2000) // ~150 KB
	p := r
	r.Prev = &p
	if err := m.SetRecord(r); err != nil {
		t.Fatal(err)
	}
	dir, name := m.recordPath("/out/big.md")
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > int64(len(r.Input))/10 {
		t.Errorf("record of two %d-byte inputs takes %d bytes: not compressed well", len(r.Input), fi.Size())
	}
}
