package expr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Program is a list of expressions compiled together over one input
// schema. A sub-expression that occurs more than once, within one
// expression or across several (TPC-H Q1 computes
// l_extendedprice * (1 - l_discount) for two aggregates), is evaluated
// once per batch and its result shared.
//
// A Program holds no per-batch state between calls; it is safe for
// concurrent use.
type Program struct {
	roots   []node
	types   []arrow.DataType
	nshared int
	alloc   memory.Allocator
}

// CompileProgram compiles exprs, bound against input, into a Program that
// allocates with alloc. Errors name the expression that failed.
func CompileProgram(exprs []logical.Expr, input *arrow.Schema, alloc memory.Allocator) (*Program, error) {
	for i, e := range exprs {
		if e == nil {
			return nil, fmt.Errorf("expr: expression %d is nil", i)
		}
	}
	c := newCompiler(input, alloc)
	c.findShared(exprs)
	p := &Program{alloc: c.alloc}
	for _, e := range exprs {
		n, err := c.compile(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e, err)
		}
		p.roots = append(p.roots, n)
		p.types = append(p.types, n.dtype())
	}
	p.nshared = c.nslots
	return p, nil
}

// Len is the number of expressions.
func (p *Program) Len() int { return len(p.roots) }

// Types are the result types of the expressions, in order.
func (p *Program) Types() []arrow.DataType { return p.types }

// Eval evaluates every expression over batch into out (len(out) must be
// Len()). The results have batch.NumRows() rows and belong to the caller,
// who releases them. On error nothing is left in out.
func (p *Program) Eval(ctx context.Context, batch arrow.RecordBatch, out []arrow.Array) error {
	if len(out) != len(p.roots) {
		return fmt.Errorf("expr: Eval into %d results for a program of %d expressions", len(out), len(p.roots))
	}
	c := p.chunk(batch)
	defer c.releaseMemo()
	for i, n := range p.roots {
		a, err := n.eval(ctx, c)
		if err != nil {
			for j := range out[:i] {
				out[j].Release()
				out[j] = nil
			}
			return err
		}
		out[i] = a
	}
	return nil
}

// chunk is the evaluation context of batch, with room for the shared
// results.
func (p *Program) chunk(b arrow.RecordBatch) *chunk {
	c := &chunk{cols: b.Columns(), n: int(b.NumRows())}
	if p.nshared > 0 {
		c.memo = make([]arrow.Array, p.nshared)
	}
	return c
}

// releaseMemo drops the chunk's references to shared results.
func (c *chunk) releaseMemo() {
	for i, a := range c.memo {
		if a != nil {
			a.Release()
			c.memo[i] = nil
		}
	}
}

// sharedNode is a sub-expression that occurs more than once in what was
// compiled together: the first evaluation over a chunk is kept in the
// chunk's memo and handed (retained) to the other occurrences. Chunks
// without a memo (the row subsets CASE evaluates its arms over) evaluate it
// afresh.
type sharedNode struct {
	inner node
	slot  int
}

func (s *sharedNode) dtype() arrow.DataType { return s.inner.dtype() }

func (s *sharedNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	if c.memo == nil {
		return s.inner.eval(ctx, c)
	}
	if a := c.memo[s.slot]; a != nil {
		a.Retain()
		return a, nil
	}
	a, err := s.inner.eval(ctx, c)
	if err != nil {
		return nil, err
	}
	a.Retain()
	c.memo[s.slot] = a
	return a, nil
}

// findShared counts the structurally equal sub-expressions of exprs and
// marks those worth sharing: computed ones (calls, casts, CASE, IN) that
// occur at least twice, read a column and are deterministic.
func (c *compiler) findShared(exprs []logical.Expr) {
	counts := map[string]int{}
	for _, e := range exprs {
		logical.WalkExpr(e, func(x logical.Expr) bool {
			if k, ok := shareKey(x); ok {
				counts[k]++
			}
			return true
		})
	}
	for k, n := range counts {
		if n > 1 {
			if c.shareable == nil {
				c.shareable = map[string]bool{}
				c.sharedNodes = map[string]node{}
			}
			c.shareable[k] = true
		}
	}
}

// shareKey is a structural key of e: equal keys mean the same computation
// over the same input. ok is false for expressions not worth sharing or
// not safe to share.
func shareKey(e logical.Expr) (string, bool) {
	switch e.(type) {
	case *logical.Call, *logical.Cast, *logical.Case, *logical.InList:
	default:
		return "", false
	}
	if isConstantExpr(e) {
		return "", false
	}
	var b strings.Builder
	if err := writeKey(&b, e); err != nil {
		return "", false
	}
	return b.String(), true
}

var errNoKey = errors.New("expression without a structural key")

func writeKey(b *strings.Builder, e logical.Expr) error {
	switch x := e.(type) {
	case *logical.ColumnRef:
		fmt.Fprintf(b, "#%d:%s", x.Index, typeName(x.T))
	case *logical.Literal:
		fmt.Fprintf(b, "lit(%s:%T:%v)", typeName(x.T), x.Value, x.Value)
	case *logical.Call:
		if x.Volatile() {
			return errNoKey
		}
		fmt.Fprintf(b, "%s:%s(", x.Func, typeName(x.T))
		for i, a := range x.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeKey(b, a); err != nil {
				return err
			}
		}
		b.WriteByte(')')
		if len(x.Options) > 0 {
			keys := make([]string, 0, len(x.Options))
			for k := range x.Options {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(b, "[%s=%s]", k, x.Options[k])
			}
		}
	case *logical.Cast:
		fmt.Fprintf(b, "cast:%s:%t(", typeName(x.T), x.Try)
		if err := writeKey(b, x.Input); err != nil {
			return err
		}
		b.WriteByte(')')
	case *logical.Case:
		fmt.Fprintf(b, "case:%s(", typeName(x.T))
		for _, w := range x.Whens {
			b.WriteString("when ")
			if err := writeKey(b, w.Cond); err != nil {
				return err
			}
			b.WriteString(" then ")
			if err := writeKey(b, w.Then); err != nil {
				return err
			}
		}
		if x.Else != nil {
			b.WriteString(" else ")
			if err := writeKey(b, x.Else); err != nil {
				return err
			}
		}
		b.WriteByte(')')
	case *logical.InList:
		fmt.Fprintf(b, "in:%t(", x.Negated)
		if err := writeKey(b, x.Input); err != nil {
			return err
		}
		for _, l := range x.List {
			b.WriteByte(',')
			if err := writeKey(b, l); err != nil {
				return err
			}
		}
		b.WriteByte(')')
	default:
		return errNoKey
	}
	return nil
}
