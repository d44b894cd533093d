package memory

import (
	"bufio"
	"fmt"
	"io/fs"
	"math/rand/v2"
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

// helperEnv names the directory the helper process pins into; when it is
// set, the test binary runs pinLoop instead of the tests.
const helperEnv = "XLATE_MEMORY_TEST_PIN_LOOP_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		pinLoop(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const loopKeys = 16

func loopSource(k int) string { return fmt.Sprintf("第%d句。", k) }

// loopText is version v of a translation: large enough (up to ~70 KB) that
// a kill often lands in the middle of writing it.
func loopText(v int) string {
	return fmt.Sprintf("v%d ", v) + strings.Repeat("translation ", (v%7)*1000)
}

// pinLoop pins and records forever, printing "pin V" after each Pin and
// "rec V" after each SetRecord that returned nil, until it is killed.
func pinLoop(dir string) {
	m, err := Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for v := 1; ; v++ {
		if err := m.Pin(Entry{Lang: "English", Source: loopSource(v % loopKeys), Text: loopText(v), Origin: "loop"}); err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, "pin", v)
		out.Flush()
		if v%3 == 0 {
			r := sampleRecord("/out/loop.md")
			r.Sum = strconv.Itoa(v)
			r.Input = []byte(loopText(v))
			if err := m.SetRecord(r); err != nil {
				fmt.Fprintln(out, "error", err)
				out.Flush()
				os.Exit(1)
			}
			fmt.Fprintln(out, "rec", v)
			out.Flush()
		}
		if v%5 == 0 {
			m.Unpin("English", loopSource((v+1)%loopKeys)) // pinned again by the next iteration
		}
	}
}

// TestPinSurvivesKill runs pinLoop in a child process, kills it with
// SIGKILL at a random moment, and checks that every file in the memory
// parses (nothing torn) and that every Pin and SetRecord the child saw
// succeed is on disk (with that version or a later one).
func TestPinSurvivesKill(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL on Windows")
	}
	for round := 0; round < 6; round++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read the child's reports; kill it after a random number of them
		// plus a random delay, so the kill lands anywhere in a write.
		lastPin := map[int]int{} // key -> last version reported pinned
		lastRec := 0
		var once sync.Once
		kill := func() {
			once.Do(func() {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Error(err)
				}
			})
		}
		killAfter := 20 + rand.IntN(60)
		exited := make(chan struct{})
		watch := func() {
			// Kill as soon as a temporary file shows up: in the middle of
			// a write.
			go func() {
				for {
					select {
					case <-exited:
						return
					default:
					}
					if hasTemp(dir) {
						kill()
						return
					}
				}
			}()
		}
		if round%2 == 1 {
			// Odd rounds aim at the middle of a write, once the child has
			// written a few times (after 300 reports if that never comes).
			killAfter = 300
		}
		watchAt := 10 + rand.IntN(20)
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		n := 0
		deadline := time.After(60 * time.Second)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				f := strings.Fields(line)
				if len(f) < 2 || f[0] == "error" {
					t.Fatalf("child: %s", line)
				}
				v, _ := strconv.Atoi(f[1])
				switch f[0] {
				case "pin":
					lastPin[v%loopKeys] = v
					if v%5 == 0 {
						delete(lastPin, (v+1)%loopKeys) // may be unpinned next
					}
				case "rec":
					lastRec = v
				}
				n++
				if round%2 == 1 && n == watchAt {
					watch()
				}
				if n == killAfter {
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					kill()
				}
			case <-deadline:
				kill()
				t.Fatal("child did not report in time")
			}
		}
		err = cmd.Wait()
		close(exited)
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: child ended with %v, want killed", round, err)
		}

		// No torn file anywhere.
		files, temps := 0, 0
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasPrefix(d.Name(), tmpPref) {
				temps++ // the kill landed in a write
				return nil
			}
			files++
			data, err := os.ReadFile(p)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				return nil
			}
			switch {
			case strings.HasSuffix(p, pinExt):
				if _, ok := decodePin(d.Name(), data); !ok {
					t.Errorf("round %d: torn or bad pin file %s: %.80q", round, p, data)
				}
			case strings.HasSuffix(p, recordExt):
				if _, ok := decodeRecord(data); !ok {
					t.Errorf("round %d: torn or bad record file %s", round, p)
				}
			case strings.HasSuffix(p, sumsExt):
				if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) > 4 || lines[0] == "" {
					t.Errorf("round %d: torn or bad sums file %s: %q", round, p, data)
				}
			case d.Name() == genFile:
				if len(strings.TrimSpace(string(data))) < 16 {
					t.Errorf("round %d: bad generation file: %q", round, data)
				}
			default:
				t.Errorf("round %d: unexpected file %s", round, p)
			}
			return nil
		})
		if files == 0 {
			t.Fatalf("round %d: the child wrote nothing", round)
		}

		// Every write reported done is there, at that version or later.
		m := open(t, dir)
		pins, err := m.Pins()
		if err != nil {
			t.Fatalf("round %d: Pins: %v", round, err)
		}
		version := map[string]int{}
		for _, p := range pins {
			v, _ := strconv.Atoi(strings.TrimPrefix(strings.Fields(p.Text)[0], "v"))
			if p.Text != loopText(v) {
				t.Errorf("round %d: pin %q has a text that is no version", round, p.Source)
			}
			version[p.Source] = v
		}
		for k, v := range lastPin {
			if got, ok := version[loopSource(k)]; !ok || got < v {
				t.Errorf("round %d: %s: pinned version %d was reported done, disk has %d (present %v)", round, loopSource(k), v, got, ok)
			}
		}
		if lastRec > 0 {
			r, ok, err := m.Record("/out/loop.md")
			if err != nil || !ok {
				t.Errorf("round %d: record reported done is missing (%v, %v)", round, ok, err)
			} else if v, _ := strconv.Atoi(r.Sum); v < lastRec || string(r.Input) != loopText(v) {
				t.Errorf("round %d: record version %d, want >= %d", round, v, lastRec)
			}
		}
		if m.Generation() == "" {
			t.Errorf("round %d: no generation after pins", round)
		}
		t.Logf("round %d: killed after %d reports, %d pins on disk, %d temporary files left", round, n, len(pins), temps)
	}
}

