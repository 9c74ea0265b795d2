package shuffle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Shuffle files live under an executor's shuffle root as
//
//	<root>/<job>/stage-<stage>/map-<map>/part-<partition>.arrow
//
// one Arrow IPC stream file per output partition of a map task. TaskDir is
// the directory given to Write; the Flight service resolves tickets with
// the same functions, so the two always agree.

// maxJobIDLen is the longest job id accepted in paths and tickets.
const maxJobIDLen = 64

// ValidateJobID reports whether job can name a directory under the shuffle
// root: 1 to 64 characters of [A-Za-z0-9_-]. Anything else (dots, slashes,
// empty) is rejected, so a job id can never escape the root.
func ValidateJobID(job string) error {
	if len(job) == 0 || len(job) > maxJobIDLen {
		return fmt.Errorf("shuffle: job id %q must have 1 to %d characters", job, maxJobIDLen)
	}
	for i := 0; i < len(job); i++ {
		c := job[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("shuffle: job id %q has character %q outside [A-Za-z0-9_-]", job, c)
		}
	}
	return nil
}

// TaskDir is the directory of map task mapPartition of stage in job under
// root: the dir an executor passes to Write, and where the Flight service
// looks for a ticket's file. Callers validate job with ValidateJobID.
func TaskDir(root, job string, stage, mapPartition int) string {
	return filepath.Join(root, job, "stage-"+strconv.Itoa(stage), "map-"+strconv.Itoa(mapPartition))
}

// PartitionPath is the file of output partition p inside a task directory.
func PartitionPath(taskDir string, p int) string {
	return filepath.Join(taskDir, "part-"+strconv.Itoa(p)+".arrow")
}

// RemoveJob deletes every shuffle file of job under root. A job with no
// files is not an error.
func RemoveJob(root, job string) error {
	if err := ValidateJobID(job); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(root, job)); err != nil {
		return fmt.Errorf("shuffle: remove job %s: %w", job, err)
	}
	return nil
}

// Sweep removes the job directories under root whose newest entry (file or
// directory, at any depth) was modified more than maxAge before now: the
// outputs of jobs that ended without RemoveJob, e.g. after a crash. It
// returns the removed job ids. Entries whose names are not job ids are left
// alone; a missing root has nothing to sweep. Errors on one job do not stop
// the sweep of the others.
func Sweep(root string, maxAge time.Duration, now time.Time) (removed []string, err error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shuffle: sweep %s: %w", root, err)
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || ValidateJobID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(root, e.Name())
		newest, werr := newestModTime(dir)
		if werr != nil {
			errs = append(errs, fmt.Errorf("shuffle: sweep %s: %w", dir, werr))
			continue
		}
		if now.Sub(newest) <= maxAge {
			continue
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			errs = append(errs, fmt.Errorf("shuffle: sweep %s: %w", dir, rerr))
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

// newestModTime is the latest modification time of dir and everything in
// it. Entries that vanish during the walk (a concurrent RemoveJob or a
// rename) are skipped.
func newestModTime(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if t := info.ModTime(); t.After(newest) {
			newest = t
		}
		return nil
	})
	return newest, err
}
