package main_test

// Slow and cut streams: --timeout never cuts a steady stream for its
// length, and a stream cut half way keeps every segment it closed, asking
// only for the rest.

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func TestStreamsSlowAndCut(t *testing.T) {
	src := filepath.Join("testdata", "corpus", "华盛顿内幕_马斯克极其厌恶的奥尔特曼_如何赢得特朗普支持.md")
	ref := runXlate(t, env(t, fakeopenai.New(t, fakeopenai.Options{}), t.TempDir()), nil, "--no-summary", src)
	if ref.code != 0 {
		t.Fatalf("reference: exit %d: %s", ref.code, ref.stderr)
	}

	t.Run("steady stream longer than --timeout", func(t *testing.T) {
		srv := fakeopenai.New(t, fakeopenai.Options{TokensPerSecond: 800})
		start := time.Now()
		r := runXlate(t, env(t, srv, t.TempDir()), nil, "--no-summary", "--timeout", "300ms", "--retry-backoff", "1ms", src)
		if d := time.Since(start); d < time.Second {
			t.Fatalf("the run took %v: its streams were not longer than --timeout, the case proves nothing", d)
		}
		if r.code != 0 || r.stdout != ref.stdout {
			t.Fatalf("exit %d, same as the reference: %v\n%s", r.code, r.stdout == ref.stdout, r.stderr)
		}
		if sent, again := reasked(srv); again > 0 {
			t.Errorf("%d of %d segments sent again: a steady stream was cut", again, sent)
		}
	})

	t.Run("stream cut half way", func(t *testing.T) {
		// The first translation request of several segments stalls half way.
		var cutN atomic.Int64
		cutFirstLong := func(n int, r *fakeopenai.Recorded) fakeopenai.Fault {
			if r.Kind == fakeopenai.KindTranslate && r.Segments >= 6 && cutN.CompareAndSwap(0, int64(n)) {
				return fakeopenai.Fault{Stall: true}
			}
			return fakeopenai.Fault{}
		}
		srv := fakeopenai.New(t, fakeopenai.Options{Fault: cutFirstLong})
		r := runXlate(t, env(t, srv, t.TempDir()), nil, "--no-summary", "--stall-timeout", "300ms", "--retry-backoff", "1ms", src)
		if r.code != 0 || r.stdout != ref.stdout {
			t.Fatalf("exit %d, same as the reference: %v\n%s", r.code, r.stdout == ref.stdout, r.stderr)
		}
		reqs := srv.Requests()
		var first *fakeopenai.Recorded
		sent := map[string]int{}
		for i := range reqs {
			if reqs[i].Kind != fakeopenai.KindTranslate {
				continue
			}
			if int64(reqs[i].N) == cutN.Load() {
				first = &reqs[i]
			}
			for _, sg := range fakeopenai.ParseSegments(reqs[i].User()) {
				sent[sg.Text]++
			}
		}
		if first == nil || first.Segments < 4 {
			t.Fatalf("the cut request held too few segments to tell: %+v", first)
		}
		segs := fakeopenai.ParseSegments(first.User())
		// The first half of the answer was streamed before the cut: its
		// first segment was closed and must not be asked for again.
		if n := sent[segs[0].Text]; n != 1 {
			t.Errorf("segment 1 of the cut answer was sent %d times, want once", n)
		}
		var again int
		for _, sg := range segs {
			again += sent[sg.Text] - 1
		}
		if again == 0 || again >= len(segs) {
			t.Errorf("%d of the cut request's %d segments asked again, want only those after the cut", again, len(segs))
		}
	})
}

// TestWeChatCodeStaysCode: WeChat's code block, paragraphs in a <pre>
// split by <br>, comes out as a fenced code block and never reaches the
// model; inline code comes back verbatim, Chinese in it included.
func TestWeChatCodeStaysCode(t *testing.T) {
	srv := fakeopenai.New(t, fakeopenai.Options{APIKey: testKey})
	in := []byte("---\ntitle: 代码示例\n---\n<p>运行下面的代码，然后打开 <code>设置</code> 菜单：</p>" +
		"<pre><p>library(ggplot2)<br># 画一个箱线图<br>p &lt;- ggplot(df, aes(x, y))</p><p>print(p)</p></pre><p>完成。</p>")
	r := runXlate(t, env(t, srv, t.TempDir()), in, "--no-summary")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "```\nlibrary(ggplot2)\n# 画一个箱线图\np <- ggplot(df, aes(x, y))\nprint(p)\n```") {
		t.Errorf("no code block in the output:\n%s", r.stdout)
	}
	if strings.Count(r.stdout, "`设置`") != 2 {
		t.Errorf("inline code not kept verbatim in the original and its translation:\n%s", r.stdout)
	}
	for _, rq := range srv.Requests() {
		if u := rq.User(); strings.Contains(u, "ggplot") || strings.Contains(u, "设置") {
			t.Errorf("code reached the model: %.200q", u)
		}
	}
}
