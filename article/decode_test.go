package article

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestDecodeGB18030Corpus re-encodes every corpus file as GB18030: each
// must decode back to its UTF-8 text.
func TestDecodeGB18030Corpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if filepath.Ext(f) == ".golden" || filepath.Base(f) == "plain-gb18030-seed-cnbeta.txt" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(src)
		if err != nil {
			t.Fatalf("%s: encode: %v", f, err)
		}
		got, err := Decode(gb)
		if err != nil {
			t.Errorf("%s as GB18030: %v", filepath.Base(f), err)
			continue
		}
		want, _ := Decode(src)
		if got != want {
			t.Errorf("%s as GB18030 decodes differently", filepath.Base(f))
		}
		n++
	}
	if n < 20 {
		t.Errorf("checked %d corpus files, expected about 24", n)
	}
}

func TestDecodeGB18030Cases(t *testing.T) {
	gb := func(s string) []byte {
		b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, s := range map[string]string{
		"short":                 "中文",
		"replacement character": "乱码\uFFFD在原文里。",
		"pinyin and emoji":      "汉语拼音 zhōngwén，表情 😀。",
		"mostly ascii":          "Run `go test ./...` then read README.md (中文说明).",
		"traditional":           "這個時候我們會來說說國際新聞。今天台北的天氣很好，大家都出去玩了，我們也在公園裡面走了一個下午。",
		"mixed words":           "使用Python和Go语言编写",
	} {
		got, err := Decode(gb(s))
		if err != nil || got != s {
			t.Errorf("%s: Decode = %q, %v; want %q", name, got, err, s)
		}
	}
}

// TestDecodeRejectsNonChinese checks that bytes which happen to decode as
// GB18030 but are not Chinese text are rejected.
func TestDecodeRejectsNonChinese(t *testing.T) {
	latin := map[string]string{
		"french":  "Un café crème et une crème brûlée, s'il vous plaît.",
		"german":  "Grüße aus Zürich: übermäßig schöne Straßen.",
		"spanish": "El señor Núñez visitó España en otoño.",
		"word":    "naïve",
		"quotes":  "He said “hello”s and ‘goodbye’d to the café.",
	}
	for name, s := range latin {
		for _, cm := range []*charmap.Charmap{charmap.ISO8859_1, charmap.Windows1252} {
			b, err := cm.NewEncoder().Bytes([]byte(s))
			if err != nil {
				continue // a character the code page lacks
			}
			if _, err := Decode(b); !errors.Is(err, ErrEncoding) {
				t.Errorf("%s in %v: err = %v, want ErrEncoding", name, cm, err)
			}
		}
	}
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{64, 256, 4096, 1 << 16} {
		for i := 0; i < 50; i++ {
			high := make([]byte, n)   // random high bytes
			hanzi := make([]byte, n)  // random bytes in GB2312's hanzi area
			binary := make([]byte, n) // anything but NUL
			for j := range high {
				high[j] = byte(0x80 + r.Intn(0x80))
				hanzi[j] = byte(0xB0 + r.Intn(0xF7-0xB0+1))
				binary[j] = byte(1 + r.Intn(255))
			}
			if _, err := Decode(high); !errors.Is(err, ErrEncoding) {
				t.Fatalf("%d random high bytes: err = %v, want ErrEncoding", n, err)
			}
			if _, err := Decode(hanzi); !errors.Is(err, ErrEncoding) {
				t.Fatalf("%d random hanzi bytes: err = %v, want ErrEncoding", n, err)
			}
			if _, err := Decode(binary); !errors.Is(err, ErrBinary) {
				t.Fatalf("%d random bytes: err = %v, want ErrBinary", n, err)
			}
		}
	}
}
