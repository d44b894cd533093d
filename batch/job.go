// Package batch runs xlate's requests through batch engines rather than one
// by one: the OpenAI Batch API (half the price, answered within 24 hours on
// the provider's fleet) and vLLM's run_batch (the same JSONL format, on the
// user's own GPUs). It feeds them and reads their results back; the
// engines do the scheduling.
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
// The steps are Prepare (plan the requests the cache cannot answer),
// Submit (upload and create the batches), Status and Collect (judge the
// answers exactly as the online path does, cache the good ones, write
// every output that is complete). Each step saves its progress as it goes
// (job.json is replaced atomically), so it can be interrupted and run
// again; what failed or is missing is simply planned again by the next
// Prepare.
//
// # Rounds
//
// A summary is made from what the translation requests produce: a short
// article's summary rides on its one translation request, but a long
// article's summary is made from the notes its chunks' requests wrote. So
// a long article takes two rounds: the translations, then one small
// summary request. Prepare plans whatever the cache makes possible next,
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
	"time"

	"github.com/xlate/xlate/article"
	"github.com/xlate/xlate/glossary"
	"github.com/xlate/xlate/internal/atomicfile"
	"github.com/xlate/xlate/pipeline"
	"github.com/xlate/xlate/render"
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
// every step of it uses the same.
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

// SettingsOf is the job's form of the pipeline's settings and the output
// names' suffix; Pipeline undoes it.
func SettingsOf(s pipeline.Settings, suffix string) Settings {
	return Settings{Model: s.Model, Lang: s.Lang, Layout: s.Layout.String(), Summary: s.Summary,
		Budget: s.Budget, Glossary: s.Glossary, Suffix: suffix, Format: syntaxName(s.Syntax)}
}

// Pipeline returns the settings as the pipeline's.
func (s Settings) Pipeline() (pipeline.Settings, error) {
	layout, err := render.ParseLayout(s.Layout)
	if err != nil {
		return pipeline.Settings{}, err
	}
	syntax, err := article.ParseSyntax(s.Format)
	if err != nil {
		return pipeline.Settings{}, err
	}
	return pipeline.Settings{Model: s.Model, Lang: s.Lang, Layout: layout, Summary: s.Summary, Budget: s.Budget, Glossary: s.Glossary, Syntax: syntax}, nil
}

// syntaxName is the job's form of a body syntax: "" for auto, so that job
// files from before the setting existed read the same.
func syntaxName(s article.Syntax) string {
	if s == article.SyntaxAuto {
		return ""
	}
	return s.String()
}

// File is one input of the job.
type File struct {
	In  string `json:"in"`            // absolute path
	Out string `json:"out"`           // output path, relative to the output directory
	Sum string `json:"sum,omitempty"` // its content when prepared (contentSum)
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

// entry is one line of manifest.jsonl.
type entry struct {
	CustomID  string             `json:"custom_id"`
	Files     []int              `json:"files"` // indexes into Job.Files
	Translate *translate.Request `json:"translate,omitempty"`
	Summary   *summaryRequest    `json:"summary,omitempty"`
}

// slim returns e as the manifest keeps it: a translation request without
// its messages (the batch file has them) and a piece's source left out
// where it is the text sent. fill undoes it.
func (e *entry) slim() *entry {
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

func (e *entry) fill() {
	if e.Translate == nil {
		return
	}
	for i, p := range e.Translate.Pieces {
		if p.Source == "" {
			e.Translate.Pieces[i].Source = p.Text
		}
	}
}

// summaryRequest is a summary request as the Summarizer made it.
type summaryRequest struct {
	System string `json:"system"`
	User   string `json:"user"`
}
