package translate

import (
	"fmt"
	"regexp"
	"strings"
)

// URLs in a segment (link and image targets, autolinks) are replaced by
// short placeholders before the text is sent, and put back in the answer.
// The model never sees, so can never mangle, a URL, and the request is
// shorter. A placeholder missing from an answer makes that segment bad.

// urlRE matches the URL of an inline link or image, "](URL)" or
// "](URL "title")", and an autolink "<URL>".
var urlRE = regexp.MustCompile(`\]\(([^)\s]+)((?:\s+"[^"]*")?)\)|<((?:https?|ftp|mailto):[^>\s]+)>`)

// placeholder is the stand-in for the i-th URL of a segment.
func placeholder(i int) string { return fmt.Sprintf("L%d", i+1) }

// mask replaces the URLs of s by placeholders and returns them in order.
func mask(s string) (string, []string) {
	if !strings.Contains(s, "](") && !strings.Contains(s, ":") {
		return s, nil // neither a link nor an autolink: most paragraphs
	}
	var urls []string
	out := urlRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlRE.FindStringSubmatch(m)
		if sub[3] != "" {
			urls = append(urls, sub[3])
			return "<" + placeholder(len(urls)-1) + ">"
		}
		urls = append(urls, sub[1])
		return "](" + placeholder(len(urls)-1) + sub[2] + ")"
	})
	return out, urls
}

// unmask puts the URLs back into a translation of a masked text. It fails
// when a placeholder is missing or repeated.
func unmask(s string, urls []string) (string, error) {
	for i := range urls {
		p := placeholder(i)
		n := strings.Count(s, "]("+p+")") + strings.Count(s, "]("+p+" ") + strings.Count(s, "<"+p+">")
		if n != 1 {
			return "", fmt.Errorf("link %s appears %d times, want once", p, n)
		}
	}
	for i := len(urls) - 1; i >= 0; i-- { // L10 before L1
		p := placeholder(i)
		s = strings.Replace(s, "]("+p+")", "]("+urls[i]+")", 1)
		s = strings.Replace(s, "]("+p+" ", "]("+urls[i]+" ", 1)
		s = strings.Replace(s, "<"+p+">", "<"+urls[i]+">", 1)
	}
	return s, nil
}

// placeholderRE finds the placeholders of a masked text.
var placeholderRE = regexp.MustCompile(`\]\((L[0-9]+)[ )]|<(L[0-9]+)>`)

// keepsLinks reports whether out has every placeholder of the masked source
// src exactly as often as src does.
func keepsLinks(src, out string) bool {
	want := map[string]int{}
	for _, m := range placeholderRE.FindAllStringSubmatch(src, -1) {
		want[m[1]+m[2]]++
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(out, -1) {
		want[m[1]+m[2]]--
	}
	for _, n := range want {
		if n != 0 {
			return false
		}
	}
	return true
}
