// Package batch keeps the state of xlate's batch jobs, which run
// xlate's requests through batch engines rather than one by one: the
// OpenAI Batch API (half the price, answered within 24 hours on the
// provider's fleet) and vLLM's run_batch (the same JSONL format, on the
// user's own GPUs). It writes their input files, feeds them through the
// provider's files and batches API (llm.BatchAPI) and reads their results
// back; the engines do the scheduling. What the requests are and what
// their answers make is the pipeline's: pipeline.PrepareBatch plans them,
// pipeline.CollectBatch judges the answers and writes the outputs.
//
// # Job directory
//
// A job lives in one directory:
//
//	job.json            settings, input files, batch files and their state
//	manifest.jsonl      one line per request: its custom_id, what it
//	                    translates or summarises, and for which files
//	requests-NNN.jsonl  the batch input files, in OpenAI's batch format
//	results/            output and error files (downloaded, or --from)
//	rounds/N/           an earlier round, kept when prepare starts a new one
//
// The steps are prepare (plan the requests the cache cannot answer:
// NewRound, then a Writer), Submit (upload and create the batches), Status
// and collect (Collect reads every answer, which the pipeline judges
// exactly as the online path does, caching the good ones, before it writes
// every output that is complete). Each step saves its progress as it goes
// (job.json is replaced atomically), so it can be interrupted and run
// again; what failed or is missing is simply planned again by the next
// prepare.
//
// # Rounds
//
// A summary is made from what the translation requests produce: a short
// article's summary rides on its one translation request, but a long
// article's summary is made from the notes its chunks' requests wrote. So
// a long article takes two rounds: the translations, then one small
// summary request. Each prepare plans whatever the cache makes possible next,
// so running prepare, submit and collect again after a round plans the
// summaries (and any request that failed), and nothing else.
package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xlate/xlate/cache"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/translate"
)

// Limits of one batch input file: OpenAI's, 50,000 requests and 200 MB
// (decimal: 200,000,000 bytes).
const (
	DefaultMaxRequests = 50_000
	DefaultMaxBytes    = 200_000_000
)

// Endpoint is the URL of every request line.
const Endpoint = "/v1/chat/completions"

const (
	jobFile      = "job.json"
	manifestFile = "manifest.jsonl"
	resultsDir   = "results"
	formatV      = 1
)

// Settings are the choices that shape the outputs, kept in the job so that
// every step of it uses the same (pipeline.JobSettings reads them).
type Settings struct {
	Model    string            `json:"model"`
	Lang     string            `json:"lang"`
	Layout   string            `json:"layout"`
	Summary  bool              `json:"summary"`
	Budget   int               `json:"budget,omitempty"`
	Glossary glossary.Glossary `json:"glossary,omitempty"`
	Suffix   string            `json:"suffix,omitempty"`
	Format   string            `json:"format,omitempty"` // body syntax (article.ParseSyntax); "" is auto
}

// File is one input of the job.
type File struct {
	In  string `json:"in"`            // absolute path
	Out string `json:"out"`           // output path, relative to the output directory
	Sum string `json:"sum,omitempty"` // its content when prepared (ContentSum)
}

// Part is one batch input file and, once submitted, its batch.
type Part struct {
	Name     string `json:"name"` // requests-NNN.jsonl
	Requests int    `json:"requests"`
	Bytes    int64  `json:"bytes"`
	// Tokens are the prompt tokens of its requests (o200k, with the chat
	// format's overhead per message), what OpenAI counts against the
	// enqueued token limit.
	Tokens int64 `json:"tokens,omitempty"`

	FileID       string `json:"file_id,omitempty"`
	BatchID      string `json:"batch_id,omitempty"`
	Status       string `json:"status,omitempty"`
	Completed    int    `json:"completed,omitempty"`
	Failed       int    `json:"failed,omitempty"`
	OutputFileID string `json:"output_file_id,omitempty"`
	ErrorFileID  string `json:"error_file_id,omitempty"`
	Downloaded   bool   `json:"downloaded,omitempty"` // its output and error files are in results/
	ErrorCode    string `json:"error_code,omitempty"` // of a failed batch: its first error's code
}

// terminal reports whether a batch status is final.
func terminal(status string) bool {
	switch status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// Job is the state of a job directory (job.json).
type Job struct {
	Version  int       `json:"version"`
	Round    int       `json:"round"`
	Created  time.Time `json:"created"`
	Settings Settings  `json:"settings"`
	Inputs   []string  `json:"inputs"` // as given to prepare, absolute
	Files    []File    `json:"files"`
	Parts    []*Part   `json:"parts"`

	Translations int `json:"translation_requests"`
	Summaries    int `json:"summary_requests"`
	Ready        int `json:"ready_files"` // complete from the cache when prepared
	// Collected is set once collect has read every result of the round
	// (after its batches ended, or from --from files).
	Collected bool `json:"collected,omitempty"`

	dir      string
	archived bool // read back from rounds/N/
	previous *Job // a finished round, archived once the new one is planned
}

// submitted reports whether any part went to the provider.
func (j *Job) submitted() bool {
	for _, p := range j.Parts {
		if p.FileID != "" || p.BatchID != "" {
			return true
		}
	}
	return false
}

// Open reads the job in dir.
func Open(dir string) (*Job, error) {
	data, err := os.ReadFile(filepath.Join(dir, jobFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a batch job directory (no %s): run xlate batch prepare -o %s first", dir, jobFile, dir)
	}
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, jobFile), err)
	}
	if j.Version != formatV {
		return nil, fmt.Errorf("%s: job format %d, this xlate reads %d", filepath.Join(dir, jobFile), j.Version, formatV)
	}
	j.dir = dir
	return &j, nil
}

