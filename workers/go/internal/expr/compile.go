package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// ErrNotSupported is wrapped by compile errors for functions, options or
// argument types the executor does not implement.
var ErrNotSupported = errors.New("not supported")

// ErrOverflow is wrapped by run-time errors for results out of range of
// their type.
var ErrOverflow = errors.New("out of range")

// ErrDivisionByZero is wrapped by run-time errors for division by zero.
var ErrDivisionByZero = errors.New("division by zero")

// ErrInvalidValue is wrapped by run-time errors for invalid input values
// (bad casts, invalid arguments such as a negative substring length).
var ErrInvalidValue = errors.New("invalid value")

// constAlloc allocates the values of constants held by compiled
// evaluators. Evaluators have no Release method, so their constants live
// in garbage-collected memory rather than in the caller's allocator.
var constAlloc = memory.NewGoAllocator()

// chunk is what a node evaluates over: the input columns (nil for columns
// a sub-chunk did not carry) and the row count.
type chunk struct {
	cols []arrow.Array
	n    int
	// memo holds the results of shared sub-expressions (see sharedNode);
	// nil disables sharing.
	memo []arrow.Array
}

// node is a compiled expression. eval returns an array of c.n rows owned by
// the caller.
type node interface {
	eval(ctx context.Context, c *chunk) (arrow.Array, error)
	dtype() arrow.DataType
}

// compiler compiles logical expressions against one input schema.
type compiler struct {
	input *arrow.Schema
	alloc memory.Allocator
	// folding is set while compiling a constant sub-expression for
	// evaluation at compile time.
	folding bool
	// shareable holds the structural keys (shareKey) of the
	// sub-expressions to evaluate once per chunk; sharedNodes their
	// compiled nodes, nslots the number of memo slots they use.
	shareable   map[string]bool
	sharedNodes map[string]node
	nslots      int
}

func newCompiler(input *arrow.Schema, alloc memory.Allocator) *compiler {
	if input == nil {
		input = arrow.NewSchema(nil, nil)
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &compiler{input: input, alloc: alloc}
}

// compile is the dispatcher from logical expressions to evaluators.
func compile(e logical.Expr, input *arrow.Schema, alloc memory.Allocator) (Evaluator, error) {
	if e == nil {
		return nil, errors.New("expr: nil expression")
	}
	c := newCompiler(input, alloc)
	c.findShared([]logical.Expr{e})
	n, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &evaluator{root: n, alloc: c.alloc, expr: e, nshared: c.nslots}, nil
}

// evaluator adapts a node to the Evaluator interface.
type evaluator struct {
	root    node
	alloc   memory.Allocator
	expr    logical.Expr
	nshared int
}

func (e *evaluator) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	c := chunk{cols: b.Columns(), n: int(b.NumRows())}
	if e.nshared > 0 {
		c.memo = make([]arrow.Array, e.nshared)
		defer c.releaseMemo()
	}
	return e.root.eval(ctx, &c)
}

func (e *evaluator) Type() arrow.DataType { return e.root.dtype() }

func (e *evaluator) String() string { return e.expr.String() }

// compile compiles e, folding constant sub-expressions and sharing the
// repeated ones (see findShared).
func (c *compiler) compile(e logical.Expr) (node, error) {
	if c.shareable != nil && !c.folding {
		if k, ok := shareKey(e); ok && c.shareable[k] {
			if n, ok := c.sharedNodes[k]; ok {
				return n, nil
			}
			n, err := c.compileUnshared(e)
			if err != nil {
				return nil, err
			}
			if _, isConst := n.(*constNode); !isConst {
				n = &sharedNode{inner: n, slot: c.nslots}
				c.nslots++
			}
			c.sharedNodes[k] = n
			return n, nil
		}
	}
	return c.compileUnshared(e)
}

func (c *compiler) compileUnshared(e logical.Expr) (node, error) {
	if _, isLit := e.(*logical.Literal); !isLit && !c.folding && isConstantExpr(e) {
		fc := &compiler{input: c.input, alloc: constAlloc, folding: true}
		n, err := fc.compileNode(e)
		if err != nil {
			return nil, err
		}
		if k, ok := n.(*constNode); ok {
			return c.constOf(k.arr), nil
		}
		arr, err := n.eval(context.Background(), &chunk{n: 1})
		if err == nil {
			return c.constOf(arr), nil
		}
		// The error surfaces at run time, and only if the expression is
		// evaluated (a CASE arm never taken must not fail the query).
	}
	return c.compileNode(e)
}

// isConstantExpr reports whether e reads no column.
func isConstantExpr(e logical.Expr) bool {
	constant := true
	logical.WalkExpr(e, func(n logical.Expr) bool {
		switch x := n.(type) {
		case *logical.ColumnRef:
			constant = false
		case *logical.Call:
			// User-defined calls are not folded: their results may hold
			// foreign memory (C Data) that a folded constant would keep
			// for the life of the program.
			if x.Volatile() || x.UDF != nil {
				constant = false
			}
		}
		return constant
	})
	return constant
}

func (c *compiler) compileNode(e logical.Expr) (node, error) {
	switch x := e.(type) {
	case *logical.ColumnRef:
		if x.Index < 0 || x.Index >= c.input.NumFields() {
			return nil, fmt.Errorf("column %s out of range for input with %d columns", x, c.input.NumFields())
		}
		t := c.input.Field(x.Index).Type
		return &columnNode{idx: x.Index, t: t}, nil
	case *logical.Literal:
		arr, err := literalArray(x)
		if err != nil {
			return nil, err
		}
		return c.constOf(arr), nil
	case *logical.Call:
		return c.compileCall(x)
	case *logical.Cast:
		in, err := c.compile(x.Input)
		if err != nil {
			return nil, err
		}
		return c.castNode(in, x.T, x.Try)
	case *logical.Case:
		return c.compileCase(x)
	case *logical.InList:
		return c.compileInList(x)
	}
	return nil, fmt.Errorf("%w: expression %s", ErrNotSupported, e)
}

