package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/pipeline"
)

// isTerminal reports whether w is a terminal (a character device), where a
// live progress line makes sense. NO_COLOR does not matter: the line has no
// colours.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress redraws one status line on stderr while a run goes on: files,
// requests, tokens, retries and an ETA. Disabled, it does nothing.
type progress struct {
	w       io.Writer
	enabled bool
	total   int
	client  *llm.OpenAI
	start   time.Time

	mu   sync.Mutex
	rep  pipeline.Report
	eta  etaEstimator
	done chan struct{}
	wg   sync.WaitGroup
}

func newProgress(w io.Writer, enabled bool, total int, client *llm.OpenAI) *progress {
	p := &progress{w: w, enabled: enabled, total: total, client: client, start: time.Now(), done: make(chan struct{})}
	if enabled {
		p.wg.Add(1)
		go p.loop()
	}
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.draw()
		}
	}
}

// update records the run's report so far (called by the pipeline).
func (p *progress) update(r pipeline.Report) {
	p.mu.Lock()
	p.rep = r
	p.mu.Unlock()
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.client.Stats()
	finished := p.rep.Done + p.rep.Failed
	eta := "?"
	if left := p.eta.observe(time.Now(), float64(finished), float64(p.total)); left >= 0 {
		eta = left.Round(time.Second).String()
	}
	out := max(st.CompletionTokens, st.Streamed) // streamed: counted live, before answers end
	fmt.Fprintf(p.w, "\r\033[Kxlate: %d/%d files (%d failed) · %d requests · %d retries · %dk tokens in, %dk out · ETA %s",
		finished, p.total, p.rep.Failed, st.Requests, st.Retries, st.PromptTokens/1000, out/1000, eta)
}

// etaEstimator estimates the time left. Articles differ in length, and
// files finish in bursts (short ones together, then none while a long one
// holds every slot), so the rate of the last seconds swings widely: the
// estimate uses the rate over the whole run so far, which steadies as the
// run goes, waits for a few files before saying anything, and the value
// shown moves only part of the way toward each new estimate (while counting
// down with the clock), so that one burst does not make it jump.
type etaEstimator struct {
	start time.Time
	last  time.Time
	shown time.Duration // -1 until there is an estimate
}

// etaMinDone is how many files must be finished before an ETA is shown,
// and etaSmoothing the time constant with which the shown ETA follows the
// estimate.
const (
	etaMinDone   = 3
	etaSmoothing = 20 * time.Second
)

// observe records that done of total files are finished at now and returns
// the estimated time left, or -1 while there is nothing to go on.
func (e *etaEstimator) observe(now time.Time, done, total float64) time.Duration {
	if e.start.IsZero() {
		e.start, e.last, e.shown = now, now, -1
	}
	if done >= total {
		return 0
	}
	elapsed := now.Sub(e.start)
	if done < min(etaMinDone, total) || elapsed <= 0 {
		return -1
	}
	est := time.Duration(float64(elapsed) * (total - done) / done)
	if e.shown < 0 {
		e.shown = est
	} else {
		// Count down with the clock, then close part of the gap: about
		// 5% of it per second (a time constant of etaSmoothing).
		dt := now.Sub(e.last)
		e.shown = max(0, e.shown-dt)
		e.shown += time.Duration(float64(est-e.shown) * (1 - math.Exp(-dt.Seconds()/etaSmoothing.Seconds())))
	}
	e.last = now
	return e.shown
}

// wrap makes errorf clear the status line before printing.
func (p *progress) wrap(errorf func(string, ...any)) func(string, ...any) {
	if !p.enabled {
		return errorf
	}
	return func(format string, args ...any) {
		p.mu.Lock()
		fmt.Fprint(p.w, "\r\033[K")
		p.mu.Unlock()
		errorf(format, args...)
	}
}

// stop ends the display and clears its line.
func (p *progress) stop() {
	if !p.enabled {
		return
	}
	close(p.done)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\033[K")
}
