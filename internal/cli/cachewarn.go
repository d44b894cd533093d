package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"

	"github.com/xlate/xlate/cache"
)

// warnStore is the run's cache: a cache.Store that says so, once, when the
// cache cannot be written (a full disk, a shard that is not a directory).
// The run goes on, uncached: Put's callers drop its errors, which would
// otherwise go unnoticed.
type warnStore struct {
	cache.Store
	dir  string
	once sync.Once
	// warn prints a line; nil until the run's error lines are set up, and
	// then no Put happens before it is set.
	warn func(format string, args ...any)
}

func (w *warnStore) Put(key string, val []byte) error {
	err := w.Store.Put(key, val)
	if err == nil || w.warn == nil {
		return err
	}
	var pe *fs.PathError
	var le *os.LinkError
	cause := error(nil)
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	default:
		return err // not the disk's fault: a bad key or an oversized value
	}
	w.once.Do(func() {
		w.warn("warning: cache %s: cannot write (%v): translations are not being cached", w.dir, cause)
	})
	return err
}

// warnCacheWrites makes the run's cache (from openStore) warn through
// errorf when it cannot be written.
func warnCacheWrites(store cache.Store, errorf func(format string, args ...any)) {
	if w, ok := store.(*warnStore); ok {
		w.warn = errorf
	}
}

// Claim and WaitClaim pass cross-process claims (cache.Claimer) through to
// the directory.
func (w *warnStore) Claim(key string) (func(), bool) {
	if c, ok := w.Store.(cache.Claimer); ok {
		return c.Claim(key)
	}
	return func() {}, true
}

func (w *warnStore) WaitClaim(ctx context.Context, key string) (bool, error) {
	if c, ok := w.Store.(cache.Claimer); ok {
		return c.WaitClaim(ctx, key)
	}
	return false, nil
}
