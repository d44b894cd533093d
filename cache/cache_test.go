package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestKey(t *testing.T) {
	tests := []struct {
		a, b []string
	}{
		{[]string{"ab", "c"}, []string{"a", "bc"}},
		{[]string{"a"}, []string{"a", ""}},
		{[]string{""}, []string{}},
		{[]string{"", ""}, []string{""}},
		{[]string{"translate", "v1", "m"}, []string{"translate", "v1", "n"}},
		{[]string{"\x00\x00\x00\x00\x00\x00\x00\x01a"}, []string{"a", ""}},
	}
	for _, tt := range tests {
		if Key(tt.a...) == Key(tt.b...) {
			t.Errorf("Key(%q) == Key(%q)", tt.a, tt.b)
		}
	}
	k := Key("a", "b")
	if k != Key("a", "b") {
		t.Error("Key is not deterministic")
	}
	if len(k) != 64 || !validKey(k) {
		t.Errorf("Key = %q, want 64 lowercase hex digits", k)
	}
	// Pin the encoding: changing it silently invalidates every cache.
	if got, want := Key("a"), "3b196fd4907bedf51c3090e9835f2f7cb61e7ee1b2299ea3b8fed9b4183a822a"; got != want {
		t.Errorf("Key(\"a\") = %s, want %s", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	d := open(t)
	tests := []struct {
		name string
		val  []byte
	}{
		{"empty", []byte{}},
		{"text", []byte("Hello, 世界\n")},
		{"newlines in value", []byte("a\nb\n\nxlate-cache 1 x 1 y\n")},
		{"binary", []byte{0, 1, 2, 0xff, '\n', 0}},
		{"large", bytes.Repeat([]byte("0123456789"), 100_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := Key(tt.name)
			if err := d.Put(k, tt.val); err != nil {
				t.Fatal(err)
			}
			got, ok := d.Get(k)
			if !ok || !bytes.Equal(got, tt.val) {
				t.Fatalf("Get = %q, %v; want %q", got[:min(len(got), 40)], ok, tt.val[:min(len(tt.val), 40)])
			}
		})
	}
	// Overwrite.
	k := Key("text")
	if err := d.Put(k, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, ok := d.Get(k); !ok || string(got) != "new" {
		t.Errorf("after overwrite Get = %q, %v", got, ok)
	}
	// A second Dir on the same path sees the same entries.
	d2, err := Open(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := d2.Get(k); !ok || string(got) != "new" {
		t.Errorf("reopened Get = %q, %v", got, ok)
	}
}

func TestMiss(t *testing.T) {
	d := open(t)
	if err := d.Put(Key("present"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{Key("absent"), "", "a", "../../etc/passwd", "ZZ", strings.ToUpper(Key("present")), Key("present") + "/x"} {
		if v, ok := d.Get(key); ok {
			t.Errorf("Get(%q) = %q, want miss", key, v)
		}
	}
}

func TestInvalidKeyPut(t *testing.T) {
	d := open(t)
	for _, key := range []string{"", "a", "../x", "AB", "ab/cd", ".tmp-ab", strings.Repeat("a", 129)} {
		err := d.Put(key, []byte("v"))
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if err := d.Put(Key("big"), make([]byte, MaxValueSize+1)); err == nil {
		t.Error("Put of an oversized value succeeded")
	}
}

// TestCorrupt damages a valid entry in many ways; every one must be a miss.
func TestCorrupt(t *testing.T) {
	val := []byte("a translated paragraph\nwith two lines")
	key := Key("corrupt")
	other := Key("other")
	good := []byte(header(key, val) + string(val))
	hdrLen := len(header(key, val))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty file", nil},
		{"garbage", []byte("\x00\x01garbage without a newline")},
		{"garbage line", []byte("hello\nworld")},
		{"header only", []byte(header(key, val))},
		{"truncated value", good[:len(good)-1]},
		{"truncated header", good[:hdrLen/2]},
		{"extra byte", append(bytes.Clone(good), 'x')},
		{"flip in value", flip(len(good) - 3)},
		{"flip in first value byte", flip(hdrLen)},
		{"flip in magic", flip(2)},
		{"flip in key", flip(20)},
		{"flip in checksum", flip(hdrLen - 5)},
		{"flip newline", flip(hdrLen - 1)},
		{"other version", []byte(strings.Replace(string(good), "xlate-cache 1 ", "xlate-cache 2 ", 1))},
		{"other key's entry", []byte(header(other, val) + string(val))},
		{"wrong length", []byte(strings.Replace(string(good), fmt.Sprintf(" %d ", len(val)), fmt.Sprintf(" %d ", len(val)-1), 1))},
		{"torn: two writers interleaved", append(good[:len(good)/2:len(good)/2], []byte(header(key, []byte("zz"))+"zz")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(tt.data, good) {
				t.Fatal("test case does not damage the entry")
			}
			d := open(t)
			if err := d.Put(key, val); err != nil {
				t.Fatal(err)
			}
			if got, ok := d.Get(key); !ok || !bytes.Equal(got, val) {
				t.Fatalf("good entry: Get = %q, %v", got, ok)
			}
			if err := os.WriteFile(d.file(key), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if got, ok := d.Get(key); ok {
				t.Errorf("Get served a damaged entry: %q", got)
			}
			// Put repairs it.
			if err := d.Put(key, val); err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Get(key); !ok {
				t.Error("miss after repairing Put")
			}
		})
	}
	t.Run("directory in place of entry", func(t *testing.T) {
		d := open(t)
		if err := os.MkdirAll(d.file(key), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, ok := d.Get(key); ok {
			t.Error("hit on a directory")
		}
		if err := d.Put(key, val); err == nil {
			t.Error("Put over a directory succeeded")
		} else if !strings.HasPrefix(err.Error(), "cache: put ") {
			t.Errorf("Put error %q lacks context", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads anything")
		}
		d := open(t)
		if err := d.Put(key, val); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d.file(key), 0); err != nil {
			t.Fatal(err)
		}
		if _, ok := d.Get(key); ok {
			t.Error("hit on an unreadable file")
		}
	})
}

func TestTempFilesIgnored(t *testing.T) {
	d := open(t)
	key := Key("k")
	// A killed Put leaves a temp file with a complete-looking entry.
	if err := os.Mkdir(d.shard(key), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(d.shard(key), tempPrefix+key[:16]+"-123")
	if err := os.WriteFile(tmp, []byte(header(key, []byte("v"))+"v"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Get(key); ok {
		t.Error("Get served a temporary file")
	}
	if n, _, err := d.Entries(); err != nil || n != 0 {
		t.Errorf("Entries = %d, %v; want 0", n, err)
	}
}

func TestPermissions(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("perm")
	if err := d.Put(key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want fs.FileMode
	}{
		{root, fs.ModeDir | 0o700},
		{d.shard(key), fs.ModeDir | 0o700},
		{d.file(key), 0o600},
	}
	for _, tt := range tests {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tt.want {
			t.Errorf("%s: mode %v, want %v", tt.path, fi.Mode(), tt.want)
		}
	}
	if d.Path() != root {
		t.Errorf("Path = %q, want %q", d.Path(), root)
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
	}{
		{"empty", ""},
		{"file", file},
		{"under a file", filepath.Join(file, "sub")},
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, dir string }{"read-only", ro})
	}
	for _, tt := range tests {
		if d, err := Open(tt.dir); err == nil {
			t.Errorf("%s: Open(%q) = %v, want error", tt.name, tt.dir, d.Path())
		} else if !strings.HasPrefix(err.Error(), "cache: open") || strings.Count(err.Error(), "cache:") != 1 {
			t.Errorf("%s: error %q lacks context", tt.name, err)
		} else if tt.dir != "" && !strings.HasPrefix(err.Error(), "cache: open "+tt.dir+": ") {
			t.Errorf("%s: error %q does not name %s", tt.name, err, tt.dir)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-test")
	t.Setenv("HOME", "/tmp/home-test")
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		return // other systems ignore XDG_CACHE_HOME
	}
	if want := "/tmp/xdg-test/xlate"; dir != want {
		t.Errorf("DefaultDir = %q, want %q", dir, want)
	}
}

func TestNop(t *testing.T) {
	var s Store = Nop{}
	if err := s.Put(Key("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Get(Key("k")); ok || v != nil {
		t.Errorf("Nop.Get = %q, %v", v, ok)
	}
}

// value is what writer w stores under key k in the concurrency tests: large
// enough that writes take a while, and different per writer so a torn mix
// of two would be detectable.
func value(w, k int) []byte {
	line := fmt.Sprintf("writer %d key %d\n", w, k)
	return bytes.Repeat([]byte(line), 2000+97*k)
}

// checkValue accepts only a whole value from one writer in [0, writers).
func checkValue(t testing.TB, got []byte, k, writers int) {
	t.Helper()
	for w := range writers {
		if bytes.Equal(got, value(w, k)) {
			return
		}
	}
	t.Errorf("key %d: value matches no writer (%d bytes, starts %q)", k, len(got), got[:min(len(got), 30)])
}

func TestConcurrent(t *testing.T) {
	d := open(t)
	const writers, keys, rounds = 8, 20, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				for k := range keys {
					if err := d.Put(Key("k", strconv.Itoa(k)), value(w, k)); err != nil {
						t.Error(err)
						return
					}
					if got, ok := d.Get(Key("k", strconv.Itoa((k+w)%keys))); ok {
						checkValue(t, got, (k+w)%keys, writers)
					}
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		got, ok := d.Get(Key("k", strconv.Itoa(k)))
		if !ok {
			t.Fatalf("key %d missing", k)
		}
		checkValue(t, got, k, writers)
	}
	if n, _, err := d.Entries(); err != nil || n != keys {
		t.Errorf("Entries = %d, %v; want %d", n, err, keys)
	}
	assertNoTemps(t, d)
}

func assertNoTemps(t *testing.T, d *Dir) {
	t.Helper()
	err := d.walk(func(path string, _ fs.FileInfo, temp bool) error {
		if temp {
			t.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const (
	childEnv    = "XLATE_CACHE_TEST_CHILD" // cache dir for a child process
	childIDEnv  = "XLATE_CACHE_TEST_CHILD_ID"
	procKeys    = 30
	procRounds  = 10
	procWriters = 2
)

// TestMultiProcess runs the test binary twice as child processes that write
// the same keys at the same time, reading as they go, while the parent reads
// too; every hit, and every entry at the end, must be a whole value.
func TestMultiProcess(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		childMain(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	d := open(t)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for w := range procWriters {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMultiProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+d.Path(), childIDEnv+"="+strconv.Itoa(w))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			for k := range procKeys {
				if got, ok := d.Get(Key("p", strconv.Itoa(k))); ok {
					checkValue(t, got, k, procWriters)
				}
			}
		}
	})
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	close(done)
	wg.Wait()
	for k := range procKeys {
		got, ok := d.Get(Key("p", strconv.Itoa(k)))
		if !ok {
			t.Fatalf("key %d missing", k)
		}
		checkValue(t, got, k, procWriters)
	}
	assertNoTemps(t, d)
}

func childMain(t *testing.T, dir string) {
	w, err := strconv.Atoi(os.Getenv(childIDEnv))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for range procRounds {
		for k := range procKeys {
			if err := d.Put(Key("p", strconv.Itoa(k)), value(w, k)); err != nil {
				t.Fatal(err)
			}
			if got, ok := d.Get(Key("p", strconv.Itoa(procKeys-1-k))); ok {
				checkValue(t, got, procKeys-1-k, procWriters)
			}
		}
	}
}

func TestEntriesPruneClear(t *testing.T) {
	d := open(t)
	old := time.Now().Add(-48 * time.Hour)
	var oldKeys, newKeys []string
	for i := range 10 {
		k := Key("e", strconv.Itoa(i))
		if err := d.Put(k, []byte(strings.Repeat("x", i))); err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if err := os.Chtimes(d.file(k), old, old); err != nil {
				t.Fatal(err)
			}
			oldKeys = append(oldKeys, k)
		} else {
			newKeys = append(newKeys, k)
		}
	}
	// Leftovers of killed writers: one stale, one possibly in progress.
	shard := d.shard(newKeys[0])
	staleTmp := filepath.Join(shard, tempPrefix+"dead-1")
	freshTmp := filepath.Join(shard, tempPrefix+"live-1")
	for _, p := range []string{staleTmp, freshTmp} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(staleTmp, old, old); err != nil {
		t.Fatal(err)
	}
	// Files the cache did not create are left alone.
	foreign := filepath.Join(d.Path(), "README")
	if err := os.WriteFile(foreign, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}

	n, size, err := d.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var wantSize int64
	for i := range 10 {
		wantSize += int64(len(header(Key("e", strconv.Itoa(i)), make([]byte, i))) + i)
	}
	if n != 10 || size != wantSize {
		t.Errorf("Entries = %d, %d; want 10, %d", n, size, wantSize)
	}

	removed, err := d.Prune(24 * time.Hour)
	if err != nil || removed != len(oldKeys) {
		t.Errorf("Prune = %d, %v; want %d", removed, err, len(oldKeys))
	}
	for _, k := range oldKeys {
		if _, ok := d.Get(k); ok {
			t.Errorf("pruned entry %s still served", k[:8])
		}
	}
	for _, k := range newKeys {
		if _, ok := d.Get(k); !ok {
			t.Errorf("fresh entry %s pruned", k[:8])
		}
	}
	if _, err := os.Stat(staleTmp); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Prune left a stale temporary file")
	}
	if _, err := os.Stat(freshTmp); err != nil {
		t.Error("Prune removed a fresh temporary file")
	}
	// Prune(0) removes every entry but still spares a fresh temp file.
	if removed, err := d.Prune(0); err != nil || removed != len(newKeys) {
		t.Errorf("Prune(0) = %d, %v; want %d", removed, err, len(newKeys))
	}
	if _, err := os.Stat(freshTmp); err != nil {
		t.Error("Prune(0) removed a fresh temporary file")
	}

	if err := d.Put(Key("again"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := d.Clear(); err != nil {
		t.Fatal(err)
	}
	if n, size, err := d.Entries(); err != nil || n != 0 || size != 0 {
		t.Errorf("after Clear Entries = %d, %d, %v", n, size, err)
	}
	des, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != "README" {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("after Clear the directory holds %q, want only README", names)
	}
	// The cache still works after Clear.
	if err := d.Put(Key("after"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Get(Key("after")); !ok {
		t.Error("miss after Clear and Put")
	}
}

func Example() {
	dir, err := os.MkdirTemp("", "xlate-cache-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	var store Store
	store, err = Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	key := Key("translate", "prompt-v1", "gpt-4o", "en", "你好")
	if _, ok := store.Get(key); !ok {
		fmt.Println("miss")
		if err := store.Put(key, []byte("Hello")); err != nil {
			fmt.Println(err)
			return
		}
	}
	v, ok := store.Get(key)
	fmt.Println(string(v), ok)
	// Output:
	// miss
	// Hello true
}

// Prune removes the temporary files killed processes left, however young
// the entries it is asked to prune, but never a live writer's.
func TestPruneTempFiles(t *testing.T) {
	d := open(t)
	key := Key("kept")
	if err := d.Put(key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	files := []struct {
		path string
		age  time.Duration
		gone bool
	}{
		{filepath.Join(d.shard(key), tempPrefix+key[:16]+"-111"), 5 * time.Minute, true},
		{filepath.Join(d.shard(key), tempPrefix+key[:16]+"-222"), 20 * 24 * time.Hour, true},
		{filepath.Join(d.shard(key), tempPrefix+key[:16]+"-333"), 5 * time.Second, false},
		{filepath.Join(d.Path(), tempPrefix+"probe-444"), 5 * time.Minute, true},
		{filepath.Join(d.Path(), tempPrefix+"probe-555"), 0, false},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f.path, now.Add(-f.age), now.Add(-f.age)); err != nil {
			t.Fatal(err)
		}
	}
	if removed, err := d.Prune(30 * 24 * time.Hour); err != nil || removed != 0 {
		t.Errorf("Prune = %d, %v; want 0 entries", removed, err)
	}
	for _, f := range files {
		_, err := os.Stat(f.path)
		if gone := errors.Is(err, fs.ErrNotExist); gone != f.gone {
			t.Errorf("%s (%v old): removed %v, want %v", filepath.Base(f.path), f.age, gone, f.gone)
		}
	}
	if _, ok := d.Get(key); !ok {
		t.Error("Prune removed a young entry")
	}
}
