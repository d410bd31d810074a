//go:build !unix

package bench

import "time"

// cpuTime is unknown where getrusage does not exist; the benchmark then
// reports no CPU figure.
func cpuTime() time.Duration { return 0 }

// maxRSS is unknown where getrusage does not exist.
func maxRSS() int64 { return 0 }
