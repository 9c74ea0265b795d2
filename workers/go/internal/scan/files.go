package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/arbalest/arbalest/workers/go/internal/storage"
)

// Formats the scan reads.
const (
	FormatParquet = "parquet"
	FormatCSV     = "csv"
	FormatJSON    = "json"
	FormatArrow   = "arrow"
)

// extensions lists the file name endings of each format, lower case.
var extensions = map[string][]string{
	FormatParquet: {".parquet", ".parq", ".pq"},
	FormatCSV:     {".csv", ".tsv"},
	FormatJSON:    {".json", ".jsonl", ".ndjson"},
	FormatArrow:   {".arrow", ".arrows", ".ipc", ".feather"},
}

// normalizeFormat maps a format name (and a few aliases) to one of the
// Format constants.
func normalizeFormat(format string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "parquet":
		return FormatParquet, nil
	case "csv", "tsv":
		return FormatCSV, nil
	case "json", "ndjson", "jsonl":
		return FormatJSON, nil
	case "arrow", "ipc", "feather", "arrows":
		return FormatArrow, nil
	}
	return "", fmt.Errorf("scan: unknown format %q (expected parquet, csv, json or arrow)", format)
}

// formatOfName returns the format whose extension name ends with, or "".
func formatOfName(name string) string {
	lower := strings.ToLower(name)
	for _, f := range []string{FormatParquet, FormatCSV, FormatJSON, FormatArrow} {
		for _, ext := range extensions[f] {
			if strings.HasSuffix(lower, ext) {
				return f
			}
		}
	}
	return ""
}

func hasExtension(name, format string) bool {
	lower := strings.ToLower(name)
	for _, ext := range extensions[format] {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// FormatFromPath guesses the format of path from its extension or, for a
// folder, from the extension of the first data file inside it (in name
// order, recursively). Globs are judged by their pattern's extension, or by
// the first file they match.
func FormatFromPath(path string) (string, error) {
	if f := formatOfName(path); f != "" {
		return f, nil
	}
	if storage.IsRemote(path) {
		return remoteFormat(path)
	}
	var candidates []string
	if isGlob(path) {
		m, err := filepath.Glob(path)
		if err != nil {
			return "", fmt.Errorf("scan: bad glob pattern %q: %w", path, err)
		}
		if len(m) == 0 {
			return "", fmt.Errorf("scan: %s: no file matches the pattern", path)
		}
		candidates = m
	} else {
		info, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("scan: %w", err)
		}
		if !info.IsDir() {
			return "", fmt.Errorf("scan: %s: cannot tell the format from the file name (expected an extension such as .parquet, .csv, .json or .arrow)", path)
		}
		candidates = []string{path}
	}
	for _, c := range candidates {
		found := ""
		err := walkData(c, func(p string) bool {
			found = formatOfName(p)
			return found != ""
		})
		if err != nil {
			return "", err
		}
		if found != "" {
			return found, nil
		}
	}
	return "", fmt.Errorf("scan: %s: no file with a known extension (.parquet, .csv, .json, .arrow, ...)", path)
}

// dataFile is one file of a table.
type dataFile struct {
	Path string
	Size int64
	// store reads the file when it is in an object store; nil for a
	// local file (see remote.go).
	store storage.Store
}

func isGlob(path string) bool { return strings.ContainsAny(path, "*?[") }

// isHidden reports whether a file or folder name is metadata rather than
// data: dot files and the _SUCCESS / _metadata markers of Spark and Hive.
func isHidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// walkData visits the data files under root in lexical order (root itself
// when it is a file) until visit returns true.
func walkData(root string, visit func(path string) bool) error {
	stop := errors.New("stop")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if p != root && isHidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if visit(p) {
			return stop
		}
		return nil
	})
	if err == stop {
		return nil
	}
	return err
}

// listFiles resolves location (a file, a folder searched recursively for
// files with the format's extensions, or a glob) into its data files, in
// name order. It fails when nothing is found.
func listFiles(format, location string) ([]dataFile, error) {
	if location == "" {
		return nil, errors.New("scan: empty table location")
	}
	var roots []string
	if isGlob(location) {
		m, err := filepath.Glob(location)
		if err != nil {
			return nil, fmt.Errorf("scan: bad glob pattern %q: %w", location, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("scan: %s: no file matches the pattern", location)
		}
		roots = m
	} else {
		roots = []string{location}
	}
	var out []dataFile
	for _, root := range roots {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		if !info.IsDir() {
			out = append(out, dataFile{Path: root, Size: info.Size()})
			continue
		}
		var walkErr error
		err = walkData(root, func(p string) bool {
			if !hasExtension(p, format) {
				return false
			}
			fi, err := os.Stat(p)
			if err != nil {
				walkErr = fmt.Errorf("scan: %w", err)
				return true
			}
			out = append(out, dataFile{Path: p, Size: fi.Size()})
			return false
		})
		if err == nil {
			err = walkErr
		}
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scan: %s: no %s files (looked for %s)", location, format, strings.Join(extensions[format], ", "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	// A glob may match a folder and a file inside it.
	dedup := out[:1]
	for _, f := range out[1:] {
		if f.Path != dedup[len(dedup)-1].Path {
			dedup = append(dedup, f)
		}
	}
	return dedup, nil
}