// hasTemp reports a temporary file anywhere in dir.
func hasTemp(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tmpPref) {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// TestReadersNeverSeeTornFiles rewrites one pin and one record with large
// values while other goroutines read the files directly: every read must
// find a whole file (old or new), never a partly written one.
func TestReadersNeverSeeTornFiles(t *testing.T) {
	m := open(t, t.TempDir())
	const src = "长句子。"
	pdir, pname := m.pinPath("English", src)
	pfile := filepath.Join(pdir, pname)
	rdir, rname := m.recordPath("/out/torn.md")
	rfile := filepath.Join(rdir, rname)
	stop := make(chan struct{})
	done := make(chan int)
	for _, file := range []string{pfile, rfile} {
		go func(file string) {
			reads := 0
			for {
				select {
				case <-stop:
					done <- reads
					return
				default:
				}
				data, err := os.ReadFile(file)
				if err != nil {
					continue // not written yet
				}
				reads++
				if file == pfile {
					if _, ok := decodePin(pname, data); !ok {
						t.Errorf("read a torn pin file (%d bytes)", len(data))
					}
				} else if _, ok := decodeRecord(data); !ok {
					t.Errorf("read a torn record file (%d bytes)", len(data))
				}
			}
		}(file)
	}
	for v := 0; v < 20 && !t.Failed(); v++ {
		text := strings.Repeat(fmt.Sprintf("version %d ", v), 10000) // ~100 KB
		if err := m.Pin(Entry{Lang: "English", Source: src, Text: text}); err != nil {
			t.Fatal(err)
		}
		r := sampleRecord("/out/torn.md")
		r.Input = []byte(text)
		if err := m.SetRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if reads := <-done + <-done; reads == 0 {
		t.Error("the readers read nothing")
	}
}
