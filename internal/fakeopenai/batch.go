package fakeopenai

// The Files and Batch APIs, as github.com/sashabaranov/go-openai v1.43.0
// calls them:
//
//   - POST /v1/files (multipart: purpose, file), GET /v1/files (list;
//     purpose, order, limit and after filters), GET /v1/files/ID,
//     GET /v1/files/ID/content, DELETE /v1/files/ID.
//   - POST /v1/batches (input_file_id, endpoint "/v1/chat/completions",
//     completion_window "24h", metadata), GET /v1/batches (newest first;
//     limit, after), GET /v1/batches/ID, POST /v1/batches/ID/cancel.
//
// Unknown ids get 404 with OpenAI's error body, bad parameters 400.
//
// # Time
//
// A created batch is "validating". Retrieving it (GET /v1/batches/ID, not
// the list) counts a poll; a batch stays in a state for Options.BatchSteps
// polls, the next one moves it on: validating → in_progress (the input is
// validated: a bad input makes it "failed" with errors.data) → finalizing
// (every line answered) → completed (output and error files written). With
// BatchSteps 0 the first retrieval goes all the way; with BatchSteps N > 0
// each of validating, in_progress and finalizing is seen by N polls, and
// every poll in in_progress answers another 1/(N+1) of the lines so
// request_counts grow. [Server.AdvanceBatches] moves every unfinished batch
// one state, [Server.FinishBatches] to its end. A batch still validating or
// in progress when Options.Now passes its expires_at (created_at + 24h)
// expires at its next step.
//
// [Server.LimitEnqueuedTokens] sets OpenAI's enqueued token limit: a batch
// whose prompt tokens ([PromptTokens]), added to those of its model's
// batches in progress or finalizing, go over it fails validation with
// token_limit_exceeded.
//
// Cancelling a batch (validating, in_progress or finalizing) makes it
// "cancelling"; its next step makes it "cancelled".
//
// # Lines
//
// Each line's body is answered as POST /v1/chat/completions would answer
// it (streaming aside): the same checks (model, messages, Options.Models),
// the fake model, Options.EnforceMaxTokens and Options.Fault (but not the
// rate limits, not Latency), called with n = the line's number in
// [Server.BatchLines] and a Recorded whose Batch and CustomID are set (see
// [ForBatch], [ByCustomID]). A fault's Status makes the line fail with
// that status and error body (ErrorBody, when it is JSON, is the body);
// the content faults (segments, Reply, Think, Preamble, Truncate) shape a
// 200 answer; Stall leaves the line unanswered, so the batch expires;
// delays, Reset and BadJSON are ignored. Lines are answered in input order
// when the batch leaves in_progress (or progressively, see Time).
//
// 2xx answers go to the output file, others to the error file, each as
// {"id":"batch_req_…","custom_id":…,"response":{"status_code":N,
// "request_id":"req_…","body":{…}},"error":null}. Lines an expired or
// cancelled batch did not answer go to the error file as
// {"id":…,"custom_id":…,"response":null,"error":{"code":"batch_expired" or
// "batch_cancelled","message":…}} and count as failed. A file with no line
// is not written (its id stays null). The lines of each file are shuffled
// deterministically: clients must match them by custom_id.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	xchunk "github.com/xlate/xlate/chunk"
)

// Kinds of Files and Batch API requests, as recorded in [Recorded.Kind].
const (
	KindFile  = "file"  // a Files API request (/v1/files...)
	KindBatch = "batch" // a Batch API request (/v1/batches...)
)

// OpenAI's limits on a batch input file: 50,000 requests, 200 MB
// (decimal).
const (
	DefaultBatchMaxRequests = 50_000
	DefaultFileMaxBytes     = 200_000_000
)

// Batch statuses.
const (
	BatchValidating = "validating"
	BatchFailed     = "failed"
	BatchInProgress = "in_progress"
	BatchFinalizing = "finalizing"
	BatchCompleted  = "completed"
	BatchExpired    = "expired"
	BatchCancelling = "cancelling"
	BatchCancelled  = "cancelled"
)

// BatchFault changes how one batch ends. The zero BatchFault completes
// normally.
type BatchFault struct {
	// FailCode, when set, makes the batch fail validation with this error
	// (and FailMessage) in errors.data, e.g. "token_limit_exceeded".
	FailCode, FailMessage string
	// Expire makes the batch expire after answering only its first
	// Answered lines (in input order); the others go to the error file as
	// batch_expired.
	Expire   bool
	Answered int
}

