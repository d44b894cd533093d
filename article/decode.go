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

// ErrBinary reports input that is not text at all (NUL bytes or mostly
// control characters). Errors returned by [Decode] and [Parse] wrap it.
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
// order mark, and GB18030 (a superset of GBK and GB2312). Input that is
// not valid UTF-8 is taken as GB18030 only if it decodes without
// replacement characters into mostly CJK and ASCII text; otherwise the
// error wraps [ErrEncoding]. Input with NUL bytes or mostly control
// characters is rejected with an error wrapping [ErrBinary]. CRLF and lone
// CR line endings become LF.
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
	default:
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || bytes.ContainsRune(out, utf8.RuneError) || !mostlyChinese(out) {
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

// mostlyChinese reports whether at least 90% of the runes of b (UTF-8)
// are ASCII, CJK or the punctuation and symbols that Chinese text uses.
// It tells a real GB18030 file from arbitrary bytes that happen to decode.
func mostlyChinese(b []byte) bool {
	total, good := 0, 0
	for _, r := range string(b) {
		total++
		if chineseish(r) {
			good++
		}
	}
	return total == 0 || good*10 >= total*9
}

func chineseish(r rune) bool {
	switch {
	case r < 0x80:
		return true
	case unicode.Is(unicode.Han, r):
		return true
	case r == 0xB7, r == 0xD7, r == 0xF7, r == 0xB0, r == 0xB1:
		return true
	case r >= 0x0391 && r <= 0x03C9, // Greek
		r >= 0x0401 && r <= 0x0451, // Cyrillic
		r >= 0x2000 && r <= 0x27BF, // punctuation, symbols, arrows, box drawing, dingbats
		r >= 0x2E80 && r <= 0x33FF, // CJK radicals, punctuation, kana, bopomofo, enclosed
		r >= 0xAC00 && r <= 0xD7A3, // Hangul
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFFEF: // fullwidth forms
		return true
	}
	return false
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
