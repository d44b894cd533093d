package batch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/xlate/xlate/chunk"
	"github.com/xlate/xlate/llm"
)

// jobWriter streams a round's requests into the batch input files and the
// manifest as they are planned, so that preparing an archive holds only the
// requests' ids in memory. It writes temporary files and puts them in place
// in commit; abort removes them.
type jobWriter struct {
	dir, model  string
	maxRequests int
	maxBytes    int64

	manifest *os.File
	mw       *bufio.Writer

	part      *os.File
	pw        *bufio.Writer
	partBytes int64
	partReqs  int
	partToks  int64
	parts     []*Part

	first map[string]int   // custom_id -> the first file that needs it
	more  map[string][]int // custom_id -> the other files that need it

	translations, summaries int
	// Token estimates: prompts counted (o200k), answers expected.
	inTokens, outTokens int64
	counter             chunk.Counter
	systems             map[string]int // system prompt -> tokens
}

// summaryAnswer is the expected size of a summary, as the dry run expects
// it.
const summaryAnswer = 90

// count adds one request's tokens: prompt and answer as the planner
// worked them out, or else (prompt 0) counted here, for a summary.
func (w *jobWriter) count(system, user string, prompt, answer int) {
	if prompt == 0 {
		n, ok := w.systems[system]
		if !ok {
			n = w.counter.Count(system)
			w.systems[system] = n
		}
		prompt, answer = n+w.counter.Count(user), summaryAnswer
	}
	w.inTokens += int64(prompt)
	w.outTokens += int64(answer)
}

// Chat format overhead, as OpenAI counts a prompt: 3 tokens per message
// and 3 that prime the answer.
const (
	tokensPerMessage = 3
	tokensPerPrompt  = 3
)

// promptTokens counts a request's prompt as OpenAI counts it against the
// enqueued token limit: its messages (o200k) and the chat format.
func (w *jobWriter) promptTokens(system, user string) int {
	n, ok := w.systems[system]
	if !ok {
		n = w.counter.Count(system)
		w.systems[system] = n
	}
	return n + w.counter.Count(user) + 2*tokensPerMessage + tokensPerPrompt
}

func newJobWriter(dir, model string, maxRequests int, maxBytes int64) (*jobWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, "."+manifestFile+".tmp"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &jobWriter{dir: dir, model: model, maxRequests: maxRequests, maxBytes: maxBytes,
		manifest: f, mw: bufio.NewWriter(f), first: map[string]int{}, more: map[string][]int{},
		counter: chunk.Default(), systems: map[string]int{}}, nil
}

func tempName(name string) string { return "." + name + ".tmp" }

// add records that file needs the request e (named id). A request already
// added only gains the file.
func (w *jobWriter) add(id string, file int, e *entry) error {
	if f, ok := w.first[id]; ok {
		if f != file && !slices.Contains(w.more[id], file) {
			w.more[id] = append(w.more[id], file)
		}
		return nil
	}
	w.first[id] = file
	e.CustomID, e.Files = id, []int{file}
	var system, user, purpose string
	if e.Translate != nil {
		system, user, purpose = e.Translate.System, e.Translate.User, "translate"
		w.count(system, user, e.Translate.Tokens, e.Translate.Answer)
		w.translations++
	} else {
		system, user, purpose = e.Summary.System, e.Summary.User, "summary"
		w.count(system, user, 0, 0)
		w.summaries++
	}
	body := llm.ChatRequest(w.model, llm.Request{Purpose: purpose, Messages: []llm.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}})
	data, err := marshalLine(line{CustomID: id, Method: "POST", URL: Endpoint, Body: body})
	if err != nil {
		return err
	}
	if int64(len(data)) > w.maxBytes {
		return fmt.Errorf("a request is %d bytes, over --max-bytes %d", len(data), w.maxBytes)
	}
	if w.part != nil && (w.partReqs >= w.maxRequests || w.partBytes+int64(len(data)) > w.maxBytes) {
		if err := w.closePart(); err != nil {
			return err
		}
	}
	if w.part == nil {
		name := fmt.Sprintf("requests-%03d.jsonl", len(w.parts)+1)
		f, err := os.OpenFile(filepath.Join(w.dir, tempName(name)), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		w.part, w.pw = f, bufio.NewWriter(f)
		w.parts = append(w.parts, &Part{Name: name})
	}
	if _, err := w.pw.Write(data); err != nil {
		return err
	}
	w.partBytes += int64(len(data))
	w.partReqs++
	w.partToks += int64(w.promptTokens(system, user))
	m, err := marshalLine(e.slim())
	if err != nil {
		return err
	}
	_, err = w.mw.Write(m)
	return err
}

