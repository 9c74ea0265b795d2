// Command arbalest is the one binary of Arbalest: the SQL shell, the TPC-H
// tools, Substrait tools, and the scheduler and executor processes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `arbalest: a distributed SQL query engine built on Arrow and Substrait.

Usage:
  arbalest sql [flags]                 run SQL: -c "SQL", -f file.sql, or an interactive shell
  arbalest tpch gen --sf N --out DIR   generate TPC-H data as Parquet
  arbalest tpch run --data DIR         run the 22 TPC-H queries [--query N] [--verify]
  arbalest substrait from-sql "SQL"    print the Substrait plan of a query as JSON
  arbalest substrait run PLAN          run a Substrait plan (binary protobuf or JSON)
  arbalest scheduler --addr HOST:PORT  run a cluster's scheduler
  arbalest executor --scheduler HOST:PORT --addr HOST:PORT --slots N --work-dir DIR
                                       run an executor of a cluster
  arbalest standalone --executors N    run a scheduler and N executors in this process
  arbalest plugin list|serve NAME      list the bundled plugins; serve one (hosts start it)
  arbalest version                     print the version

'sql', 'tpch run' and 'substrait run' take --connect HOST:PORT to run on a cluster.
Plugins load with --plugin NAME=PATH (or --plugin-config FILE) on 'sql', 'scheduler',
'executor' and 'standalone'; in a cluster the scheduler and every executor load them.

Run 'arbalest <command> -h' for the flags of a command.
`

// stdout is where results go (a variable for tests).
var stdout io.Writer = os.Stdout

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// exitError ends the process with a status and no message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return exitError(2)
	}
	switch args[0] {
	case "sql":
		return cmdSQL(ctx, args[1:])
	case "tpch":
		return cmdTPCH(ctx, args[1:])
	case "substrait":
		return cmdSubstrait(ctx, args[1:])
	case "scheduler":
		return cmdScheduler(ctx, args[1:])
	case "executor":
		return cmdExecutor(ctx, args[1:])
	case "standalone":
		return cmdStandalone(ctx, args[1:])
	case "plugin":
		return cmdPlugin(ctx, args[1:])
	case "version", "--version":
		fmt.Println("arbalest", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (commands: %s)", args[0], strings.Join([]string{"sql", "tpch", "substrait", "scheduler", "executor", "standalone", "version"}, ", "))
}