// BatchError is one entry of a failed batch's errors.data.
type BatchError struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
	Line    *int    `json:"line"`
}

// ForBatch applies fn only to batch lines (not to HTTP requests).
func ForBatch(fn FaultFunc) FaultFunc {
	return func(n int, req *Recorded) Fault {
		if req.Batch == "" {
			return Fault{}
		}
		return fn(n, req)
	}
}

// ByCustomID returns faults[custom_id] for a batch line, and a normal answer
// for other lines and for HTTP requests.
func ByCustomID(faults map[string]Fault) FaultFunc {
	return func(_ int, req *Recorded) Fault {
		if req.Batch == "" {
			return Fault{}
		}
		return faults[req.CustomID]
	}
}

// store holds the files and batches of a server. op serializes every Files
// and Batch operation (requests, AdvanceBatches); mu guards the line log,
// which Options.Fault may read while op is held.
type store struct {
	op      sync.Mutex
	files   map[string]*file
	fileIDs []string // in creation order
	batches map[string]*batch
	batchID []string // in creation order
	nFile   int
	nReq    int // batch_req ids handed out
	// enqueuedLimit, when positive, is the enqueued token limit per
	// model (see [Server.LimitEnqueuedTokens]).
	enqueuedLimit int64

	mu    sync.Mutex
	lines []Recorded
}

type file struct {
	id, name, purpose string
	data              []byte
	created           int64
}

func (f *file) object() map[string]any {
	return map[string]any{
		"id": f.id, "object": "file", "bytes": len(f.data), "created_at": f.created,
		"filename": f.name, "purpose": f.purpose, "status": "processed",
		"status_details": nil, "expires_at": nil,
	}
}

// batchLine is one valid input line.
type batchLine struct {
	line     int // 1-based line number in the input file
	customID string
	body     json.RawMessage
}

type counts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

type batch struct {
	n                                int
	id, endpoint, inputFile, window  string
	metadata                         json.RawMessage
	status                           string
	created, expires                 int64
	inProgress, finalizing, complete *int64
	failedAt, expiredAt              *int64
	cancelling, cancelled            *int64
	errors                           []BatchError
	outputFile, errorFile            string
	fault                            BatchFault
	polls                            int
	lines                            []batchLine
	next                             int // lines[:next] were answered (or stalled)
	ok, bad                          [][]byte
	unanswered                       []int // indices into lines of stalled lines
	counts                           counts
	model                            string // of its lines, once validated
	tokens                           int64  // prompt tokens of its lines, once validated
}

func (b *batch) terminal() bool {
	switch b.status {
	case BatchFailed, BatchCompleted, BatchExpired, BatchCancelled:
		return true
	}
	return false
}

// object is the batch object as OpenAI returns it.
func (b *batch) object() map[string]any {
	var errs any
	if len(b.errors) > 0 {
		errs = map[string]any{"object": "list", "data": b.errors}
	}
	meta := b.metadata
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	return map[string]any{
		"id": b.id, "object": "batch", "endpoint": b.endpoint, "errors": errs,
		"input_file_id": b.inputFile, "completion_window": b.window, "status": b.status,
		"output_file_id": nullable(b.outputFile), "error_file_id": nullable(b.errorFile),
		"created_at": b.created, "in_progress_at": b.inProgress, "expires_at": b.expires,
		"finalizing_at": b.finalizing, "completed_at": b.complete, "failed_at": b.failedAt,
		"expired_at": b.expiredAt, "cancelling_at": b.cancelling, "cancelled_at": b.cancelled,
		"request_counts": b.counts, "metadata": meta,
	}
}

// batchKind returns KindFile or KindBatch for a Files or Batch API path,
// else kind.
func batchKind(path, kind string) string {
	switch {
	case path == "/v1/files" || strings.HasPrefix(path, "/v1/files/"):
		return KindFile
	case path == "/v1/batches" || strings.HasPrefix(path, "/v1/batches/"):
		return KindBatch
	}
	return kind
}

func (s *Server) fileMax() int64 {
	if s.opts.FileMaxBytes > 0 {
		return s.opts.FileMaxBytes
	}
	return DefaultFileMaxBytes
}

func (s *Server) batchMax() int {
	if s.opts.BatchMaxRequests > 0 {
		return s.opts.BatchMaxRequests
	}
	return DefaultBatchMaxRequests
}

// bodyLimit is how much of a request body the server reads.
func (s *Server) bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == "/v1/files" {
		return s.fileMax() + 1<<20
	}
	return 64 << 20
}

