package scan

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/workers/go/internal/storage"
)

// Infer reads the schema of the table at location in format (parquet, csv,
// json or arrow; empty means guess with FormatFromPath) and an estimate of
// its row count, -1 when unknown. location is a file, a folder (searched
// recursively for files with the format's extensions) or a glob. The
// schema is the one NewScan produces: Parquet and Arrow columns keep their
// names and nullability with types mapped to the engine's contract; CSV and
// JSON types are inferred by sampling rows (see the options of
// parseCSVOptions), all nullable. Row counts are exact for Parquet
// (footers), sampled estimates for CSV and JSON, unknown for Arrow.
func Infer(ctx context.Context, format, location string, options map[string]string) (*arrow.Schema, int64, error) {
	if format == "" {
		f, err := FormatFromPath(location)
		if err != nil {
			return nil, -1, err
		}
		format = f
	}
	f, err := normalizeFormat(format)
	if err != nil {
		return nil, -1, err
	}
	if err := ctx.Err(); err != nil {
		return nil, -1, err
	}
	files, err := resolveFiles(ctx, f, location, options)
	if err != nil {
		return nil, -1, err
	}
	// Storage options (aws_...) were for resolveFiles.
	options, _ = storage.SplitOptions(options)
	switch f {
	case FormatParquet:
		if len(options) > 0 {
			for k := range options {
				return nil, -1, fmt.Errorf("scan: unknown Parquet option %q", k)
			}
		}
		return inferParquet(files)
	case FormatCSV:
		return inferCSV(files, options, location)
	case FormatJSON:
		return inferJSON(files, options)
	default:
		return inferIPC(files)
	}
}
