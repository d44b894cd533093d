package fakeopenai

import (
	"slices"
	"strings"
	"unicode"
)

// damage applies the quiet-damage faults of f (see [Fault]) to out, the
// translations of segs: every tag stays right, one segment's text is wrong.
// LeaveChinese with DamageableSegment is resolved here; breakSegments applies
// it.
func damage(segs, out []Segment, f Fault) {
	find := func(id string, ok func(i int) bool) int {
		switch id {
		case "":
			return -1
		case DamageableSegment:
			for i := range segs {
				if ok(i) {
					return i
				}
			}
			return -1
		case FirstSegment:
			if len(segs) == 0 {
				return -1
			}
			return 0
		}
		return slices.IndexFunc(segs, func(s Segment) bool { return s.ID == id })
	}
	if f.LeaveChinese == DamageableSegment {
		best, share := -1, 2.0
		for i, s := range segs {
			han, all := hanShare(s.Text)
			if han == 0 {
				continue
			}
			if x := float64(han) / float64(all); x < share {
				best, share = i, x
			}
		}
		if best >= 0 {
			out[best].Text = segs[best].Text
		}
	}
	if i := find(f.FirstSentence, func(i int) bool {
		first, ok := firstSentence(out[i].Text)
		return ok && hanCount(segs[i].Text) >= MinDamageHan && 2*len([]rune(first)) <= len([]rune(out[i].Text))
	}); i >= 0 {
		if first, ok := firstSentence(out[i].Text); ok {
			out[i].Text = first
		}
	}
	if i := find(f.OneWord, func(i int) bool {
		return hanCount(segs[i].Text) >= MinDamageHan && len(strings.Fields(out[i].Text)) >= 3
	}); i >= 0 {
		if w := strings.Fields(out[i].Text); len(w) > 0 {
			out[i].Text = w[0]
		}
	}
	if i := find(f.MergeLines, func(i int) bool { return strings.Contains(out[i].Text, "\n") }); i >= 0 {
		out[i].Text = strings.ReplaceAll(out[i].Text, "\n", " ")
	}
	if i := find(f.NestedTag, func(int) bool { return true }); i >= 0 {
		out[i].Text = out[i].Text + "\n<seg id=\"" + out[i].ID + "\">" + out[i].Text
	}
	if f.Obey != "" && slices.ContainsFunc(segs, func(s Segment) bool { return hanCount(s.Text) >= MinDamageHan }) {
		for i := range out {
			out[i].Text = f.Obey
		}
	}
}

// firstSentence returns the first sentence of an English-like text: up to
// the first . ! or ? (and the closing quotes or brackets after it) that a
// space and more text follow. ok is false for a text of one sentence.
func firstSentence(s string) (first string, ok bool) {
	rs := []rune(s)
	for i, r := range rs {
		if !strings.ContainsRune(".!?", r) {
			continue
		}
		j := i + 1
		for j < len(rs) && strings.ContainsRune(`"')]*`, rs[j]) {
			j++
		}
		if j < len(rs) && rs[j] == ' ' && strings.TrimSpace(string(rs[j:])) != "" {
			return string(rs[:j]), true
		}
	}
	return s, false
}

// hanCount counts the Han characters of s.
func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

// hanShare counts the Han characters of s outside code spans, and all its
// letters and digits there.
func hanShare(s string) (han, all int) {
	inCode := false
	for _, r := range s {
		if r == '`' {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		if unicode.Is(unicode.Han, r) {
			han++
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			all++
		}
	}
	return han, all
}