// apiResult is what a Files or Batch operation answers: a JSON value, raw
// bytes (file content) or an error.
type apiResult struct {
	v   any
	raw []byte
	err *apiError
}

func fail(status int, msg, param, code string) apiResult {
	return apiResult{err: &apiError{status: status, message: msg, typ: "invalid_request_error", param: param, code: code}}
}

// batchAPI answers a Files or Batch API request.
func (a *answer) batchAPI(body []byte, readErr error) {
	s := a.s
	s.store.op.Lock()
	res := s.route(a.r, body, readErr)
	s.store.op.Unlock()
	switch {
	case res.err != nil:
		a.error(res.err.status, res.err.message, res.err.typ, res.err.param, res.err.code)
	case res.raw != nil:
		a.w.Header().Set("Content-Type", "application/octet-stream")
		a.w.Header().Set("Content-Length", strconv.Itoa(len(res.raw)))
		a.finish()
		a.w.WriteHeader(http.StatusOK)
		if _, err := a.w.Write(res.raw); err == nil && http.NewResponseController(a.w).Flush() == nil {
			s.complete(a.rec.N)
		}
	default:
		a.writeJSON(http.StatusOK, res.v)
	}
}

// route runs one Files or Batch operation; the caller holds s.store.op.
func (s *Server) route(r *http.Request, body []byte, readErr error) apiResult {
	if readErr != nil {
		return fail(http.StatusBadRequest, "Could not read the request body.", "", "")
	}
	seg := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	m := r.Method
	switch {
	case len(seg) == 1 && seg[0] == "files" && m == http.MethodPost:
		return s.upload(r, body)
	case len(seg) == 1 && seg[0] == "files" && m == http.MethodGet:
		return s.listFiles(r)
	case len(seg) == 2 && seg[0] == "files" && m == http.MethodGet:
		return s.withFile(seg[1], func(f *file) apiResult { return apiResult{v: f.object()} })
	case len(seg) == 2 && seg[0] == "files" && m == http.MethodDelete:
		return s.withFile(seg[1], func(f *file) apiResult {
			delete(s.store.files, f.id)
			s.store.fileIDs = slices.DeleteFunc(s.store.fileIDs, func(id string) bool { return id == f.id })
			return apiResult{v: map[string]any{"id": f.id, "object": "file", "deleted": true}}
		})
	case len(seg) == 3 && seg[0] == "files" && seg[2] == "content" && m == http.MethodGet:
		return s.withFile(seg[1], func(f *file) apiResult { return apiResult{raw: slices.Clip(f.data)} })
	case len(seg) == 1 && seg[0] == "batches" && m == http.MethodPost:
		return s.createBatch(body)
	case len(seg) == 1 && seg[0] == "batches" && m == http.MethodGet:
		return s.listBatches(r)
	case len(seg) == 2 && seg[0] == "batches" && m == http.MethodGet:
		return s.withBatch(seg[1], func(b *batch) apiResult {
			s.poll(b)
			return apiResult{v: b.object()}
		})
	case len(seg) == 3 && seg[0] == "batches" && seg[2] == "cancel" && m == http.MethodPost:
		return s.withBatch(seg[1], s.cancel)
	}
	return fail(http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", m, r.URL.Path), "", "")
}

func (s *Server) withFile(id string, fn func(*file) apiResult) apiResult {
	f, ok := s.store.files[id]
	if !ok {
		return fail(http.StatusNotFound, fmt.Sprintf("No such File object: %s", id), "id", "")
	}
	return fn(f)
}

func (s *Server) withBatch(id string, fn func(*batch) apiResult) apiResult {
	b, ok := s.store.batches[id]
	if !ok {
		return fail(http.StatusNotFound, fmt.Sprintf("No batch found with id '%s'.", id), "", "")
	}
	return fn(b)
}

// purposes are the upload purposes OpenAI accepts.
var purposes = []string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}

