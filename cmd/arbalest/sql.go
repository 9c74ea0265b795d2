package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/peterh/liner"

	"github.com/arbalest/arbalest/host/engine"
)

func cmdSQL(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	var sf sessionFlags
	sf.add(fs)
	command := fs.String("c", "", "run these SQL statements and exit")
	file := fs.String("f", "", "run the statements in this file and exit")
	format := fs.String("format", "table", "output format: table, csv, json, parquet or arrow")
	timing := fs.Bool("timing", false, "print the time each statement took (always on in the shell)")
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	s, done, err := sf.runner(ctx)
	if err != nil {
		return err
	}
	defer done()
	switch {
	case *command != "":
		return runScript(ctx, s, *command, *format, *timing, stdout)
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		return runScript(ctx, s, string(b), *format, *timing, stdout)
	}
	return repl(ctx, s, *format)
}

// runScript runs statements and writes each result.
func runScript(ctx context.Context, s engine.Runner, script, format string, timing bool, w io.Writer) error {
	start := time.Now()
	return s.Run(ctx, script, func(r *engine.Result) error {
		n, err := writeResult(ctx, w, format, r.Stream)
		if err != nil {
			return err
		}
		if timing {
			fmt.Fprintf(os.Stderr, "%d rows in %.3fs\n", n, time.Since(start).Seconds())
		}
		start = time.Now()
		return nil
	})
}

// repl is the interactive shell: statements end with ';' and may span
// lines; history is kept in ~/.arbalest_history.
func repl(ctx context.Context, s engine.Runner, format string) error {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	histPath := ""
	if home, err := os.UserHomeDir(); err == nil {
		histPath = filepath.Join(home, ".arbalest_history")
		if f, err := os.Open(histPath); err == nil {
			ln.ReadHistory(f)
			f.Close()
		}
	}
	defer func() {
		if histPath == "" {
			return
		}
		if f, err := os.Create(histPath); err == nil {
			ln.WriteHistory(f)
			f.Close()
		}
	}()
	fmt.Printf("arbalest %s — end statements with ';', \\q to quit\n", version)
	var buf strings.Builder
	for {
		prompt := "arbalest> "
		if buf.Len() > 0 {
			prompt = "      ...> "
		}
		line, err := ln.Prompt(prompt)
		if errors.Is(err, liner.ErrPromptAborted) {
			buf.Reset()
			continue
		}
		if err != nil { // io.EOF (Ctrl-D)
			fmt.Println()
			return nil
		}
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 && (trimmed == `\q` || trimmed == "quit" || trimmed == "exit") {
			return nil
		}
		if trimmed == "" && buf.Len() == 0 {
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if !statementComplete(buf.String()) {
			continue
		}
		text := buf.String()
		buf.Reset()
		ln.AppendHistory(strings.TrimSpace(text))
		qctx, cancel := context.WithCancel(ctx)
		stop := progress(qctx)
		start := time.Now()
		err = s.Run(qctx, text, func(r *engine.Result) error {
			stop()
			n, err := writeResult(qctx, os.Stdout, format, r.Stream)
			if err == nil && r.Query {
				fmt.Fprintf(os.Stdout, "Elapsed %.3fs\n", time.Since(start).Seconds())
			}
			_ = n
			start = time.Now()
			return err
		})
		stop()
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
	}
}

// progress shows a spinner with the elapsed time on stderr while a query
// runs longer than half a second; the returned func stops it.
func progress(ctx context.Context) func() {
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		start := time.Now()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		shown := false
		for i := 0; ; i++ {
			select {
			case <-done:
				if shown {
					fmt.Fprint(os.Stderr, "\r\033[K")
				}
				return
			case <-ctx.Done():
				if shown {
					fmt.Fprint(os.Stderr, "\r\033[K")
				}
				return
			case <-t.C:
				if el := time.Since(start); el > 500*time.Millisecond {
					shown = true
					fmt.Fprintf(os.Stderr, "\r%c running %.1fs", frames[i%len(frames)], el.Seconds())
				}
			}
		}
	}()
	return func() {
		once.Do(func() { close(done); wg.Wait() })
	}
}

// statementComplete reports whether text ends with a ';' outside quotes
// and comments.
func statementComplete(text string) bool {
	inSingle, inDouble, inLine, inBlock := false, false, false, false
	last := rune(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inLine:
			if c == '\n' {
				inLine = false
			}
			continue
		case inBlock:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				inBlock = false
				i++
			}
			continue
		case inSingle:
			if c == '\'' {
				inSingle = false
			}
			continue
		case inDouble:
			if c == '"' {
				inDouble = false
			}
			continue
		}
		switch c {
		case '\'':
			inSingle = true
		case '"':
			inDouble = true
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				inLine = true
				continue
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				inBlock = true
				i++
				continue
			}
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			last = rune(c)
		}
	}
	return last == ';' && !inSingle && !inDouble && !inBlock
}
