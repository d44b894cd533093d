//go:build !unix

package cache

// processGone cannot tell here: a claim is stale only by its age.
func processGone(int) bool { return false }