func (s *Server) upload(r *http.Request, body []byte) apiResult {
	if int64(len(body)) >= s.bodyLimit(r) {
		return s.tooLarge()
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return fail(http.StatusBadRequest, "Invalid Content-Type header, expected multipart/form-data.", "", "")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var purpose, name string
	var data []byte
	var hasFile bool
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(p); err != nil {
			return fail(http.StatusBadRequest, "Could not parse multipart form.", "", "")
		}
		switch p.FormName() {
		case "purpose":
			purpose = b.String()
		case "file":
			hasFile, name, data = true, p.FileName(), append([]byte{}, b.Bytes()...)
		}
	}
	switch {
	case !hasFile:
		return fail(http.StatusBadRequest, "'file' is a required property", "file", "")
	case purpose == "":
		return fail(http.StatusBadRequest, "'purpose' is a required property", "purpose", "")
	case !slices.Contains(purposes, purpose):
		return fail(http.StatusBadRequest, fmt.Sprintf("'%s' is not one of %s - 'purpose'", purpose, quoteList(purposes)), "purpose", "")
	case int64(len(data)) > s.fileMax():
		return s.tooLarge()
	}
	st := &s.store
	st.nFile++
	f := &file{id: fmt.Sprintf("file-fake%04d", st.nFile), name: name, purpose: purpose, data: data, created: s.now().Unix()}
	s.addFile(f)
	return apiResult{v: f.object()}
}

func (s *Server) tooLarge() apiResult {
	return fail(http.StatusBadRequest, fmt.Sprintf("File is too large: the maximum size is %d bytes.", s.fileMax()), "file", "file_too_large")
}

func (s *Server) addFile(f *file) {
	st := &s.store
	if st.files == nil {
		st.files = map[string]*file{}
	}
	st.files[f.id] = f
	st.fileIDs = append(st.fileIDs, f.id)
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// page applies the after and limit query parameters to ids and tells
// whether more follow.
func page(ids []string, after string, limit int) ([]string, bool) {
	if after != "" {
		if i := slices.Index(ids, after); i >= 0 {
			ids = ids[i+1:]
		} else {
			ids = nil
		}
	}
	if len(ids) > limit {
		return ids[:limit], true
	}
	return ids, false
}

func queryLimit(r *http.Request, def, maxLimit int) (int, *apiError) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid 'limit': integer between 1 and %d expected, got '%s'.", maxLimit, v), "invalid_request_error", "limit", "invalid_value"}
	}
	return n, nil
}

func listObject(data []any, ids []string, more bool) map[string]any {
	o := map[string]any{"object": "list", "data": data, "has_more": more, "first_id": nil, "last_id": nil}
	if len(ids) > 0 {
		o["first_id"], o["last_id"] = ids[0], ids[len(ids)-1]
	}
	return o
}

func (s *Server) listFiles(r *http.Request) apiResult {
	q := r.URL.Query()
	limit, e := queryLimit(r, 10000, 10000)
	if e != nil {
		return apiResult{err: e}
	}
	ids := slices.Clone(s.store.fileIDs)
	if q.Get("order") != "asc" {
		slices.Reverse(ids)
	}
	if p := q.Get("purpose"); p != "" {
		ids = slices.DeleteFunc(ids, func(id string) bool { return s.store.files[id].purpose != p })
	}
	ids, more := page(ids, q.Get("after"), limit)
	data := make([]any, 0, len(ids))
	for _, id := range ids {
		data = append(data, s.store.files[id].object())
	}
	return apiResult{v: listObject(data, ids, more)}
}

func (s *Server) listBatches(r *http.Request) apiResult {
	limit, e := queryLimit(r, 20, 100)
	if e != nil {
		return apiResult{err: e}
	}
	ids := slices.Clone(s.store.batchID)
	slices.Reverse(ids)
	ids, more := page(ids, r.URL.Query().Get("after"), limit)
	data := make([]any, 0, len(ids))
	for _, id := range ids {
		data = append(data, s.store.batches[id].object())
	}
	return apiResult{v: listObject(data, ids, more)}
}

