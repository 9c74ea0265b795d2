package shuffle

import (
	"fmt"
	"os"
	"path/filepath"
)

// RemoveStage deletes the shuffle files of one stage of job under root
// (a finished job keeps only its final stage's files until the client
// has read them). A stage with no files is not an error.
func RemoveStage(root, job string, stage int) error {
	if err := ValidateJobID(job); err != nil {
		return err
	}
	if stage < 0 {
		return fmt.Errorf("shuffle: stage %d", stage)
	}
	dir := filepath.Dir(TaskDir(root, job, stage, 0))
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("shuffle: remove job %s stage %d: %w", job, stage, err)
	}
	return nil
}
