package scan

// Files in object stores (issue 7). Local files keep their direct path:
// dataFile.store is nil and open returns the *os.File itself.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/arbalest/arbalest/workers/go/internal/storage"
)

// dataSource is an open file of a table: ranged reads plus the seeking
// the Parquet reader uses to find the footer.
type dataSource interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
}

// remoteReadAhead is the read-ahead of a file read from start to end in
// an object store (CSV, JSON, Arrow streams): one ranged request per this
// many bytes instead of one per small read.
const remoteReadAhead = 8 << 20

// openSequential opens the file to read it from start to end.
func (df dataFile) openSequential(ctx context.Context) (io.ReadCloser, error) {
	src, err := df.open(ctx)
	if err != nil || df.store == nil {
		return src, err
	}
	return bufferedSource{Reader: bufio.NewReaderSize(src, remoteReadAhead), c: src}, nil
}

type bufferedSource struct {
	*bufio.Reader
	c io.Closer
}

func (b bufferedSource) Close() error { return b.c.Close() }

// open opens the file for reading.
func (df dataFile) open(ctx context.Context) (dataSource, error) {
	if df.store == nil {
		f, err := os.Open(df.Path)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		return f, nil
	}
	r, err := df.store.Open(ctx, storage.Object{Path: df.Path, Size: df.Size})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return remoteSource{SectionReader: io.NewSectionReader(r, 0, r.Size()), r: r}, nil
}

// remoteSource gives an object store reader the Seek of a file.
type remoteSource struct {
	*io.SectionReader
	r storage.Reader
}

func (s remoteSource) Close() error { return s.r.Close() }

// resolveFiles is listFiles for any location: local paths go to
// listFiles unchanged, object store locations to the storage layer,
// configured by the storage options among options (aws_...).
func resolveFiles(ctx context.Context, format, location string, options map[string]string) ([]dataFile, error) {
	if !storage.IsRemote(location) {
		return listFiles(format, location)
	}
	st, err := storage.New(location, options)
	if err != nil {
		return nil, fmt.Errorf("scan: %s: %w", location, err)
	}
	objs, err := st.List(ctx, location, func(p string) bool { return hasExtension(p, format) })
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("scan: %s: no %s files (looked for %s)", location, format, strings.Join(extensions[format], ", "))
	}
	out := make([]dataFile, len(objs))
	for i, o := range objs {
		out[i] = dataFile{Path: o.Path, Size: o.Size, store: st}
	}
	return out, nil
}

// remoteFormat is FormatFromPath for an object store folder: the format
// of the first object with a known extension, with credentials from the
// environment.
func remoteFormat(location string) (string, error) {
	st, err := storage.New(location, nil)
	if err != nil {
		return "", fmt.Errorf("scan: %s: %w", location, err)
	}
	objs, err := st.List(context.Background(), location, func(p string) bool { return formatOfName(p) != "" })
	if err != nil {
		return "", fmt.Errorf("scan: %w", err)
	}
	for _, o := range objs {
		if f := formatOfName(o.Path); f != "" {
			return f, nil
		}
	}
	return "", fmt.Errorf("scan: %s: no file with a known extension (.parquet, .csv, .json, .arrow, ...)", location)
}
