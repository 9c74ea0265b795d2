// Package storage lists and reads the files of a table wherever they live:
// on the local file system or in an S3-compatible object store.
//
// A location is a file, a folder (prefix) searched recursively, or a glob.
// List turns it into objects with their sizes; Open gives ranged reads of
// one object (io.ReaderAt), which is what Parquet needs: the footer from
// the end of the file, then the column chunks it names.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Object is one file of a location.
type Object struct {
	// Path is the full location of the object: a local path or
	// s3://bucket/key.
	Path string
	// Size is its length in bytes as listed.
	Size int64
}

// Reader reads ranges of one object. ReadAt may be called concurrently.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size is the object's length in bytes.
	Size() int64
}

// Store lists and opens the objects of one kind of location.
type Store interface {
	// List resolves location into its objects, sorted by path. A single
	// object is returned whatever its name; the objects of a folder,
	// prefix or glob match are kept when keep (nil keeps all) accepts
	// their path. Hidden names (".x", "_SUCCESS") under a folder are
	// skipped. It fails when the location does not exist.
	List(ctx context.Context, location string, keep func(path string) bool) ([]Object, error)
	// Open opens one listed object for ranged reads.
	Open(ctx context.Context, obj Object) (Reader, error)
}

// Schemes of remote locations that New knows.
const SchemeS3 = "s3"

// Scheme returns the URL scheme of location ("s3", "gs", "https", ...) in
// lower case, or "" for a local path. Windows drive letters ("C:\") are
// not schemes.
func Scheme(location string) string {
	i := strings.Index(location, "://")
	if i < 2 {
		return ""
	}
	s := location[:i]
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(s)
}

// IsRemote reports whether location names an object store (has a scheme
// other than file://).
func IsRemote(location string) bool {
	s := Scheme(location)
	return s != "" && s != "file"
}

// optionPrefixes mark table OPTIONS that configure the store rather than
// the file format.
var optionPrefixes = []string{"aws_"}

// IsOption reports whether a table option key belongs to the storage
// layer (aws_access_key_id, aws_region, ...), case-insensitively.
func IsOption(key string) bool {
	k := strings.ToLower(key)
	for _, p := range optionPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// SplitOptions separates the storage options from the format options. It
// returns the originals (not copies) when there is nothing to split.
func SplitOptions(options map[string]string) (format, store map[string]string) {
	n := 0
	for k := range options {
		if IsOption(k) {
			n++
		}
	}
	if n == 0 {
		return options, nil
	}
	format = make(map[string]string, len(options)-n)
	store = make(map[string]string, n)
	for k, v := range options {
		if IsOption(k) {
			store[strings.ToLower(k)] = v
		} else {
			format[k] = v
		}
	}
	return format, store
}

// New returns the store for location, configured by the storage options
// among options (others are ignored). Local paths and file:// get the
// local store.
func New(location string, options map[string]string) (Store, error) {
	switch s := Scheme(location); s {
	case "", "file":
		return Local{}, nil
	case SchemeS3, "s3a":
		_, opts := SplitOptions(options)
		return NewS3(opts)
	case "http", "https":
		return NewHTTP(), nil
	default:
		return nil, fmt.Errorf("%s: object store scheme %q is not supported yet (supported: local paths, s3://, http(s)://)", location, s)
	}
}

// isHidden reports whether a file or folder name is metadata rather than
// data: dot files and the _SUCCESS / _metadata markers of Spark and Hive.
func isHidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// isGlob reports whether a location has glob metacharacters.
func isGlob(location string) bool { return strings.ContainsAny(location, "*?[") }

// sortDedup sorts objects by path and drops repeats (a glob may match a
// folder and a file inside it).
func sortDedup(out []Object) []Object {
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if len(out) == 0 {
		return out
	}
	dedup := out[:1]
	for _, o := range out[1:] {
		if o.Path != dedup[len(dedup)-1].Path {
			dedup = append(dedup, o)
		}
	}
	return dedup
}

// ErrNotFound matches (errors.Is) List and Open errors when the location
// does not exist.
var ErrNotFound = errors.New("not found")

// notFoundError is an ErrNotFound with its own words.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}
