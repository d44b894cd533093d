package translate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/xlate/xlate/article"
)

// URLs in a segment (link and image targets, autolinks) and its code spans
// are replaced by short placeholders before the text is sent, and put back
// in the answer. The model never sees, so can never mangle, a URL or code:
// a code span is kept verbatim, Chinese in it included (it is what a reader
// types or sees on screen), and the request is shorter. A placeholder
// missing from an answer makes that segment bad.
//
// The i-th masked item (counted from 0 over URLs and code spans alike) is
// "L<i+1>" for a URL and "`C<i+1>`" for a code span; the returned slice
// holds each item's original text, a code span with its backticks.

// urlRE matches the URL of an inline link or image, "](URL)" or
// "](URL "title")", and an autolink "<URL>".
var urlRE = regexp.MustCompile(`\]\(([^)\s]+)((?:\s+"[^"]*")?)\)|<((?:https?|ftp|mailto):[^>\s]+)>`)

// placeholder is the stand-in for the i-th masked URL of a segment.
func placeholder(i int) string { return fmt.Sprintf("L%d", i+1) }

// codePlaceholder is the stand-in for the i-th masked item, a code span.
func codePlaceholder(i int) string { return fmt.Sprintf("`C%d`", i+1) }

// isCode reports whether a masked item is a code span.
func isCode(item string) bool { return strings.HasPrefix(item, "`") }

// mask replaces the URLs and code spans of s by placeholders and returns
// them in order.
func mask(s string) (string, []string) {
	if !strings.Contains(s, "](") && !strings.Contains(s, ":") && !strings.Contains(s, "`") {
		return s, nil // no link, autolink or code: most paragraphs
	}
	var items []string
	s = maskCode(s, &items)
	out := urlRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlRE.FindStringSubmatch(m)
		if sub[3] != "" {
			items = append(items, sub[3])
			return "<" + placeholder(len(items)-1) + ">"
		}
		items = append(items, sub[1])
		return "](" + placeholder(len(items)-1) + sub[2] + ")"
	})
	return out, items
}

// maskCode replaces the code spans of s (a run of n backticks up to the
// next run of exactly n; an unmatched run is text, and a backslash-escaped
// backtick opens nothing) by placeholders, appending them to items.
func maskCode(s string, items *[]string) string {
	if !strings.Contains(s, "`") {
		return s
	}
	var b strings.Builder
	bs := 0 // backslashes right before i
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '`' && bs%2 == 0 {
			end, ok := article.CodeSpan(s, i)
			if ok {
				*items = append(*items, s[i:end])
				b.WriteString(codePlaceholder(len(*items) - 1))
			} else {
				b.WriteString(s[i:end])
			}
			i = end - 1
			bs = 0
			continue
		}
		b.WriteByte(c)
		if c == '\\' {
			bs++
		} else {
			bs = 0
		}
	}
	return b.String()
}

// unmask puts the URLs and code spans back into a translation of a masked
// text. It fails when a placeholder is missing or repeated.
func unmask(s string, items []string) (string, error) {
	for i, it := range items {
		n := 0
		if isCode(it) {
			n = strings.Count(s, codePlaceholder(i))
		} else {
			p := placeholder(i)
			n = strings.Count(s, "]("+p+")") + strings.Count(s, "]("+p+" ") + strings.Count(s, "<"+p+">")
		}
		if n != 1 {
			what := "link " + placeholder(i)
			if isCode(it) {
				what = "code " + codePlaceholder(i)
			}
			return "", fmt.Errorf("%s appears %d times, want once", what, n)
		}
	}
	for i := len(items) - 1; i >= 0; i-- { // L10 before L1
		if isCode(items[i]) {
			s = strings.Replace(s, codePlaceholder(i), items[i], 1)
			continue
		}
		p := placeholder(i)
		s = strings.Replace(s, "]("+p+")", "]("+items[i]+")", 1)
		s = strings.Replace(s, "]("+p+" ", "]("+items[i]+" ", 1)
		s = strings.Replace(s, "<"+p+">", "<"+items[i]+">", 1)
	}
	return s, nil
}

// placeholderRE finds the placeholders of a masked text.
var placeholderRE = regexp.MustCompile(`\]\((L[0-9]+)[ )]|<(L[0-9]+)>|` + "`(C[0-9]+)`")

// keepsLinks reports whether out has every placeholder of the masked source
// src exactly as often as src does.
func keepsLinks(src, out string) bool {
	want := map[string]int{}
	for _, m := range placeholderRE.FindAllStringSubmatch(src, -1) {
		want[m[1]+m[2]+m[3]]++
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(out, -1) {
		want[m[1]+m[2]+m[3]]--
	}
	for _, n := range want {
		if n != 0 {
			return false
		}
	}
	return true
}

// MissingLinks returns the link targets (URLs of links, images and
// autolinks) of source that text lacks: a person's translation is not
// checked as a model's is, but must keep the links.
func MissingLinks(source, text string) []string {
	_, want := mask(source)
	_, got := mask(text)
	have := map[string]int{}
	for _, u := range got {
		if !isCode(u) {
			have[u]++
		}
	}
	var missing []string
	for _, u := range want {
		if isCode(u) {
			continue
		}
		if have[u] > 0 {
			have[u]--
			continue
		}
		missing = append(missing, u)
	}
	return missing
}
