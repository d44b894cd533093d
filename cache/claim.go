package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Claims let processes that share a cache directory (two runs over one
// tree at once: cron overlap, two terminals) ask for each entry once. A
// process about to request the value of a key claims it: a file under
// claims/ in the cache directory, made with O_EXCL, that the owner touches
// every ClaimTTL/4 while its request is alive and removes once the entry
// is written (or the request failed). Another process that finds a live
// claim waits for the entry instead of paying for it again. A claim not
// touched for ClaimTTL belongs to a process that died: it is taken over.
const (
	ClaimTTL  = 30 * time.Second
	claimsDir = "claims"
)

// claimRefresh is how often held claims are touched (a var for tests).
var claimRefresh = ClaimTTL / 4

// Claimer is a Store whose keys can be claimed across processes. Stores
// that cannot (Nop, memory stores) need not implement it.
type Claimer interface {
	// Claim claims key for this process. It reports false when another
	// live process holds it; then WaitClaim waits for its entry. release
	// gives the claim up (after the entry is written, or the request
	// failed).
	Claim(key string) (release func(), ok bool)
	// WaitClaim waits until key's entry exists (true) or its claim is gone
	// or stale without one (false: claim it and request it yourself).
	WaitClaim(ctx context.Context, key string) (bool, error)
}

var _ Claimer = (*Dir)(nil)

// claimPoll is how often WaitClaim looks.
var claimPoll = 100 * time.Millisecond

// claims are the claims this process holds in one cache directory, touched
// together by one goroutine.
type claims struct {
	mu   sync.Mutex
	held map[string]int // path -> holders in this process
	stop chan struct{}
}

var heldClaims sync.Map // cache path -> *claims

func (d *Dir) claimPath(key string) string { return filepath.Join(d.path, claimsDir, key) }

// Claim implements Claimer. An invalid key, or a claims directory that
// cannot be made, claims nothing and reports true: the caller requests it
// as it would without claims.
func (d *Dir) Claim(key string) (func(), bool) {
	if !validKey(key) {
		return func() {}, true
	}
	path := d.claimPath(key)
	for try := 0; try < 2; try++ {
		err := createWith(path, fmt.Sprintf("%d %s\n", os.Getpid(), hostname()))
		if errors.Is(err, fs.ErrNotExist) {
			if os.MkdirAll(filepath.Dir(path), 0o700) != nil {
				return func() {}, true
			}
			continue
		}
		if errors.Is(err, fs.ErrExist) {
			if !claimStale(path) {
				return nil, false
			}
			os.Remove(path) // its owner died; take it over
			continue
		}
		if err != nil {
			return func() {}, true
		}
		return d.hold(path), true
	}
	return func() {}, true
}

// createWith creates the file path holding content, failing with
// fs.ErrExist if it exists. The file appears with its content whole (a
// hard link to a finished temporary file), so that a process killed while
// claiming never leaves a claim without its owner, which others would
// wait ClaimTTL for; where links are not supported, it is created and then
// written.
func createWith(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".new-claim-*")
	if err == nil {
		_, err = tmp.WriteString(content)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(tmp.Name(), path)
		}
		os.Remove(tmp.Name())
		if err == nil || errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// claimStale reports whether the claim at path is no one's: vanished, not
// touched for ClaimTTL, or made on this machine by a process that is gone
// (killed, so a run resumed right after kill -9 does not wait ClaimTTL).
func claimStale(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) > ClaimTTL {
		return true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	var pid int
	var host string
	n, _ := fmt.Sscanf(string(b), "%d %s", &pid, &host)
	switch {
	case n == 2 && host == hostname() && pid != os.Getpid():
		return processGone(pid)
	case n != 2 && time.Since(fi.ModTime()) > 2*time.Second:
		// A claim appears whole (createWith): this one is torn, or was
		// made by an older xlate killed between creating and writing it.
		return true
	}
	return false
}

// hostname names this machine in claims ("-" when unknown).
var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \n") {
		return "-"
	}
	return h
})

// hold registers a claim this process made, so that it is touched until
// released, and returns its release.
func (d *Dir) hold(path string) func() {
	v, _ := heldClaims.LoadOrStore(d.path, &claims{held: map[string]int{}})
	c := v.(*claims)
	c.mu.Lock()
	c.held[path]++
	if c.stop == nil {
		c.stop = make(chan struct{})
		go c.refresh(c.stop, claimRefresh)
	}
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.held[path]--; c.held[path] <= 0 {
				delete(c.held, path)
				os.Remove(path)
			}
			if len(c.held) == 0 && c.stop != nil {
				close(c.stop)
				c.stop = nil
			}
		})
	}
}

// refresh touches every held claim each claimRefresh until stop closes.
func (c *claims) refresh(stop chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			now := time.Now()
			c.mu.Lock()
			for path := range c.held {
				_ = os.Chtimes(path, now, now)
			}
			c.mu.Unlock()
		}
	}
}

// WaitClaim implements Claimer.
func (d *Dir) WaitClaim(ctx context.Context, key string) (bool, error) {
	t := time.NewTicker(claimPoll)
	defer t.Stop()
	for {
		if _, ok := d.Get(key); ok {
			return true, nil
		}
		if claimStale(d.claimPath(key)) {
			// Released or dead: one more look, as the entry is written
			// before the claim goes.
			_, ok := d.Get(key)
			return ok, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// pruneClaims removes the claims of dead processes.
func (d *Dir) pruneClaims() {
	des, err := os.ReadDir(filepath.Join(d.path, claimsDir))
	if err != nil {
		return
	}
	for _, de := range des {
		path := filepath.Join(d.path, claimsDir, de.Name())
		if de.Type().IsRegular() && claimStale(path) {
			os.Remove(path)
		}
	}
}
