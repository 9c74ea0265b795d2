package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Local is the store of the local file system. Open returns the *os.File
// itself, so local reads cost what they cost without this layer.
type Local struct{}

// localPath strips a file:// prefix.
func localPath(location string) string {
	if Scheme(location) == "file" {
		return location[len("file://"):]
	}
	return location
}

// List implements Store.
func (Local) List(ctx context.Context, location string, keep func(string) bool) ([]Object, error) {
	location = localPath(location)
	if location == "" {
		return nil, errors.New("empty location")
	}
	roots := []string{location}
	if isGlob(location) {
		m, err := filepath.Glob(location)
		if err != nil {
			return nil, fmt.Errorf("%s: bad glob pattern: %w", location, err)
		}
		if len(m) == 0 {
			return nil, notFound("%s: no file matches the pattern", location)
		}
		roots = m
	}
	var out []Object
	for _, root := range roots {
		info, err := os.Stat(root)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, notFound("%s: no such file or folder", root)
			}
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, Object{Path: root, Size: info.Size()})
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if p != root && isHidden(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || (keep != nil && !keep(p)) {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, Object{Path: p, Size: fi.Size()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return sortDedup(out), nil
}

// localFile is an *os.File with its listed size.
type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

// Open implements Store.
func (Local) Open(_ context.Context, obj Object) (Reader, error) {
	f, err := os.Open(localPath(obj.Path))
	if err != nil {
		return nil, err
	}
	return localFile{File: f, size: obj.Size}, nil
}