// save writes job.json atomically.
func (j *Job) save() error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(j.dir, jobFile), append(data, '\n'))
}

// Model is the model the job's request lines name.
func (j *Job) Model() string { return j.Settings.Model }

// Dir is the job's directory.
func (j *Job) Dir() string { return j.dir }

// Entry is one line of manifest.jsonl: a request, and the files that need
// it.
type Entry struct {
	CustomID  string             `json:"custom_id"`
	Files     []int              `json:"files"` // indexes into Job.Files
	Translate *translate.Request `json:"translate,omitempty"`
	Summary   *SummaryRequest    `json:"summary,omitempty"`
}

// slim returns e as the manifest keeps it: a translation request without
// its messages (the batch file has them) and a piece's source left out
// where it is the text sent. fill undoes it.
func (e *Entry) slim() *Entry {
	if e.Translate == nil {
		return e
	}
	r := *e.Translate
	r.System, r.User = "", ""
	r.Pieces = append([]translate.Piece(nil), r.Pieces...)
	for i, p := range r.Pieces {
		if p.Source == p.Text {
			r.Pieces[i].Source = ""
		}
	}
	c := *e
	c.Translate = &r
	return &c
}

func (e *Entry) fill() {
	if e.Translate == nil {
		return
	}
	for i, p := range e.Translate.Pieces {
		if p.Source == "" {
			e.Translate.Pieces[i].Source = p.Text
		}
	}
}

// SummaryRequest is a summary request as the Summarizer made it.
type SummaryRequest struct {
	System string `json:"system"`
	User   string `json:"user"`
}

// NewRound starts the job's next round in dir, to be planned with a
// Writer. It writes nothing: Writer.Commit puts the round in place.
//
// A new dir (or one prepared but not submitted) gets a new job with
// settings s and the inputs given. A job whose batches were all collected
// gets its next round (its earlier files move to rounds/N/ on commit);
// with no inputs it keeps its inputs and settings. A job submitted and not
// collected is refused: its answers would be lost.
func NewRound(dir string, inputs []string, s Settings) (*Job, error) {
	job := &Job{Version: formatV, Round: 1, Created: time.Now().UTC(), Settings: s, dir: dir}
	old, err := openOrRecover(dir)
	switch {
	case err != nil:
		return nil, err
	case old != nil:
		job.Round = old.Round
		unread := old.submitted() && !old.Collected
		for _, p := range old.Parts {
			unread = unread || p.BatchID != "" && !p.Downloaded
		}
		if unread {
			return nil, fmt.Errorf("the job in %s was submitted and is not collected yet: run xlate batch collect %s first, or prepare into another directory", dir, dir)
		}
		if old.submitted() || old.Collected {
			job.previous = old
			job.Round++
		}
		if len(inputs) == 0 {
			job.Settings, job.Inputs = old.Settings, old.Inputs
		}
	case len(inputs) == 0:
		return nil, errors.New("no inputs: give the files or directories to translate")
	}
	if len(inputs) > 0 {
		job.Inputs = nil
		for _, in := range inputs {
			abs, err := filepath.Abs(in)
			if err != nil {
				return nil, err
			}
			job.Inputs = append(job.Inputs, abs)
		}
	}
	return job, nil
}

// openOrRecover returns the job in dir, nil if there is none. A job whose
// job.json is missing because a prepare was interrupted after moving the
// last round away is recovered from rounds/N/.
func openOrRecover(dir string) (*Job, error) {
	if _, err := os.Stat(filepath.Join(dir, jobFile)); err == nil {
		return Open(dir)
	}
	rounds, _ := filepath.Glob(filepath.Join(dir, "rounds", "*", jobFile))
	best := -1
	for _, r := range rounds {
		if n, err := strconv.Atoi(filepath.Base(filepath.Dir(r))); err == nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return nil, nil
	}
	j, err := Open(filepath.Join(dir, "rounds", strconv.Itoa(best)))
	if err != nil {
		return nil, err
	}
	j.dir, j.archived = dir, true
	return j, nil
}

// archive moves a collected round's files into rounds/N/.
func (j *Job) archive() error {
	dst := filepath.Join(j.dir, "rounds", strconv.Itoa(j.Round))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	// job.json goes last: interrupted before it, the round is still here
	// and the next prepare archives the rest.
	names := []string{manifestFile, resultsDir}
	for _, p := range j.Parts {
		names = append(names, p.Name)
	}
	names = append(names, jobFile)
	for _, name := range names {
		err := os.Rename(filepath.Join(j.dir, name), filepath.Join(dst, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("keep round %d: %w", j.Round, err)
		}
	}
	return nil
}

// ContentSum identifies an input's content (File.Sum), to notice an edit
// between prepare and collect.
func ContentSum(data []byte) string {
	return cache.Key(string(data))[:32]
}
