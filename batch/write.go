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

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/llm"
	"github.com/xlate/xlate/translate"
)

// Writer streams a round's requests into the batch input files and the
// manifest as they are planned, so that preparing an archive holds only the
// requests' ids in memory. It writes temporary files and puts them in place
// in Commit; Abort removes them.
type Writer struct {
	job         *Job
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
	committed bool

	first map[string]int   // custom_id -> the first file that needs it
	more  map[string][]int // custom_id -> the other files that need it

	translations, summaries int
	// Token estimates: prompts counted (o200k), answers expected.
	inTokens, outTokens int64
	counter             func(string) int
	systems             map[string]int // system prompt -> tokens
}

// summaryAnswer is the expected size of a summary, as the dry run expects
// it.
const summaryAnswer = 90

// count adds one request's tokens: prompt and answer as the planner
// worked them out, or else (prompt 0) counted here, for a summary.
func (w *Writer) count(system, user string, prompt, answer int) {
	if prompt == 0 {
		n, ok := w.systems[system]
		if !ok {
			n = w.counter(system)
			w.systems[system] = n
		}
		prompt, answer = n+w.counter(user), summaryAnswer
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
func (w *Writer) promptTokens(system, user string) int {
	n, ok := w.systems[system]
	if !ok {
		n = w.counter(system)
		w.systems[system] = n
	}
	return n + w.counter(user) + 2*tokensPerMessage + tokensPerPrompt
}

// NewWriter starts writing the round's requests into the job's directory,
// at most maxRequests requests and maxBytes bytes in one batch input file
// (0: DefaultMaxRequests, DefaultMaxBytes). count counts a text's tokens
// (o200k), for the estimates and the parts' prompt tokens. Finish with
// Commit; Abort (deferred) removes what an unfinished one wrote.
func (j *Job) NewWriter(maxRequests int, maxBytes int64, count func(string) int) (*Writer, error) {
	if maxRequests <= 0 {
		maxRequests = DefaultMaxRequests
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	f, err := os.OpenFile(filepath.Join(j.dir, "."+manifestFile+".tmp"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &Writer{job: j, dir: j.dir, model: j.Settings.Model, maxRequests: maxRequests, maxBytes: maxBytes,
		manifest: f, mw: bufio.NewWriter(f), first: map[string]int{}, more: map[string][]int{},
		counter: count, systems: map[string]int{}}, nil
}

// AddTranslation records that the job's file (an index into Job.Files)
// needs the translation request r.
func (w *Writer) AddTranslation(file int, r translate.Request) error {
	return w.add(translateID(w.model, r), file, &Entry{Translate: &r})
}

// AddSummary records that the job's file needs the summary request of
// these messages.
func (w *Writer) AddSummary(file int, system, user string) error {
	return w.add(customID(w.model, system, user), file, &Entry{Summary: &SummaryRequest{System: system, User: user}})
}

// Planned is what a Writer was given: its distinct requests and their
// tokens, prompts counted (o200k) and answers expected.
type Planned struct {
	Translations, Summaries   int
	InputTokens, OutputTokens int64
}

// Planned returns what was added so far.
func (w *Writer) Planned() Planned {
	return Planned{Translations: w.translations, Summaries: w.summaries, InputTokens: w.inTokens, OutputTokens: w.outTokens}
}

// Commit finishes the round: the job's finished earlier round moves to
// rounds/N/, the new batch files and manifest go in place, and job.json
// is saved with ready, the files complete from the cache.
func (w *Writer) Commit(ready int) error {
	j := w.job
	j.Translations, j.Summaries, j.Ready = w.translations, w.summaries, ready
	if j.previous != nil && !j.previous.archived {
		// The new round's files replace the finished one's: move it away
		// now that the new one is planned. Interrupted after this,
		// prepare finds it in rounds/N/.
		if err := j.previous.archive(); err != nil {
			return err
		}
	}
	parts, err := w.commit()
	if err != nil {
		return err
	}
	w.committed = true
	j.Parts = parts
	return j.save()
}

// Abort removes the temporary files of a Writer not committed.
func (w *Writer) Abort() {
	if !w.committed {
		w.abort()
	}
}

func tempName(name string) string { return "." + name + ".tmp" }

// add records that file needs the request e (named id). A request already
// added only gains the file.
func (w *Writer) add(id string, file int, e *Entry) error {
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
	body, err := llm.ChatBody(w.model, llm.Request{Purpose: purpose, Messages: []llm.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}})
	if err != nil {
		return err
	}
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
func (w *Writer) closePart() error {
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
func (w *Writer) commit() ([]*Part, error) {
	if w.part != nil {
		if err := w.closePart(); err != nil {
			return nil, err
		}
	}
	for id, files := range w.more {
		m, err := marshalLine(Entry{CustomID: id, Files: files})
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
func (w *Writer) abort() {
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
func (m *manifestIndex) get(id string) (*Entry, error) {
	off, ok := m.at[id]
	if !ok {
		return nil, nil
	}
	b, err := bufio.NewReader(io.NewSectionReader(m.f, off, math.MaxInt64-off)).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("manifest entry %s: %w", id, err)
	}
	e.fill()
	e.Files = append(e.Files, m.more[id]...)
	return &e, nil
}

func (m *manifestIndex) Close() error { return m.f.Close() }

// customID names a request by its content, so that the same request gets
// the same id in every round and identical requests are one.
func customID(model string, parts ...string) string {
	return "xlate-" + cache.Key(append([]string{model}, parts...)...)[:32]
}

// translateID is the custom_id of a translation request: its messages and
// the segments its pieces come from, which the messages alone do not tell
// apart (two paragraphs that differ only in a link's URL read the same
// once URLs are masked).
func translateID(model string, r translate.Request) string {
	parts := []string{r.System, r.User}
	for _, p := range r.Pieces {
		parts = append(parts, p.Source)
	}
	return customID(model, parts...)
}

// line is one request of a batch input file.
type line struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// marshalLine encodes v as one JSON line, HTML characters unescaped.
func marshalLine(v any) ([]byte, error) {
	var b jsonBuffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b, nil
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}
