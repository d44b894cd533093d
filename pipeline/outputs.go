package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/xlate/xlate/cache"
)

// outputFormat versions the records Pipeline.Outputs holds. Bump it when
// parsing or rendering changes what an unchanged input turns into. The
// build stamp in the key (see build) covers every other build on its own.
const outputFormat = "o2"

// build identifies the running binary, so that an upgraded or rebuilt
// xlate never serves outputs rendered by another one (the per-segment
// cache, which holds what costs money, survives): a released version, or a
// clean VCS revision, when the toolchain stamped them; otherwise (a build
// with -buildvcs=false, a modified work tree) a hash of the executable's
// bytes, read once per run and only when a record is looked up.
var build = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	id, clean := "", false
	if ok {
		id = info.Main.Version
		clean = id != "" && id != "(devel)" && !strings.Contains(id, "+dirty")
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			id += " " + rev + " " + modified
			clean = modified == "false"
		}
	}
	if clean {
		return id
	}
	return id + " " + executableSum()
})

// executableSum is a hash of the running executable, or "" if it cannot be
// read (then outputFormat and the version are all the key has).
func executableSum() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// outputKey is the key of the output record for an input: its bytes and
// every setting that shapes the output.
func (p *Pipeline) outputKey(data []byte) string {
	sum := "none"
	if p.Summarizer != nil {
		sum = p.Summarizer.Fingerprint()
	}
	pins := ""
	if p.Memory != nil {
		pins = p.Memory.Generation() // a new pin may change any output
	}
	return cache.Key("output", outputFormat, build(), p.Translator.Fingerprint(), sum,
		p.Layout.String(), p.Model, p.Syntax.String(), p.HugoLang, pins, string(data))
}

// cachedOutput returns the output recorded for key, if any. A record is
// "<source tokens>\n<markdown>".
func (p *Pipeline) cachedOutput(key string) (Result, bool) {
	if p.Outputs == nil {
		return Result{}, false
	}
	val, ok := p.Outputs.Get(key)
	if !ok {
		return Result{}, false
	}
	head, md, ok := bytes.Cut(val, []byte{'\n'})
	if !ok {
		return Result{}, false
	}
	n, err := strconv.Atoi(string(head))
	if err != nil || n < 0 {
		return Result{}, false
	}
	return Result{Markdown: md, Cached: true, SourceTokens: n}, true
}

// rememberOutput records res under key. A failed write only costs the next
// run a slower path, so it is not an error.
func (p *Pipeline) rememberOutput(key string, res Result) {
	if p.Outputs == nil {
		return
	}
	val := make([]byte, 0, len(res.Markdown)+12)
	val = strconv.AppendInt(val, int64(res.SourceTokens), 10)
	val = append(val, '\n')
	val = append(val, res.Markdown...)
	_ = p.Outputs.Put(key, val)
}
