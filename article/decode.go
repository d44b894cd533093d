package article

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

// ErrBinary reports input that is not text at all (NUL bytes or control
// characters). Errors returned by [Decode] and [Parse] wrap it.
var ErrBinary = errors.New("binary file")

// ErrEncoding reports input that is neither UTF-8 nor GB18030 text.
var ErrEncoding = errors.New("not valid UTF-8 or GB18030 text")

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Decode turns raw input bytes into text with LF line endings.
//
// It accepts UTF-8 with or without a byte order mark, UTF-16 with a byte
// order mark, and GB18030 (a superset of GBK and GB2312). Input that is not
// valid UTF-8 is taken as GB18030 only if it looks like Chinese text in
// that encoding (see [plausibleGB18030]); otherwise the error wraps
// [ErrEncoding]. Input with NUL bytes, with mostly control characters, or
// invalid UTF-8 with more than a few control bytes is rejected with an
// error wrapping [ErrBinary]. CRLF and lone CR line endings become LF.
func Decode(data []byte) (string, error) {
	var text string
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
		if !utf8.Valid(data) {
			return "", ErrEncoding
		}
		text = string(data)
	case bytes.HasPrefix(data, bomUTF16LE), bytes.HasPrefix(data, bomUTF16BE):
		dec := xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
			return "", ErrEncoding
		}
		text = string(out)
	case bytes.IndexByte(data, 0) >= 0:
		return "", fmt.Errorf("%w (NUL bytes)", ErrBinary)
	case utf8.Valid(data):
		text = string(data)
	case controlBytes(data)*100 > len(data):
		// Not text in any encoding: text files hold no C0 control bytes
		// beyond tab, line breaks and the odd escape.
		return "", fmt.Errorf("%w (control characters)", ErrBinary)
	default:
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !plausibleGB18030(data, out) {
			return "", ErrEncoding
		}
		text = string(out)
	}
	if strings.IndexByte(text, 0) >= 0 {
		return "", fmt.Errorf("%w (NUL bytes)", ErrBinary)
	}
	if mostlyControl(text) {
		return "", fmt.Errorf("%w (control characters)", ErrBinary)
	}
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text, nil
}

// plausibleGB18030 tells real Chinese text in GB18030 from other bytes that
// happen to decode: Latin-1 or Windows-1252 text (most of whose accented
// letters pair up with the next ASCII byte into a valid double-byte
// character) and random high bytes. raw is the input, text its decoding.
// All of these must hold:
//
//   - The decoding has no replacement characters.
//   - At least 90% of the non-ASCII characters are ones Chinese text uses:
//     CJK ideographs, CJK and fullwidth punctuation, common symbols, pinyin
//     and emoji (not private-use or unassigned code points).
//   - At most a quarter of the multi-byte characters stand alone between
//     two ASCII letters, as "ü" does in a Latin-1 "Zürich": Chinese text
//     comes in runs of characters.
//   - At least a third of the multi-byte characters are GB2312 symbols or
//     level 1 hanzi (the 3755 most common characters, over 99% of
//     simplified Chinese text and most of traditional text in GBK;
//     arbitrary bytes hit them a fifth of the time), and at most 10% (or
//     2) are GB2312 level 2 hanzi, the rare ones.
func plausibleGB18030(raw, text []byte) bool {
	// U+FFFD marks bytes that did not decode, unless the input encodes it
	// (as 0x84 0x31 0xA4 0x37).
	if bytes.Count(text, []byte(string(utf8.RuneError))) != bytes.Count(raw, []byte{0x84, 0x31, 0xA4, 0x37}) {
		return false
	}
	var nonASCII, good int
	for _, r := range string(text) {
		if r >= utf8.RuneSelf && r != utf8.RuneError {
			nonASCII++
			if chineseish(r) {
				good++
			}
		}
	}
	if good*10 < nonASCII*9 {
		return false
	}
	var multi, alone, common, level2 int
	for i := 0; i < len(raw); {
		b := raw[i]
		if b < utf8.RuneSelf {
			i++
			continue
		}
		n := 2
		var trail byte
		if i+1 < len(raw) {
			trail = raw[i+1]
		}
		switch {
		case trail >= '0' && trail <= '9':
			n = 4
		case trail >= 0xA1 && (b >= 0xA1 && b <= 0xA9 || b >= 0xB0 && b <= 0xD7):
			common++ // GB2312 symbols and level 1 hanzi
		case trail >= 0xA1 && b >= 0xD8 && b <= 0xF7:
			level2++
		}
		multi++
		if i > 0 && i+n < len(raw) && isASCIILetter(raw[i-1]) && isASCIILetter(raw[i+n]) {
			alone++
		}
		i += n
	}
	return alone*4 <= multi && common*3 >= multi && (level2 < 3 || level2*10 <= multi)
}

func isASCIILetter(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// chineseish reports whether a non-ASCII rune is one that Chinese text
// uses.
func chineseish(r rune) bool {
	switch {
	case unicode.Is(unicode.Han, r):
		return true
	case r >= 0x00A0 && r <= 0x024F, // Latin-1 supplement, Latin extended (pinyin)
		r >= 0x02C7 && r <= 0x02DD,   // tone marks
		r >= 0x0391 && r <= 0x03C9,   // Greek
		r >= 0x0401 && r <= 0x0451,   // Cyrillic
		r >= 0x1E00 && r <= 0x1EFF,   // Latin extended additional (pinyin)
		r >= 0x2000 && r <= 0x27BF,   // punctuation, symbols, arrows, box drawing, dingbats
		r >= 0x2E80 && r <= 0x33FF,   // CJK radicals, punctuation, kana, bopomofo, enclosed
		r >= 0xAC00 && r <= 0xD7A3,   // Hangul
		r >= 0xFE30 && r <= 0xFE4F,   // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFFEF,   // fullwidth forms
		r >= 0x1F300 && r <= 0x1FAFF: // emoji
		return true
	}
	return false
}

// controlBytes counts the C0 control bytes of data other than tab, line
// breaks, form feed and escape.
func controlBytes(data []byte) int {
	n := 0
	for _, b := range data {
		if (b < 0x20 || b == 0x7F) && !isTextControl(rune(b)) {
			n++
		}
	}
	return n
}

func isTextControl(r rune) bool {
	return r == '\n' || r == '\r' || r == '\t' || r == '\f' || r == '\v' || r == 0x1B
}

// mostlyControl reports whether more than 10% of the runes of s are
// control characters other than ordinary whitespace.
func mostlyControl(s string) bool {
	total, ctrl := 0, 0
	for _, r := range s {
		total++
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' && r != '\f' && r != '\v' {
			ctrl++
		}
	}
	return ctrl*10 > total
}
