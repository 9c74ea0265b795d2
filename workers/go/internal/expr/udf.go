package expr

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// udfNode calls a user-defined scalar function (a plugin over Flight, or
// a native library through the C Data Interface) once per chunk.
type udfNode struct {
	f    *logical.Function
	impl logical.ScalarImpl
	args []node
}

func (c *compiler) compileUDF(call *logical.Call) (node, error) {
	f := call.UDF
	impl, ok := f.Impl.(logical.ScalarImpl)
	if !ok {
		return nil, fmt.Errorf("function %s (%s) cannot run in this process: its provider is not loaded here", f.Name, f.Provider)
	}
	if len(call.Args) != len(f.Args) {
		return nil, fmt.Errorf("function %s takes %d arguments, got %d", f.Signature(), len(f.Args), len(call.Args))
	}
	n := &udfNode{f: f, impl: impl, args: make([]node, len(call.Args))}
	for i, a := range call.Args {
		an, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		if want := f.Args[i].Type; !arrow.TypeEqual(an.dtype(), want) {
			if an, err = c.castNode(an, want, false); err != nil {
				return nil, fmt.Errorf("function %s argument %d: %w", f.Name, i+1, err)
			}
		}
		n.args[i] = an
	}
	return n, nil
}

func (n *udfNode) dtype() arrow.DataType { return n.f.Result.Type }

func (n *udfNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	args := make([]arrow.Array, len(n.args))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, a := range n.args {
		v, err := a.eval(ctx, c)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	out, err := n.impl.EvalScalar(ctx, args, c.n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			// Never let a failed call read as the end of the data.
			return nil, fmt.Errorf("function %s: %v", n.f.Name, err)
		}
		return nil, fmt.Errorf("function %s: %w", n.f.Name, err)
	}
	if out.Len() != c.n || !arrow.TypeEqual(out.DataType(), n.f.Result.Type) {
		l, t := out.Len(), out.DataType()
		out.Release()
		return nil, fmt.Errorf("function %s (%s) returned %d rows of %s for %d rows, declared %s", n.f.Name, n.f.Provider, l, t, c.n, n.f.Result.Type)
	}
	return out, nil
}
