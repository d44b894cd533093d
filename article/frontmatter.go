package article

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/adrg/frontmatter"
	yaml "go.yaml.in/yaml/v3"
)

// ErrFrontMatter reports front matter that is unterminated or does not
// decode. Errors returned by [Parse] for bad front matter wrap it.
var ErrFrontMatter = errors.New("front matter")

// splitFrontMatter separates the front matter at the top of text from the
// body. Without front matter it returns a zero FrontMatter and text as is.
//
// YAML sits between "---" lines and TOML between "+++" lines (the
// conventions of github.com/adrg/frontmatter, which also accepts "---yaml",
// "---toml", "---json" and ";;;" openers). JSON is read as Hugo reads it: an
// object opened by "{" and closed by its matching "}", on several lines or
// on one, with or without a blank line after it (see splitJSON). An opening
// "---" or "+++" without its closing line is an error; a "{" without its
// matching "}", or one that does not open a JSON object, is body text.
func splitFrontMatter(text string) (FrontMatter, string, error) {
	first := firstLine(text)
	var opener Format
	switch first {
	case "---", "---yaml":
		opener = YAML
	case "+++", "---toml":
		opener = TOML
	case ";;;", "---json":
		opener = JSON
	default:
		if raw, body, line, ok := splitJSON(text); ok {
			return jsonFrontMatter(raw, body, line)
		}
		return FrontMatter{}, text, nil
	}

	var (
		fm      FrontMatter
		found   bool
		decoded any
	)
	capture := func(format Format, unmarshal func([]byte, any) error) frontmatter.UnmarshalFunc {
		return func(data []byte, _ any) error {
			fm.Format = format
			fm.Raw = string(data)
			if format == JSON {
				fm.Raw = strings.TrimRight(fm.Raw, " \t\n")
			}
			found = true
			return unmarshal(data, &decoded)
		}
	}
	yamlU := capture(YAML, yaml.Unmarshal)
	tomlU := capture(TOML, func(b []byte, v any) error {
		m := map[string]any{}
		err := toml.Unmarshal(b, &m)
		*(v.(*any)) = m
		return err
	})
	jsonU := capture(JSON, json.Unmarshal)
	formats := []*frontmatter.Format{
		frontmatter.NewFormat("---", "---", yamlU),
		frontmatter.NewFormat("---yaml", "---", yamlU),
		frontmatter.NewFormat("+++", "+++", tomlU),
		frontmatter.NewFormat("---toml", "---", tomlU),
		frontmatter.NewFormat(";;;", ";;;", jsonU),
		frontmatter.NewFormat("---json", "---", jsonU),
	}
	var sink any
	body, err := frontmatter.Parse(strings.NewReader(text), &sink, formats...)
	openLine := firstLineNumber(text)
	if err != nil {
		// Line numbers in the decoder's message count from the first line
		// after the opener.
		return FrontMatter{}, "", &decodeError{msg: fmt.Sprintf("%v: %s: %s", ErrFrontMatter, opener, decodeProblem(err, fm.Raw, openLine)), err: err}
	}
	if !found {
		return FrontMatter{}, "", fmt.Errorf("unterminated %w: %q on line %d is never closed", ErrFrontMatter, first, openLine)
	}
	return withFields(fm, decoded, string(body))
}

// withFields sets fm.Fields from the decoded front matter.
func withFields(fm FrontMatter, decoded any, body string) (FrontMatter, string, error) {
	fm.Fields = map[string]any{}
	switch m := normalize(decoded).(type) {
	case map[string]any:
		fm.Fields = m
	case nil:
	default:
		return FrontMatter{}, "", fmt.Errorf("%w: %s: not a mapping of keys to values", ErrFrontMatter, fm.Format)
	}
	return fm, body, nil
}

// splitJSON finds JSON front matter as Hugo does: text starts (after
// blank space) with "{", and the object ends at its matching "}", braces
// inside strings not counting. Whatever follows on the closing line, and
// the line break, belong to neither part; the body starts on the next
// line. It returns the object, the body and the 1-based line of the "{".
// A text whose "{" is not followed by a JSON key (or an empty object), or
// has no matching "}", has no JSON front matter: "{注意}…" is text.
func splitJSON(text string) (raw, body string, line int, ok bool) {
	start := len(text) - len(strings.TrimLeft(text, " \t\r\n\uFEFF"))
	if start == len(text) || text[start] != '{' {
		return "", "", 0, false
	}
	end, ok := JSONEnd(text[start:])
	if !ok {
		return "", "", 0, false
	}
	end += start
	body = text[end:]
	if nl := strings.IndexByte(body, '\n'); nl >= 0 && strings.TrimSpace(body[:nl]) == "" {
		body = body[nl+1:]
	} else {
		body = strings.TrimLeft(body, " \t\r")
	}
	return text[start:end], body, 1 + strings.Count(text[:start], "\n"), true
}

