//go:build ignore

// vllmrun answers batch input files (requests-NNN.jsonl) as vLLM's
// run_batch would, with the fake model of internal/fakeopenai, and writes
// the output lines to stdout. make.sh runs it at commit 912dfa5.
//
//	go run ./testdata/oldstate/vllmrun.go JOB/requests-001.jsonl ... > results.jsonl
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func main() {
	// A fixed clock: the answers' "created" stamps do not change between runs.
	opts := fakeopenai.Options{Now: func() time.Time { return time.Unix(1700000000, 0).UTC() }}
	for _, f := range os.Args[1:] {
		in, err := os.ReadFile(f)
		if err == nil {
			var out []byte
			if out, err = fakeopenai.VLLMRunBatch(in, opts); err == nil {
				_, err = os.Stdout.Write(out)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vllmrun:", err)
			os.Exit(1)
		}
	}
}
