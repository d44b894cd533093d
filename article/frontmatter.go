package article

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/adrg/frontmatter"
	"gopkg.in/yaml.v3"
)

// ErrFrontMatter reports front matter that is unterminated or does not
// decode. Errors returned by [Parse] for bad front matter wrap it.
var ErrFrontMatter = errors.New("front matter")

// splitFrontMatter separates the front matter at the top of text from the
// body. Without front matter it returns a zero FrontMatter and text as is.
//
// YAML sits between "---" lines, TOML between "+++" lines and JSON is an
// object whose opening "{" and closing "}" stand on lines of their own,
// followed by a blank line or the end of the input (the conventions of
// github.com/adrg/frontmatter, which also accepts "---yaml", "---toml",
// "---json" and ";;;" openers). An opening "---" or "+++" without its
// closing line is an error; a "{" line without a closing one is taken as
// body text.
func splitFrontMatter(text string) (FrontMatter, string, error) {
	first := firstLine(text)
	var opener Format
	switch first {
	case "---", "---yaml":
		opener = YAML
	case "+++", "---toml":
		opener = TOML
	case "{", ";;;", "---json":
		opener = JSON
	default:
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
		{Start: "{", End: "}", Unmarshal: jsonU, UnmarshalDelims: true, RequiresNewLine: true},
	}
	var sink any
	body, err := frontmatter.Parse(strings.NewReader(text), &sink, formats...)
	if err != nil {
		return FrontMatter{}, "", fmt.Errorf("%w: %s: %w", ErrFrontMatter, opener, err)
	}
	if !found {
		if opener == JSON && first == "{" {
			return FrontMatter{}, text, nil
		}
		return FrontMatter{}, "", fmt.Errorf("unterminated %w", ErrFrontMatter)
	}
	fm.Fields = map[string]any{}
	switch m := normalize(decoded).(type) {
	case map[string]any:
		fm.Fields = m
	case nil:
	default:
		return FrontMatter{}, "", fmt.Errorf("%w: %s: not a mapping of keys to values", ErrFrontMatter, fm.Format)
	}
	return fm, string(body), nil
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