// compileCall compiles a scalar function call.
func (c *compiler) compileCall(call *logical.Call) (node, error) {
	if call.UDF != nil {
		return c.compileUDF(call)
	}
	def, ok := registry[call.Func]
	if !ok {
		return nil, unsupported(call, nil)
	}
	args := make([]node, len(call.Args))
	for i, a := range call.Args {
		n, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = n
	}
	if def.strict && call.T != nil {
		for _, a := range args {
			if k, ok := a.(*constNode); ok && k.isNull() {
				if err := def.check(c, call, args); err != nil {
					return nil, err
				}
				return c.nullConst(call.T), nil
			}
		}
	}
	n, err := def.compile(c, call, args)
	if err != nil {
		return nil, err
	}
	if call.T != nil && !arrow.TypeEqual(n.dtype(), call.T) {
		return c.castNode(n, call.T, false)
	}
	return n, nil
}

// funcDef describes how to compile one scalar function.
type funcDef struct {
	// strict functions return NULL when any argument is NULL, so a NULL
	// literal argument makes the whole call a NULL constant.
	strict  bool
	compile func(c *compiler, call *logical.Call, args []node) (node, error)
}

// check compiles the call with its arguments to validate the signature
// even when a NULL literal short-circuits it.
func (d funcDef) check(c *compiler, call *logical.Call, args []node) error {
	// A NULL literal has the declared type, so the signature check is the
	// normal compile; its result is discarded.
	_, err := d.compile(&compiler{input: c.input, alloc: constAlloc, folding: true}, call, args)
	return err
}

// registry maps function names to their compilers. It is filled by init
// functions of the kernel files and only read afterwards.
var registry = map[string]funcDef{}

func register(name string, strict bool, fn func(c *compiler, call *logical.Call, args []node) (node, error)) {
	registry[name] = funcDef{strict: strict, compile: fn}
}

// unsupported is the error for a function with argument types it does not
// accept.
func unsupported(call *logical.Call, args []node) error {
	types := make([]string, len(call.Args))
	for i, a := range call.Args {
		if args != nil && args[i] != nil {
			types[i] = typeName(args[i].dtype())
		} else {
			types[i] = typeName(a.Type())
		}
	}
	return fmt.Errorf("%w: function %s(%s)", ErrNotSupported, call.Func, strings.Join(types, ", "))
}

func typeName(t arrow.DataType) string {
	if t == nil {
		return "?"
	}
	return t.String()
}

// option returns the call's option key (upper-cased), or def when unset.
func option(call *logical.Call, key, def string) string {
	if v, ok := call.Options[key]; ok && v != "" {
		return strings.ToUpper(v)
	}
	return def
}

// checkOptions rejects options the function does not know, and values not
// in the allowed list for known keys.
func checkOptions(call *logical.Call, allowed map[string][]string) error {
	for k, v := range call.Options {
		vals, ok := allowed[k]
		if !ok {
			return fmt.Errorf("%w: option %s for function %s", ErrNotSupported, k, call.Func)
		}
		if vals == nil {
			continue
		}
		found := false
		for _, a := range vals {
			if strings.EqualFold(a, v) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: option %s=%s for function %s", ErrNotSupported, k, v, call.Func)
		}
	}
	return nil
}

// columnNode reads an input column.
type columnNode struct {
	idx int
	t   arrow.DataType
}

func (n *columnNode) eval(_ context.Context, c *chunk) (arrow.Array, error) {
	if n.idx >= len(c.cols) || c.cols[n.idx] == nil {
		return nil, fmt.Errorf("expr: column %d missing from input batch with %d columns", n.idx, len(c.cols))
	}
	col := c.cols[n.idx]
	if !arrow.TypeEqual(col.DataType(), n.t) {
		return nil, fmt.Errorf("expr: column %d has type %s, compiled for %s", n.idx, col.DataType(), n.t)
	}
	col.Retain()
	return col, nil
}

func (n *columnNode) dtype() arrow.DataType { return n.t }

// constNode is a constant: a one-row array in garbage-collected memory.
// Kernels with a constant operand read it directly instead of
// materialising it; eval (used only by generic paths) broadcasts it.
type constNode struct {
	arr arrow.Array
	// alloc is the evaluator's allocator, for broadcasting.
	alloc memory.Allocator
}

func (n *constNode) dtype() arrow.DataType { return n.arr.DataType() }

func (n *constNode) isNull() bool { return n.arr.IsNull(0) }

func (n *constNode) eval(_ context.Context, c *chunk) (arrow.Array, error) {
	return broadcast(n.alloc, n.arr, c.n)
}

// nullConst is a NULL of type t.
func (c *compiler) nullConst(t arrow.DataType) *constNode {
	return &constNode{arr: nullArray(constAlloc, t, 1), alloc: c.alloc}
}

// constOf wraps a one-row array (in constAlloc memory) as a constant.
func (c *compiler) constOf(arr arrow.Array) *constNode {
	return &constNode{arr: arr, alloc: c.alloc}
}

// asConst returns n as a constant, if it is one.
func asConst(n node) (*constNode, bool) {
	k, ok := n.(*constNode)
	return k, ok
}
