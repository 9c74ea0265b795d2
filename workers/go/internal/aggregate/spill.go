package aggregate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

const (
	// spillFanout is the number of partitions a spill splits groups into.
	spillFanout = 16
	spillBits   = 4
	// maxSpillLevel bounds the recursion of spilled partitions; each level
	// uses the next spillBits bits of the key hash (from the top).
	maxSpillLevel = 8
)

var errEOF = io.EOF

// spillFile is one partition's Arrow IPC stream of partial-layout batches.
type spillFile struct {
	f    *os.File
	buf  *bufio.Writer
	w    *ipc.Writer
	rows int64
}

// spiller writes a core's states, partitioned by key hash, to files.
type spiller struct {
	c     *core
	files [spillFanout]*spillFile
}

func (s *spiller) file(p int) (*spillFile, error) {
	if f := s.files[p]; f != nil {
		return f, nil
	}
	dir := s.c.tc.SpillDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "arbalest-agg-*.arrows")
	if err != nil {
		return nil, fmt.Errorf("aggregate: creating spill file: %w", err)
	}
	buf := bufio.NewWriterSize(f, 1<<16)
	sf := &spillFile{f: f, buf: buf, w: ipc.NewWriter(buf, ipc.WithSchema(s.c.node.partial), ipc.WithAllocator(s.c.alloc))}
	s.files[p] = sf
	return sf, nil
}

// finish flushes every file and rewinds it for reading.
func (s *spiller) finish() error {
	for _, f := range s.files {
		if f == nil || f.w == nil {
			continue
		}
		err := f.w.Close()
		f.w = nil
		if err == nil {
			err = f.buf.Flush()
		}
		if err == nil {
			_, err = f.f.Seek(0, io.SeekStart)
		}
		if err != nil {
			return fmt.Errorf("aggregate: finishing spill file %s: %w", f.f.Name(), err)
		}
	}
	return nil
}

// close removes every file.
func (s *spiller) close() {
	for i, f := range s.files {
		if f == nil {
			continue
		}
		if f.w != nil {
			_ = f.w.Close()
		}
		name := f.f.Name()
		_ = f.f.Close()
		_ = os.Remove(name)
		s.files[i] = nil
	}
}

// spillState writes every group to the spill files and resets the core.
func (c *core) spillState() error {
	if c.nokeys {
		return fmt.Errorf("%w: aggregate without group keys cannot spill", exec.ErrMemoryLimit)
	}
	if c.level >= maxSpillLevel {
		return fmt.Errorf("%w: aggregate partition still too large after %d levels of spilling", exec.ErrMemoryLimit, c.level)
	}
	if c.spill == nil {
		c.spill = &spiller{c: c}
	}
	hashes := c.table.Hashes()
	shift := 64 - spillBits*(c.level+1)
	var parts [spillFanout][]uint32
	for id := 0; id < c.ngroups; id++ {
		p := (hashes[id] >> shift) & (spillFanout - 1)
		parts[p] = append(parts[p], uint32(id))
	}
	bs := c.batchSize()
	for p, ids := range parts {
		if len(ids) == 0 {
			continue
		}
		f, err := c.spill.file(p)
		if err != nil {
			return err
		}
		for start := 0; start < len(ids); start += bs {
			chunk := ids[start:min(len(ids), start+bs)]
			rec, err := c.output(chunk, true)
			if err != nil {
				return err
			}
			err = f.w.Write(rec)
			rec.Release()
			if err != nil {
				return fmt.Errorf("aggregate: writing spill file: %w", err)
			}
			f.rows += int64(len(chunk))
		}
	}
	if c.metrics != nil {
		c.metrics.Spills.Add(1)
	}
	c.reset()
	return nil
}

// spillOutput merges the spilled partitions one at a time: each is read
// back into a fresh merging core (which may spill again, one level down)
// whose results are emitted before the next partition starts.
type spillOutput struct {
	c   *core
	p   int
	sub *core
	out output
}

func (o *spillOutput) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if o.out != nil {
			rec, err := o.out.next(ctx)
			if !errors.Is(err, errEOF) {
				return rec, err
			}
			o.out.close()
			o.out = nil
			o.sub.close()
			o.sub = nil
		}
		// Find the next non-empty partition.
		for o.p < spillFanout && (o.c.spill.files[o.p] == nil || o.c.spill.files[o.p].rows == 0) {
			o.p++
		}
		if o.p >= spillFanout {
			return nil, errEOF
		}
		f := o.c.spill.files[o.p]
		o.p++
		sub, err := newCore(o.c.node, o.c.tc, nil, false, o.c.finalOut, o.c.level+1, o.c.metrics)
		if err != nil {
			return nil, err
		}
		o.sub = sub
		if err := o.load(ctx, sub, f); err != nil {
			return nil, err
		}
		if o.out, err = sub.finish(); err != nil {
			return nil, err
		}
	}
}

func (o *spillOutput) load(ctx context.Context, sub *core, f *spillFile) error {
	r, err := ipc.NewReader(bufio.NewReaderSize(f.f, 1<<16), ipc.WithAllocator(sub.alloc))
	if err != nil {
		return fmt.Errorf("aggregate: reading spill file %s: %w", f.f.Name(), err)
	}
	defer r.Release()
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %v", exec.ErrCanceled, err)
		}
		if err := sub.consume(ctx, r.RecordBatch()); err != nil {
			return err
		}
		fits, err := sub.account()
		if err != nil {
			return err
		}
		if !fits {
			if err := sub.spillState(); err != nil {
				return err
			}
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("aggregate: reading spill file %s: %w", f.f.Name(), err)
	}
	return nil
}

func (o *spillOutput) close() {
	if o.out != nil {
		o.out.close()
		o.out = nil
	}
	if o.sub != nil {
		o.sub.close()
		o.sub = nil
	}
}

// output is a source of result batches.
type output interface {
	next(ctx context.Context) (arrow.RecordBatch, error)
	close()
}

// finish ends the input: with nothing spilled the groups in memory are
// emitted; otherwise the rest is spilled too and the partitions merged.
func (c *core) finish() (output, error) {
	if c.spill == nil {
		return &memOutput{c: c, partial: !c.finalOut}, nil
	}
	if c.ngroups > 0 {
		if err := c.spillState(); err != nil {
			return nil, err
		}
	}
	if err := c.spill.finish(); err != nil {
		return nil, err
	}
	c.reset()
	return &spillOutput{c: c}, nil
}
