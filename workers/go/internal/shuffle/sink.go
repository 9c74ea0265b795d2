package shuffle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Files. A Write with many output partitions must not hold a file
// descriptor and a write buffer per partition for its whole run, nor an
// IPC encoder per partition (a ZSTD encoder holds ~20 MiB). So one IPC
// encoder serves every partition, its payloads routed to the partition
// being written, and at most maxOpenFiles partition files are open at
// once: the least recently written is closed and reopened in append mode
// when written again.

const (
	maxOpenFiles    = 32
	sinkBufferBytes = 256 << 10
)

// eos is the IPC stream end-of-stream marker.
var eos = [8]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// fileSink is the temporary file of one output partition.
type fileSink struct {
	files   *fileSet
	p       int
	tmp     string // temporary path, once created
	f       *os.File
	bw      *bufio.Writer
	n       int64 // bytes written
	lastUse uint64
	header  bool // the schema message was written (shared encoder)
}

// Write appends to the file, opening it if needed.
func (s *fileSink) Write(b []byte) (int, error) {
	if s.f == nil {
		if err := s.files.open(s); err != nil {
			return 0, err
		}
	}
	s.files.clock++
	s.lastUse = s.files.clock
	n, err := s.bw.Write(b)
	s.n += int64(n)
	return n, err
}

// fileSet bounds the open sinks of one Write.
type fileSet struct {
	dir    string
	opened []*fileSink
	free   []*bufio.Writer
	clock  uint64
}

func (fs *fileSet) open(s *fileSink) error {
	if len(fs.opened) >= maxOpenFiles {
		lru := 0
		for i, o := range fs.opened {
			if o.lastUse < fs.opened[lru].lastUse {
				lru = i
			}
		}
		if err := fs.close(fs.opened[lru]); err != nil {
			return err
		}
	}
	var f *os.File
	var err error
	if s.tmp == "" {
		f, err = os.CreateTemp(fs.dir, ".part-"+strconv.Itoa(s.p)+"-*.arrow.tmp")
		if err == nil {
			s.tmp = f.Name()
		}
	} else {
		f, err = os.OpenFile(s.tmp, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return fmt.Errorf("partition %d: %w", s.p, err)
	}
	s.f = f
	if n := len(fs.free); n > 0 {
		s.bw = fs.free[n-1]
		fs.free = fs.free[:n-1]
		s.bw.Reset(f)
	} else {
		s.bw = bufio.NewWriterSize(f, sinkBufferBytes)
	}
	fs.opened = append(fs.opened, s)
	return nil
}

// close flushes and closes s's file if it is open.
func (fs *fileSet) close(s *fileSink) error {
	if s.f == nil {
		return nil
	}
	i := 0
	for fs.opened[i] != s {
		i++
	}
	fs.opened = append(fs.opened[:i], fs.opened[i+1:]...)
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.bw.Reset(nil)
	fs.free = append(fs.free, s.bw)
	s.f, s.bw = nil, nil
	if err != nil {
		return fmt.Errorf("partition %d: %w", s.p, err)
	}
	return nil
}

// closeAll closes every open file without reporting errors (abort).
func (fs *fileSet) closeAll() {
	for len(fs.opened) > 0 {
		s := fs.opened[0]
		_ = s.f.Close()
		s.f, s.bw = nil, nil
		fs.opened = fs.opened[1:]
	}
}

// sharedEncoder is one IPC writer whose payloads go to the current
// partition's sink. The IPC writer emits the schema once, as its first
// payload; the router drops it and writes schemaMsg at the head of each
// file instead. Dictionary state is per stream, so schemas with
// dictionaries use one IPC writer per partition instead (see hasDictionary).
type sharedEncoder struct {
	w         *ipc.Writer
	schemaMsg []byte
	cur       *fileSink
	payloads  int
}

func newSharedEncoder(schema *arrow.Schema, alloc memory.Allocator, codec []ipc.Option) (*sharedEncoder, error) {
	// The schema message: a schema-only stream without its end marker.
	var buf bytes.Buffer
	sw := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(alloc))
	if err := sw.Close(); err != nil {
		return nil, err
	}
	msg := buf.Bytes()
	if !bytes.HasSuffix(msg, eos[:]) {
		return nil, errors.New("IPC writer ended a schema-only stream without the end-of-stream marker")
	}
	e := &sharedEncoder{schemaMsg: msg[:len(msg)-len(eos)]}
	opts := append([]ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(alloc)}, codec...)
	e.w = ipc.NewWriterWithPayloadWriter(e, opts...)
	return e, nil
}

// Start implements ipc.PayloadWriter.
func (e *sharedEncoder) Start() error { return nil }

// WritePayload implements ipc.PayloadWriter.
func (e *sharedEncoder) WritePayload(p ipc.Payload) error {
	e.payloads++
	if e.payloads == 1 {
		return nil // the schema
	}
	if err := e.header(e.cur); err != nil {
		return err
	}
	_, err := p.WritePayload(e.cur)
	return err
}

// Close implements ipc.PayloadWriter: each file's end is written by
// finish.
func (e *sharedEncoder) Close() error { return nil }

// header writes the schema message at the head of s's file.
func (e *sharedEncoder) header(s *fileSink) error {
	if s.header {
		return nil
	}
	s.header = true
	_, err := s.Write(e.schemaMsg)
	return err
}

// hasDictionary reports whether any column, at any depth, is
// dictionary-encoded.
func hasDictionary(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.DictionaryType:
		return true
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if hasDictionary(f.Type) {
				return true
			}
		}
	}
	return false
}