// closePart finishes the batch file being written.
func (w *jobWriter) closePart() error {
	p := w.parts[len(w.parts)-1]
	p.Requests, p.Bytes, p.Tokens = w.partReqs, w.partBytes, w.partToks
	err := w.pw.Flush()
	if cerr := w.part.Close(); err == nil {
		err = cerr
	}
	w.part, w.pw, w.partReqs, w.partBytes, w.partToks = nil, nil, 0, 0, 0
	return err
}

// commit finishes the files, removes the batch files of an earlier
// unsubmitted prepare and puts the new ones in place. The manifest gets,
// after the requests, one line per request that more files need: its
// custom_id and those files.
func (w *jobWriter) commit() ([]*Part, error) {
	if w.part != nil {
		if err := w.closePart(); err != nil {
			return nil, err
		}
	}
	for id, files := range w.more {
		m, err := marshalLine(entry{CustomID: id, Files: files})
		if err != nil {
			return nil, err
		}
		if _, err := w.mw.Write(m); err != nil {
			return nil, err
		}
	}
	err := w.mw.Flush()
	if cerr := w.manifest.Close(); err == nil {
		err = cerr
	}
	w.manifest = nil
	if err != nil {
		return nil, err
	}
	old, err := filepath.Glob(filepath.Join(w.dir, "requests-*.jsonl"))
	if err != nil {
		return nil, err
	}
	for _, n := range old {
		if err := os.Remove(n); err != nil {
			return nil, err
		}
	}
	for _, p := range w.parts {
		if err := os.Rename(filepath.Join(w.dir, tempName(p.Name)), filepath.Join(w.dir, p.Name)); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(filepath.Join(w.dir, tempName(manifestFile)), filepath.Join(w.dir, manifestFile)); err != nil {
		return nil, err
	}
	return w.parts, nil
}

// abort removes the temporary files.
func (w *jobWriter) abort() {
	if w.part != nil {
		w.part.Close()
	}
	if w.manifest != nil {
		w.manifest.Close()
	}
	for _, p := range w.parts {
		os.Remove(filepath.Join(w.dir, tempName(p.Name)))
	}
	os.Remove(filepath.Join(w.dir, tempName(manifestFile)))
}

// manifestIndex finds manifest entries by custom_id without holding them
// in memory: it keeps each line's offset, and the extra files.
type manifestIndex struct {
	f    *os.File
	at   map[string]int64
	more map[string][]int
}

// openManifest indexes the job's manifest. Close it when done.
func (j *Job) openManifest() (*manifestIndex, error) {
	path := filepath.Join(j.dir, manifestFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	m := &manifestIndex{f: f, at: map[string]int64{}, more: map[string][]int{}}
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	for n := 1; ; n++ {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			var e struct {
				CustomID  string          `json:"custom_id"`
				Files     []int           `json:"files"`
				Translate json.RawMessage `json:"translate"`
				Summary   json.RawMessage `json:"summary"`
			}
			if jerr := json.Unmarshal(b, &e); jerr != nil || e.CustomID == "" {
				f.Close()
				return nil, fmt.Errorf("%s:%d: not a manifest line", path, n)
			}
			for _, i := range e.Files {
				if i < 0 || i >= len(j.Files) {
					f.Close()
					return nil, fmt.Errorf("%s:%d: file %d is not in the job", path, n, i)
				}
			}
			if e.Translate == nil && e.Summary == nil {
				m.more[e.CustomID] = append(m.more[e.CustomID], e.Files...)
			} else {
				m.at[e.CustomID] = off
			}
			off += int64(len(b))
		}
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// get returns the entry of a custom_id.
func (m *manifestIndex) get(id string) (*entry, error) {
	off, ok := m.at[id]
	if !ok {
		return nil, nil
	}
	b, err := bufio.NewReader(io.NewSectionReader(m.f, off, math.MaxInt64-off)).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("manifest entry %s: %w", id, err)
	}
	e.fill()
	e.Files = append(e.Files, m.more[id]...)
	return &e, nil
}

func (m *manifestIndex) Close() error { return m.f.Close() }
