package fakeopenai

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// VLLMBatchID is Recorded.Batch for the lines [VLLMRunBatch] answers.
const VLLMBatchID = "vllm"

// VLLMRunBatch answers a batch input file (OpenAI's JSONL format) the way
// vLLM's offline runner (python -m vllm.entrypoints.openai.run_batch) does,
// returning its output file: one line per input line, in input order,
//
//	{"id":"vllm-HEX","custom_id":…,"response":{"status_code":200,"request_id":"vllm-batch-HEX","body":{chat.completion}},"error":null}
//
// vLLM serves one model under the names of --served-model-name (default
// --model): here opts.Models, else opts.Model, else DefaultModel. A line
// naming another model fails as in vLLM: response {"status_code":404,
// "request_id":…,"body":null} and error {"error":{"message":"The model
// `M` does not exist.","type":"NotFoundError","param":"model","code":404}}.
//
// Each body is answered as the server of opts would answer a chat request
// (opts.EnforceMaxTokens, opts.Fault with n = the line's
// 1-based number among the non-blank lines and Recorded.Batch
// VLLMBatchID). A line the model refuses (unknown model, no messages) or a
// fault's Status gives vLLM's error-response line: response
// {"status_code":N,"request_id":…,"body":null} and error
// {"error":{"message","type","param","code":N}}. A line vLLM cannot run (a
// url other than /v1/chat/completions, "stream": true) gives its error
// line: status_code 400, body null, error a string. Stall is ignored. Ids
// are deterministic hashes of the line. A line that is not a JSON request
// object fails the whole run, as in vLLM.
func VLLMRunBatch(input []byte, opts Options) ([]byte, error) {
	served := opts.Models
	if len(served) == 0 {
		served = []string{cmp.Or(opts.Model, DefaultModel)}
	}
	s := &Server{opts: opts, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var out []byte
	n := 0
	for i, l := range strings.Split(string(input), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		n++
		var in struct {
			CustomID *string        `json:"custom_id"`
			Method   string         `json:"method"`
			URL      string         `json:"url"`
			Body     map[string]any `json:"body"`
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			return nil, fmt.Errorf("fakeopenai: vllm run_batch: line %d: %w", i+1, err)
		}
		if err := json.Unmarshal([]byte(l), &in); err != nil {
			return nil, fmt.Errorf("fakeopenai: vllm run_batch: line %d: %w", i+1, err)
		}
		if in.CustomID == nil || in.Body == nil {
			return nil, fmt.Errorf("fakeopenai: vllm run_batch: line %d: custom_id and body are required", i+1)
		}
		id, reqID := vllmIDs(n, *in.CustomID)
		line := outputLine{ID: id, CustomID: *in.CustomID}
		stream, _ := in.Body["stream"].(bool)
		switch {
		case in.URL != "/v1/chat/completions":
			line.Response = &lineResponse{StatusCode: http.StatusBadRequest, RequestID: reqID}
			line.Error = fmt.Sprintf("URL %s was used. Supported endpoints: /v1/chat/completions (fakeopenai serves no other)", in.URL)
		case stream:
			line.Response = &lineResponse{StatusCode: http.StatusBadRequest, RequestID: reqID}
			line.Error = "Request must not be sent in stream mode"
		case !slices.Contains(served, lineModel(obj["body"])):
			line.Response = &lineResponse{StatusCode: http.StatusNotFound, RequestID: reqID}
			line.Error = map[string]any{"error": map[string]any{
				"message": fmt.Sprintf("The model `%s` does not exist.", lineModel(obj["body"])),
				"type":    "NotFoundError", "param": "model", "code": http.StatusNotFound,
			}}
		default:
			res := s.answerLine(VLLMBatchID, *in.CustomID, obj["body"])
			if res.status/100 == 2 {
				if body, ok := res.body.(map[string]any); ok {
					body["id"] = "chatcmpl-" + hexHash("chatcmpl", n, *in.CustomID)
				}
				line.Response = &lineResponse{StatusCode: res.status, RequestID: reqID, Body: res.body}
				break
			}
			line.Response = &lineResponse{StatusCode: res.status, RequestID: reqID}
			line.Error = vllmError(res)
		}
		out = append(out, encodeLine(line)...)
	}
	return out, nil
}

// vllmError is vLLM's ErrorResponse for a failed answer.
func vllmError(res lineResult) map[string]any {
	info := map[string]any{"message": http.StatusText(res.status), "type": "BadRequestError", "param": nil, "code": res.status}
	if m, ok := res.body.(map[string]any); ok {
		if e, ok := m["error"].(map[string]any); ok {
			info["message"], info["type"], info["param"] = e["message"], e["type"], e["param"]
		}
	} else if raw, ok := res.body.(json.RawMessage); ok {
		info["message"] = string(raw)
	} else if str, ok := res.body.(string); ok {
		info["message"] = str
	}
	return map[string]any{"error": info}
}

// vllmIDs returns the deterministic line id and request id of a line.
func vllmIDs(n int, customID string) (id, reqID string) {
	return "vllm-" + hexHash("id", n, customID), "vllm-batch-" + hexHash("req", n, customID)
}

// hexHash is 32 hex digits (a uuid4().hex's length) from its arguments.
func hexHash(salt string, n int, customID string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s", salt, n, customID))
	return hex.EncodeToString(sum[:16])
}
