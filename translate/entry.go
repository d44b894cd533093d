package translate

import (
	"bytes"
	"strconv"
)

// A cached translation is stored with its source's token count, so that a
// warm run (and a dry run) never has to count the source again: BPE counting
// is most of the work of a run served from the cache.
//
//	T<tokens>\n<translation>

func encodeEntry(tokens int, text string) []byte {
	return append([]byte("T"+strconv.Itoa(tokens)+"\n"), text...)
}

// decodeEntry reads an entry; ok is false for anything else (an entry of
// another format is a miss).
func decodeEntry(v []byte) (text string, tokens int, ok bool) {
	nl := bytes.IndexByte(v, '\n')
	if len(v) < 3 || v[0] != 'T' || nl < 2 {
		return "", 0, false
	}
	n, err := strconv.Atoi(string(v[1:nl]))
	if err != nil || n < 0 {
		return "", 0, false
	}
	text = string(v[nl+1:])
	return text, n, text != ""
}
