package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/memory"
)

// outputFormat versions the records Pipeline.Outputs holds. Bump it when
// parsing or rendering changes what an unchanged input turns into. The
// build stamp in the key (see build) covers every other build on its own.
const outputFormat = "o3"

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
// "<source tokens>\n<n>\n<n bytes: the output's memory record, JSON>
// <markdown>": the record (without path, input and history) lets a file
// output served whole be recorded without parsing the article.
func (p *Pipeline) cachedOutput(key string) (Result, bool) {
	if p.Outputs == nil {
		return Result{}, false
	}
	val, ok := p.Outputs.Get(key)
	if !ok {
		return Result{}, false
	}
	var nums [2]int
	for i := range nums {
		head, rest, ok := bytes.Cut(val, []byte{'\n'})
		n, err := strconv.Atoi(string(head))
		if !ok || err != nil || n < 0 {
			return Result{}, false
		}
		nums[i], val = n, rest
	}
	res := Result{Cached: true, SourceTokens: nums[0]}
	if nums[1] > len(val) {
		return Result{}, false
	}
	if nums[1] > 0 {
		res.tmpl = new(memory.Record)
		if json.Unmarshal(val[:nums[1]], res.tmpl) != nil {
			return Result{}, false
		}
	}
	res.Markdown = val[nums[1]:]
	return res, true
}

// rememberOutput records res under key. A failed write only costs the next
// run a slower path, so it is not an error.
func (p *Pipeline) rememberOutput(key string, res Result) {
	if p.Outputs == nil {
		return
	}
	var tmpl []byte
	if res.tmpl != nil {
		var err error
		if tmpl, err = json.Marshal(res.tmpl); err != nil {
			return
		}
	}
	val := make([]byte, 0, len(res.Markdown)+len(tmpl)+24)
	val = strconv.AppendInt(val, int64(res.SourceTokens), 10)
	val = append(val, '\n')
	val = strconv.AppendInt(val, int64(len(tmpl)), 10)
	val = append(val, '\n')
	val = append(val, tmpl...)
	val = append(val, res.Markdown...)
	_ = p.Outputs.Put(key, val)
}
