package pipeline

import (
	"bytes"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/xlate/xlate/cache"
)

// outputFormat versions the records Pipeline.Outputs holds. Bump it when
// parsing or rendering changes what an unchanged input turns into; the
// build stamp in the key (see build) covers released versions on its own.
const outputFormat = "o2"

// build identifies the running binary: its module version and VCS
// revision, when the toolchain stamped them. Output records carry it in
// their key, so an upgraded xlate never serves outputs rendered by an older
// one (the per-segment cache, which holds what costs money, survives).
var build = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	id := info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.modified":
			id += " " + s.Value
		}
	}
	return id
})

// outputKey is the key of the output record for an input: its bytes and
// every setting that shapes the output.
func (p *Pipeline) outputKey(data []byte) string {
	sum := "none"
	if p.Summarizer != nil {
		sum = p.Summarizer.Fingerprint()
	}
	return cache.Key("output", outputFormat, build(), p.Translator.Fingerprint(), sum,
		p.Layout.String(), p.Model, p.Syntax.String(), p.HugoLang, string(data))
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
