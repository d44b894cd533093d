package llm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	openai "github.com/sashabaranov/go-openai"
)

// BatchAPI is the Files and Batch API of the endpoint a client talks to:
// what a batch job uploads, creates, watches and downloads. Its calls are
// made once, not retried, paced or counted; [IsTransient] says which
// failures are worth another try.
type BatchAPI struct {
	client *openai.Client
}

// Batches returns the files and batches API of c's endpoint: the same
// URL, key, Azure settings and transport as Complete's.
func (c *OpenAI) Batches() *BatchAPI { return &BatchAPI{client: c.client} }

// Batch is a batch as the provider reports it.
type Batch struct {
	ID          string
	Status      string // validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
	InputFileID string
	// OutputFileID and ErrorFileID are "" until the batch has them.
	OutputFileID, ErrorFileID string
	// Request counts.
	Total, Completed, Failed int
	// Errors say why a batch failed (its validation, say).
	Errors []BatchError
}

// BatchError is one error of a batch.
type BatchError struct {
	Code, Message string
	Line          *int // the input file's line it is about, if any
}

func batchOf(b openai.Batch) Batch {
	out := Batch{ID: b.ID, Status: b.Status, InputFileID: b.InputFileID,
		Total: b.RequestCounts.Total, Completed: b.RequestCounts.Completed, Failed: b.RequestCounts.Failed}
	if b.OutputFileID != nil {
		out.OutputFileID = *b.OutputFileID
	}
	if b.ErrorFileID != nil {
		out.ErrorFileID = *b.ErrorFileID
	}
	if b.Errors != nil {
		for _, e := range b.Errors.Data {
			out.Errors = append(out.Errors, BatchError{Code: e.Code, Message: e.Message, Line: e.Line})
		}
	}
	return out
}

// Upload uploads a batch input file (purpose "batch") named name and
// returns its file id.
func (a *BatchAPI) Upload(ctx context.Context, name string, data []byte) (string, error) {
	f, err := a.client.CreateFileBytes(ctx, openai.FileBytesRequest{Name: name, Bytes: data, Purpose: openai.PurposeBatch})
	return f.ID, err
}

// Create creates the batch of an uploaded input file: chat completions,
// answered within 24 hours.
func (a *BatchAPI) Create(ctx context.Context, fileID string, metadata map[string]string) (Batch, error) {
	md := make(map[string]any, len(metadata))
	for k, v := range metadata {
		md[k] = v
	}
	b, err := a.client.CreateBatch(ctx, openai.CreateBatchRequest{
		InputFileID:      fileID,
		Endpoint:         openai.BatchEndpointChatCompletions,
		CompletionWindow: "24h",
		Metadata:         md,
	})
	return batchOf(b.Batch), err
}

// Get returns the batch id.
func (a *BatchAPI) Get(ctx context.Context, id string) (Batch, error) {
	b, err := a.client.RetrieveBatch(ctx, id)
	return batchOf(b.Batch), err
}

// List returns a page of the batches, newest first: up to limit of them
// (0: the provider's default) after the batch id after ("": from the
// newest), and whether more follow.
func (a *BatchAPI) List(ctx context.Context, after string, limit int) ([]Batch, bool, error) {
	var afterP *string
	if after != "" {
		afterP = &after
	}
	var limitP *int
	if limit > 0 {
		limitP = &limit
	}
	l, err := a.client.ListBatch(ctx, afterP, limitP)
	if err != nil {
		return nil, false, err
	}
	out := make([]Batch, len(l.Data))
	for i, b := range l.Data {
		out[i] = batchOf(b)
	}
	return out, l.HasMore, nil
}

// Content downloads the content of file id (a batch's output or error
// file).
func (a *BatchAPI) Content(ctx context.Context, id string) ([]byte, error) {
	raw, err := a.client.GetFileContent(ctx, id)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	return io.ReadAll(raw)
}

// IsTransient reports whether a failed BatchAPI call is worth trying
// again: a 429, a 5xx, a network error or an answer cut short.
func IsTransient(err error) bool {
	var api *openai.APIError
	if errors.As(err, &api) {
		return api.HTTPStatusCode == http.StatusTooManyRequests || api.HTTPStatusCode >= 500
	}
	var req *openai.RequestError
	if errors.As(err, &req) {
		return req.HTTPStatusCode == http.StatusTooManyRequests || req.HTTPStatusCode >= 500
	}
	if IsSystemic(err) {
		return false // a wrong base URL or key: asking again cannot help
	}
	// A *url.Error is a net.Error itself: judge what it wraps.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return isNetError(err) || errors.Is(err, io.ErrUnexpectedEOF)
}