// JSONEnd returns the index just past the "}" that closes the JSON object
// text starts with, when the "{" is followed by a key (or closes at once)
// and has a matching "}": how JSON front matter is found.
func JSONEnd(text string) (int, bool) {
	if text == "" || text[0] != '{' {
		return 0, false
	}
	if next := strings.TrimLeft(text[1:], " \t\r\n"); next == "" || (next[0] != '"' && next[0] != '}') {
		return 0, false
	}
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// jsonFrontMatter decodes JSON front matter found by splitJSON.
func jsonFrontMatter(raw, body string, line int) (FrontMatter, string, error) {
	var decoded any
	if err := json.Unmarshal([]byte(raw), &decoded); err != nil {
		return FrontMatter{}, "", &decodeError{msg: fmt.Sprintf("%v: %s: %s", ErrFrontMatter, JSON, decodeProblem(err, raw, line-1)), err: err}
	}
	return withFields(FrontMatter{Format: JSON, Raw: raw}, decoded, body)
}

// decodeError is front matter that does not decode: a one-line message
// that wraps both ErrFrontMatter and the decoder's error.
type decodeError struct {
	msg string
	err error
}

func (e *decodeError) Error() string   { return e.msg }
func (e *decodeError) Unwrap() []error { return []error{ErrFrontMatter, e.err} }

// maxProblem caps a decoder's message, which may quote the input.
const maxProblem = 200

// lineRE finds the line numbers in the YAML and TOML decoders' messages.
var lineRE = regexp.MustCompile(`\bline (\d+)`)

// decodeProblem turns a front matter decoder's error into one short line:
// no decoder name prefix, line numbers counted in the whole file (offset is
// the number of file lines before data's first line), no newlines.
func decodeProblem(err error, data string, offset int) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		n := min(int(se.Offset), len(data))
		return fmt.Sprintf("line %d: %s", offset+1+strings.Count(data[:n], "\n"), se.Error())
	}
	if line, problem, ok := yamlSyntaxLine(err, data); ok {
		return oneProblem(fmt.Sprintf("line %d: %s", offset+line, problem))
	}
	msg := err.Error()
	for _, prefix := range []string{"yaml: ", "toml: ", "unmarshal errors:"} {
		msg = strings.TrimPrefix(strings.TrimSpace(msg), prefix)
	}
	msg = lineRE.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return "line " + strconv.Itoa(n+offset)
	})
	return oneProblem(msg)
}

// oneProblem joins the lines of a decoder's message and caps its length.
func oneProblem(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	msg = strings.Join(parts, "; ")
	if r := []rune(msg); len(r) > maxProblem {
		msg = string(r[:maxProblem]) + "…"
	}
	return msg
}

// yamlWhereRE matches the start of a yaml.v3 syntax error: the package's
// prefix and the line number, when it gives one.
var yamlWhereRE = regexp.MustCompile(`^yaml: (?:line \d+: )?`)

// yamlSyntaxLine finds the line of data (1-based) on which a yaml.v3 syntax
// error err shows, and the problem without a line. yaml.v3's own number
// cannot be used: for the parser's errors ("did not find expected key",
// such as a title holding an unescaped '"') it counts lines from 0, gives
// the line where the enclosing mapping starts rather than the problem's,
// and gives no line at all for line 0. So it looks for the line itself:
// the fewest whole lines of data that fail with the same problem end on
// it, found by bisection (a syntax error in the first k lines stays in
// every longer prefix), so a front matter of n lines costs log2(n) parses.
// It reports false for other errors (such as a duplicate key, whose line
// is right).
func yamlSyntaxLine(err error, data string) (line int, problem string, ok bool) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0, "", false
	}
	msg := err.Error()
	loc := yamlWhereRE.FindStringIndex(msg)
	if loc == nil {
		return 0, "", false
	}
	problem = msg[loc[1]:]
	ends := []int{} // ends[k-1] is the end of the first k lines
	for end := 0; end < len(data); {
		if nl := strings.IndexByte(data[end:], '\n'); nl >= 0 {
			end += nl + 1
		} else {
			end = len(data)
		}
		ends = append(ends, end)
	}
	fails := func(k int) bool {
		var v any
		e := yaml.Unmarshal([]byte(data[:ends[k-1]]), &v)
		return e != nil && !errors.As(e, &te) && yamlWhereRE.ReplaceAllString(e.Error(), "") == problem
	}
	if len(ends) == 0 || !fails(len(ends)) {
		return 0, "", false
	}
	lo, hi := 1, len(ends) // the answer is in [lo, hi]; fails(hi) holds
	for lo < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, problem, true
}

// firstLineNumber returns the 1-based number of the first non-blank line
// of text.
func firstLineNumber(text string) int {
	n := 1
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		if strings.TrimSpace(line) != "" {
			break
		}
		n++
		text = rest
	}
	return n
}

// firstLine returns the first non-blank line of text, trimmed.
func firstLine(text string) string {
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
		text = rest
	}
	return ""
}

// normalize turns the map[any]any values some decoders produce into
// map[string]any, recursively, so that every key survives and callers see
// one map type.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// ParseFrontMatter reads the front matter at the top of data (UTF-8) alone,
// without parsing the body: NoFrontMatter when there is none.
func ParseFrontMatter(data []byte) (FrontMatter, error) {
	fm, _, err := splitFrontMatter(strings.TrimPrefix(string(data), "\uFEFF"))
	return fm, err
}
