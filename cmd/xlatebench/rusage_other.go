//go:build !unix

package main

import "os"

// maxRSSKB is unknown (0) where rusage is not available.
func maxRSSKB(*os.ProcessState) int64 { return 0 }