func (s *Server) createBatch(body []byte) apiResult {
	var req struct {
		InputFileID      string          `json:"input_file_id"`
		Endpoint         string          `json:"endpoint"`
		CompletionWindow string          `json:"completion_window"`
		Metadata         json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(http.StatusBadRequest, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", "")
	}
	for _, p := range []struct{ name, v string }{{"input_file_id", req.InputFileID}, {"endpoint", req.Endpoint}, {"completion_window", req.CompletionWindow}} {
		if p.v == "" {
			return fail(http.StatusBadRequest, fmt.Sprintf("Missing required parameter: '%s'.", p.name), p.name, "missing_required_parameter")
		}
	}
	if req.Endpoint != "/v1/chat/completions" {
		return fail(http.StatusBadRequest, fmt.Sprintf("Invalid value: '%s'. Supported values are: '/v1/chat/completions' (the only endpoint fakeopenai serves in batches).", req.Endpoint), "endpoint", "invalid_value")
	}
	if req.CompletionWindow != "24h" {
		return fail(http.StatusBadRequest, fmt.Sprintf("Invalid value: '%s'. Supported values are: '24h'.", req.CompletionWindow), "completion_window", "invalid_value")
	}
	if e := checkMetadata(req.Metadata); e != nil {
		return apiResult{err: e}
	}
	f, ok := s.store.files[req.InputFileID]
	if !ok {
		return fail(http.StatusNotFound, fmt.Sprintf("No such File object: %s", req.InputFileID), "input_file_id", "")
	}
	if f.purpose != "batch" {
		return fail(http.StatusBadRequest, fmt.Sprintf("Invalid 'input_file_id': file %s must be uploaded with purpose 'batch', not '%s'.", f.id, f.purpose), "input_file_id", "invalid_value")
	}
	st := &s.store
	n := len(st.batchID) + 1
	now := s.now().Unix()
	b := &batch{
		n: n, id: fmt.Sprintf("batch_fake%04d", n), endpoint: req.Endpoint, inputFile: req.InputFileID,
		window: req.CompletionWindow, metadata: req.Metadata, status: BatchValidating,
		created: now, expires: now + 24*60*60,
	}
	if string(b.metadata) == "null" {
		b.metadata = nil
	}
	if s.opts.BatchFault != nil {
		b.fault = s.opts.BatchFault(n, req.InputFileID)
	}
	if st.batches == nil {
		st.batches = map[string]*batch{}
	}
	st.batches[b.id] = b
	st.batchID = append(st.batchID, b.id)
	return apiResult{v: b.object()}
}

// checkMetadata applies OpenAI's metadata limits: at most 16 string
// values, keys up to 64 characters, values up to 512.
func checkMetadata(raw json.RawMessage) *apiError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	bad := func(msg string) *apiError {
		return &apiError{http.StatusBadRequest, msg, "invalid_request_error", "metadata", "invalid_value"}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return bad("Invalid 'metadata': expected an object.")
	}
	if len(m) > 16 {
		return bad(fmt.Sprintf("Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with %d properties instead.", len(m)))
	}
	for k, v := range m {
		sv, ok := v.(string)
		switch {
		case len(k) > 64:
			return bad(fmt.Sprintf("Invalid 'metadata': key '%s' is longer than 64 characters.", k))
		case !ok:
			return bad(fmt.Sprintf("Invalid type for 'metadata.%s': expected a string.", k))
		case len(sv) > 512:
			return bad(fmt.Sprintf("Invalid 'metadata.%s': string too long. Expected a string with maximum length 512.", k))
		}
	}
	return nil
}

func (s *Server) cancel(b *batch) apiResult {
	switch b.status {
	case BatchValidating, BatchInProgress, BatchFinalizing:
		t := s.now().Unix()
		b.status, b.cancelling, b.polls = BatchCancelling, &t, 0
	case BatchCancelling, BatchCancelled:
	default:
		return fail(http.StatusConflict, fmt.Sprintf("Cannot cancel a batch with status '%s'.", b.status), "", "")
	}
	return apiResult{v: b.object()}
}

// poll counts a retrieval of b and advances it per Options.BatchSteps.
func (s *Server) poll(b *batch) {
	steps := s.opts.BatchSteps
	if steps < 0 || b.terminal() {
		return
	}
	b.polls++
	advanced := false
	for !b.terminal() && b.polls > steps {
		s.step(b)
		b.polls, advanced = 1, true
	}
	if !advanced && b.status == BatchInProgress {
		s.answerLines(b, min(len(b.lines), b.next+s.portion(b)))
	}
}

// portion is how many lines an in_progress poll answers.
func (s *Server) portion(b *batch) int {
	if s.opts.BatchSteps <= 0 {
		return 0
	}
	return (len(b.lines) + s.opts.BatchSteps) / (s.opts.BatchSteps + 1)
}

// AdvanceBatches moves every unfinished batch one state on (validating →
// in_progress → finalizing → completed, cancelling → cancelled), whatever
// Options.BatchSteps says. It must not be called from Options.Fault.
func (s *Server) AdvanceBatches() {
	s.store.op.Lock()
	defer s.store.op.Unlock()
	for _, id := range s.store.batchID {
		if b := s.store.batches[id]; !b.terminal() {
			s.step(b)
			b.polls = 0
		}
	}
}

