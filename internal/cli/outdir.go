package cli

import "github.com/xlate/xlate/pipeline"

// checkOutputDir fails a run whose output directory cannot be written
// before it makes any request (a dry run writes nothing: no check).
func checkOutputDir(o options, jobs []pipeline.Job) error {
	if o.dryRun {
		return nil
	}
	if err := pipeline.CheckOutputDir(jobs); err != nil {
		return setupError{err}
	}
	return nil
}
