package cli

import (
	"math"
	"testing"
	"time"
)

// burstyRun is a synthetic run of 60 files: in each 40 s, a long article
// holds every slot for 30 s while nothing finishes, then 6 files finish
// over 10 s. It returns the files finished at t.
func burstyRun(t time.Duration) float64 {
	cycle, sec := 40*time.Second, t.Seconds()
	n := math.Floor(t.Seconds() / cycle.Seconds())
	in := sec - n*cycle.Seconds()
	done := 6 * n
	if in > 30 {
		done += math.Floor((in - 30) * 0.6)
	}
	return math.Min(done, 60)
}

// TestETASmooth feeds the estimator the bursty run, four times a second as
// the progress line does, and checks that the ETA it shows neither jumps
// (beyond counting down with the clock) nor strays far from the truth once
// a quarter of the run is done (until three quarters). The estimate a plain done/elapsed ratio
// gives fails the jump check on the same run.
func TestETASmooth(t *testing.T) {
	const total = 60.0
	end := 400 * time.Second // the last burst ends at 10*40s
	check := func(name string, observe func(now time.Time, done float64) time.Duration, wantSmooth bool) {
		t0 := time.Unix(0, 0)
		var prev time.Duration = -1
		jumps, worst := 0, 0.0
		for tt := time.Duration(0); tt < end-10*time.Second; tt += 250 * time.Millisecond {
			done := burstyRun(tt)
			shown := observe(t0.Add(tt), done)
			if shown >= 0 && prev >= 0 {
				// Beyond the countdown, per second, relative to the value.
				change := math.Abs(float64(shown-(prev-250*time.Millisecond))) / float64(prev) * 4
				if change > 0.10 {
					jumps++
				}
			}
			if shown >= 0 && done >= total/4 && done <= 3*total/4 {
				truth := (end - tt).Seconds()
				worst = math.Max(worst, math.Abs(shown.Seconds()-truth)/truth)
			}
			prev = shown
		}
		t.Logf("%s: %d jumps of over 10%%/s; worst error %.0f%% between a quarter and three quarters done", name, jumps, 100*worst)
		if wantSmooth && (jumps > 0 || worst > 0.45) {
			t.Errorf("%s: %d jumps of over 10%%/s; worst error %.0f%% after a quarter", name, jumps, 100*worst)
		}
		if !wantSmooth && jumps == 0 {
			t.Errorf("%s: no jump found: the check cannot fail", name)
		}
	}
	var e etaEstimator
	check("estimator", func(now time.Time, done float64) time.Duration { return e.observe(now, done, total) }, true)
	start := time.Unix(0, 0)
	check("done/elapsed", func(now time.Time, done float64) time.Duration {
		if done < 3 {
			return -1
		}
		return time.Duration(float64(now.Sub(start)) * (total - done) / done)
	}, false)
}
