package cli

import (
	"fmt"
	"io"
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
	if finished > 0 {
		el := time.Since(p.start)
		eta = (el * time.Duration(p.total-finished) / time.Duration(finished)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[Kxlate: %d/%d files (%d failed) · %d requests · %d retries · %dk tokens in, %dk out · ETA %s",
		finished, p.total, p.rep.Failed, st.Requests, st.Retries, st.PromptTokens/1000, st.CompletionTokens/1000, eta)
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