// FinishBatches moves every unfinished batch to its end state. It must not
// be called from Options.Fault.
func (s *Server) FinishBatches() {
	s.store.op.Lock()
	defer s.store.op.Unlock()
	for _, id := range s.store.batchID {
		for b := s.store.batches[id]; !b.terminal(); {
			s.step(b)
			b.polls = 0
		}
	}
}

// BatchLines returns a copy of the log of batch lines answered, in the
// order they were answered (Recorded.N is the n Options.Fault got).
func (s *Server) BatchLines() []Recorded {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	out := make([]Recorded, len(s.store.lines))
	for i := range s.store.lines {
		out[i] = s.store.lines[i].clone()
	}
	return out
}

// FileContent returns the content of a stored file (an upload or a batch's
// output or error file).
func (s *Server) FileContent(id string) ([]byte, bool) {
	s.store.op.Lock()
	defer s.store.op.Unlock()
	f, ok := s.store.files[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(f.data), true
}

// step moves b one state on.
func (s *Server) step(b *batch) {
	now := s.now().Unix()
	if now >= b.expires && (b.status == BatchValidating || b.status == BatchInProgress) {
		s.end(b, BatchExpired)
		return
	}
	switch b.status {
	case BatchValidating:
		s.validate(b)
		if len(b.errors) > 0 {
			b.status, b.failedAt = BatchFailed, &now
			return
		}
		b.status, b.inProgress = BatchInProgress, &now
		b.counts.Total = len(b.lines)
		s.answerLines(b, min(len(b.lines), s.portion(b)))
	case BatchInProgress:
		limit := len(b.lines)
		if b.fault.Expire {
			limit = min(limit, max(0, b.fault.Answered))
		}
		s.answerLines(b, limit)
		if b.next < len(b.lines) || len(b.unanswered) > 0 {
			s.end(b, BatchExpired)
			return
		}
		b.status, b.finalizing = BatchFinalizing, &now
	case BatchFinalizing:
		s.end(b, BatchCompleted)
	case BatchCancelling:
		s.end(b, BatchCancelled)
	}
}

// end finishes b with status: lines not answered go to the error file (as
// expired or cancelled), and the output and error files are written.
func (s *Server) end(b *batch, status string) {
	now := s.now().Unix()
	b.status = status
	switch status {
	case BatchCompleted:
		b.complete = &now
	case BatchExpired:
		b.expiredAt = &now
	case BatchCancelled:
		b.cancelled = &now
	}
	code, msg := "batch_expired", "This request could not be executed before the completion window expired."
	if status == BatchCancelled {
		code, msg = "batch_cancelled", "This request was not executed because the batch was cancelled."
	}
	left := slices.Clone(b.unanswered)
	for i := b.next; i < len(b.lines); i++ {
		left = append(left, i)
	}
	for _, i := range left {
		b.bad = append(b.bad, s.outputLine(b.lines[i].customID, nil, map[string]any{"code": code, "message": msg}))
		b.counts.Failed++
	}
	b.next, b.unanswered = len(b.lines), nil
	b.outputFile = s.writeOutput(b, "output", b.ok)
	b.errorFile = s.writeOutput(b, "error", b.bad)
}

// writeOutput stores lines, shuffled, as the batch's output or error file
// and returns its id ("" when there are no lines).
func (s *Server) writeOutput(b *batch, what string, lines [][]byte) string {
	if len(lines) == 0 {
		return ""
	}
	lines = slices.Clone(lines)
	h := fnv.New64a()
	_, _ = h.Write([]byte(b.id + what))
	r := rand.New(rand.NewPCG(h.Sum64(), 1))
	orig := slices.Clone(lines)
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	if len(lines) > 1 && slices.EqualFunc(lines, orig, bytes.Equal) {
		slices.Reverse(lines)
	}
	st := &s.store
	st.nFile++
	f := &file{
		id: fmt.Sprintf("file-fake%04d", st.nFile), name: fmt.Sprintf("%s_%s.jsonl", b.id, what),
		purpose: "batch_output", data: bytes.Join(lines, nil), created: s.now().Unix(),
	}
	s.addFile(f)
	return f.id
}

// outputLine renders one line of an output or error file.
func (s *Server) outputLine(customID string, resp *lineResponse, lineErr any) []byte {
	st := &s.store
	st.nReq++
	return encodeLine(outputLine{ID: fmt.Sprintf("batch_req_fake%06d", st.nReq), CustomID: customID, Response: resp, Error: lineErr})
}

type outputLine struct {
	ID       string        `json:"id"`
	CustomID string        `json:"custom_id"`
	Response *lineResponse `json:"response"`
	Error    any           `json:"error"`
}

type lineResponse struct {
	StatusCode int    `json:"status_code"`
	RequestID  string `json:"request_id"`
	Body       any    `json:"body"`
}

// encodeLine encodes v as one JSONL line, "<" left readable.
func encodeLine(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"error":"fakeopenai: encode"}` + "\n")
	}
	return buf.Bytes()
}

// answerLines answers b's lines up to index limit (exclusive).
func (s *Server) answerLines(b *batch, limit int) {
	for ; b.next < limit; b.next++ {
		ln := b.lines[b.next]
		st := &s.store
		st.nReq++
		res := s.answerLine(b.id, ln.customID, ln.body)
		if res.stalled {
			b.unanswered = append(b.unanswered, b.next)
			continue
		}
		resp := &lineResponse{StatusCode: res.status, RequestID: fmt.Sprintf("req_fakebatch%06d", st.nReq), Body: res.body}
		line := s.outputLine(ln.customID, resp, nil)
		if res.status/100 == 2 {
			b.ok = append(b.ok, line)
			b.counts.Completed++
		} else {
			b.bad = append(b.bad, line)
			b.counts.Failed++
		}
	}
}

// lineResult is the answer to one batch line.
type lineResult struct {
	status  int
	body    any // the response body: a chat.completion or an error body
	stalled bool
	rec     *Recorded
}

// answerLine answers one chat request body as POST /v1/chat/completions
// would, without I/O, and logs it in BatchLines when batchID is a server's
// batch. The caller holds s.store.op (or owns s).
func (s *Server) answerLine(batchID, customID string, body []byte) lineResult {
	rec := &Recorded{Method: http.MethodPost, Path: "/v1/chat/completions", Kind: KindInvalid, Batch: batchID, CustomID: customID, Time: s.now()}
	parseErr := s.parseChat(body, rec)
	st := &s.store
	st.mu.Lock()
	rec.N = len(st.lines) + 1
	st.lines = append(st.lines, *rec)
	st.mu.Unlock()
	if e := s.chatError(rec, parseErr); e != nil {
		return lineResult{status: e.status, body: e.body(), rec: rec}
	}
	f := s.fault(rec.N, rec)
	switch {
	case f.Stall && batchID != VLLMBatchID: // offline runs have no expiry
		return lineResult{stalled: true, rec: rec}
	case f.ErrorBody != "" && f.Status != 0:
		var raw any = f.ErrorBody
		if json.Valid([]byte(f.ErrorBody)) {
			raw = json.RawMessage(f.ErrorBody)
		}
		return lineResult{status: f.Status, body: raw, rec: rec}
	case f.Status != 0:
		return lineResult{status: f.Status, body: faultError(f).body(), rec: rec}
	}
	text, finish := s.content(rec, f)
	st.mu.Lock()
	st.lines[rec.N-1].Completed = true
	st.mu.Unlock()
	rec.Completed = true
	id := fmt.Sprintf("chatcmpl-fakebatch-%d", rec.N)
	return lineResult{status: http.StatusOK, body: completion(rec, id, s.now().Unix(), text, finish), rec: rec}
}

// validate checks b's input file as OpenAI does while a batch is
// validating, filling b.lines or b.errors.
func (s *Server) validate(b *batch) {
	if b.fault.FailCode != "" {
		b.errors = append(b.errors, BatchError{Code: b.fault.FailCode, Message: b.fault.FailMessage})
		return
	}
	f, ok := s.store.files[b.inputFile]
	if !ok {
		p := "input_file_id"
		b.errors = append(b.errors, BatchError{Code: "invalid_request", Message: fmt.Sprintf("Cannot find file %s.", b.inputFile), Param: &p})
		return
	}
	lines, errs := s.parseInput(f.data, b.endpoint)
	b.lines, b.errors = lines, errs
	if len(errs) > 0 || len(lines) == 0 {
		return
	}
	b.model = lineModel(lines[0].body)
	for _, l := range lines {
		b.tokens += PromptTokens(l.body)
	}
	if limit := s.store.enqueuedLimit; limit > 0 {
		queued := s.enqueued(b.model)
		if queued+b.tokens > limit {
			b.lines = nil
			b.errors = []BatchError{{Code: "token_limit_exceeded", Message: fmt.Sprintf(
				"Enqueued token limit reached for %s in organization org-fake. Limit: %d enqueued tokens. Please try submitting your batch again later.", b.model, limit)}}
		}
	}
}

// LimitEnqueuedTokens sets OpenAI's enqueued token limit per model: a
// batch whose lines' prompt tokens ([PromptTokens]), added to those of the
// batches of its model in progress or finalizing, exceed n fails its
// validation with token_limit_exceeded. 0 removes the limit. It must not
// be called from Options.Fault.
func (s *Server) LimitEnqueuedTokens(n int64) {
	s.store.op.Lock()
	defer s.store.op.Unlock()
	s.store.enqueuedLimit = n
}

// enqueued is the prompt tokens of the admitted batches of model not
// ended.
func (s *Server) enqueued(model string) int64 {
	var n int64
	for _, id := range s.store.batchID {
		b := s.store.batches[id]
		switch b.status {
		case BatchInProgress, BatchFinalizing, BatchCancelling:
			if b.model == model {
				n += b.tokens
			}
		}
	}
	return n
}

// PromptTokens counts a chat request body's prompt as OpenAI counts it
// against the enqueued token limit: each message's content (o200k_base),
// 3 tokens per message, 3 more that prime the answer.
func PromptTokens(body []byte) int64 {
	var req struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	n := int64(3)
	for _, m := range req.Messages {
		n += 3 + int64(counter.Count(m.Content))
	}
	return n
}

// counter counts tokens as OpenAI's models do.
var counter = xchunk.Default()

// lineModel is the model a request body names.
func lineModel(body []byte) string {
	var req struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &req)
	return req.Model
}

// parseInput parses and checks a batch input file.
func (s *Server) parseInput(data []byte, endpoint string) ([]batchLine, []BatchError) {
	text := strings.TrimRight(string(data), "\r\n")
	if strings.TrimSpace(text) == "" {
		return nil, []BatchError{{Code: "empty_file", Message: "The batch input file is empty."}}
	}
	raw := strings.Split(text, "\n")
	if len(raw) > s.batchMax() {
		return nil, []BatchError{{Code: "too_many_requests", Message: fmt.Sprintf("The batch input file has %d requests; the maximum is %d.", len(raw), s.batchMax())}}
	}
	var lines []batchLine
	var errs []BatchError
	seen := map[string]bool{}
	model := ""
	for i, l := range raw {
		n := i + 1
		add := func(code, param, msg string) {
			e := BatchError{Code: code, Message: msg, Line: &n}
			if param != "" {
				e.Param = &param
			}
			errs = append(errs, e)
		}
		var in struct {
			CustomID *string        `json:"custom_id"`
			Method   *string        `json:"method"`
			URL      *string        `json:"url"`
			Body     map[string]any `json:"body"`
		}
		l = strings.TrimSuffix(l, "\r")
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(l), &obj) != nil {
			add("invalid_json_line", "", "This line is not parseable as valid JSON.")
			continue
		}
		if err := json.Unmarshal([]byte(l), &in); err != nil {
			add("invalid_request", "", fmt.Sprintf("Invalid request: %v", err))
			continue
		}
		bad := len(errs)
		for _, p := range []struct {
			name string
			set  bool
		}{{"custom_id", in.CustomID != nil}, {"method", in.Method != nil}, {"url", in.URL != nil}, {"body", in.Body != nil}} {
			if !p.set {
				add("missing_required_parameter", p.name, fmt.Sprintf("Missing required parameter: '%s'.", p.name))
			}
		}
		if len(errs) > bad {
			continue
		}
		switch {
		case seen[*in.CustomID]:
			add("duplicate_custom_id", "custom_id", "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.")
		case *in.Method != http.MethodPost:
			add("invalid_request", "method", "Method must be 'POST'.")
		case *in.URL != endpoint:
			add("invalid_url", "url", "The URL provided for this request does not match the batch endpoint.")
		}
		seen[*in.CustomID] = true
		m, _ := in.Body["model"].(string)
		switch {
		case m == "":
			add("missing_required_parameter", "body.model", "Missing required parameter: 'body.model'.")
		case len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, m):
			add("model_not_found", "body.model", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", m))
		case model != "" && m != model:
			add("mismatched_model", "body.model", fmt.Sprintf("The provided model '%s' does not match the model '%s' of the other requests in this batch. All requests in a batch must use the same model.", m, model))
		}
		if model == "" {
			model = m
		}
		if len(errs) == bad {
			lines = append(lines, batchLine{line: n, customID: *in.CustomID, body: obj["body"]})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return lines, nil
}
