package main

import (
	"context"
	"flag"
	"fmt"
	"google.golang.org/protobuf/encoding/protojson"
	"os"

	"github.com/arbalest/arbalest/substrait/producer"
)

func cmdSubstrait(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: arbalest substrait from-sql|run [flags]")
	}
	fs := flag.NewFlagSet("substrait "+args[0], flag.ContinueOnError)
	var sf sessionFlags
	sf.add(fs)
	format := fs.String("format", "table", "output format of run: table, csv, json, parquet or arrow")
	target := fs.String("target", "", "from-sql: write the plan for a consumer that departs from the spec (datafusion)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return exitError(2)
	}
	if len(pos) != 1 {
		return fmt.Errorf("substrait %s: expected one argument", args[0])
	}
	s, err := sf.session(ctx)
	if err != nil {
		return err
	}
	switch args[0] {
	case "from-sql":
		p, err := s.PlanSQL(pos[0])
		if err != nil {
			return err
		}
		pp, err := producer.ToProtoWith(p, producer.Options{Target: *target})
		if err != nil {
			return err
		}
		js, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(pp)
		if err != nil {
			return err
		}
		fmt.Println(string(js))
		return nil
	case "run":
		if err := checkFormat(*format); err != nil {
			return err
		}
		b, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		stream, err := s.RunSubstrait(ctx, b)
		if err != nil {
			return err
		}
		defer stream.Close()
		_, err = writeResult(ctx, os.Stdout, *format, stream)
		return err
	}
	return fmt.Errorf("unknown substrait command %q (from-sql, run)", args[0])
}
