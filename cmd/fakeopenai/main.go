// Command fakeopenai serves xlate's fake OpenAI-compatible server
// (internal/fakeopenai) on a fixed address, for demos and benchmarks. It
// prints the base URL to use as the client's base URL and serves until
// interrupted.
//
//	fakeopenai -addr 127.0.0.1:8089 -ttft 300ms -tps 40
//	fakeopenai -rpm 600 -tpm 200000      # OpenAI-style rate limits, 429s beyond them
//
// On exit it reports on stderr how many requests it served and how many of
// them it answered with 429.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/xlate/xlate/internal/fakeopenai"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakeopenai", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on")
	ttft := fs.Duration("ttft", 0, "time to first streamed token")
	tps := fs.Float64("tps", 0, "streamed tokens per second (0 = unpaced)")
	latency := fs.Duration("latency", 0, "delay before every answer")
	key := fs.String("key", "", "API key to require (empty = none)")
	model := fs.String("model", fakeopenai.DefaultModel, "model to list and accept (empty = accept any)")
	rpm := fs.Int("rpm", 0, "rate limit in requests per minute (0 = none)")
	tpm := fs.Int("tpm", 0, "rate limit in tokens per minute, prompt plus answer (0 = none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rpm < 0 || *tpm < 0 {
		fmt.Fprintln(stderr, "fakeopenai: -rpm and -tpm must not be negative")
		return 2
	}
	opts := fakeopenai.Options{
		Addr: *addr, APIKey: *key, Model: *model,
		TTFT: *ttft, TokensPerSecond: *tps, Latency: *latency,
		RPM: *rpm, TPM: *tpm,
	}
	if *model != "" {
		opts.Models = []string{*model}
	}
	s, err := fakeopenai.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "fakeopenai: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintln(stdout, s.URL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintf(stderr, "fakeopenai: served %d requests, %d answered 429\n", s.Count(), s.RateLimited())
	return 0
}
