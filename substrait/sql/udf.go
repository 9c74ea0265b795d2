package sql

import (
	"fmt"

	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// FunctionCatalog is implemented by a Catalog that knows user-defined
// functions (plugins, native libraries). Built-in functions win over
// user-defined ones of the same name.
type FunctionCatalog interface {
	LookupFunction(name string) (*logical.Function, bool)
}

func (b *binder) lookupUDF(name string) (*logical.Function, bool) {
	fc, ok := b.cat.(FunctionCatalog)
	if !ok {
		return nil, false
	}
	return fc.LookupFunction(name)
}

// udfArgs coerces arguments to a user-defined function's declared types:
// literals and NULLs to anything they convert to, other expressions within
// their kind (integers and decimals and floats among numbers, strings
// among strings).
func udfArgs(f *logical.Function, args []logical.Expr) ([]logical.Expr, error) {
	if len(args) != len(f.Args) {
		return nil, fmt.Errorf("function %s takes %d arguments, got %d (provided by %s)", f.Signature(), len(f.Args), len(args), f.Provider)
	}
	out := make([]logical.Expr, len(args))
	for i, a := range args {
		want := f.Args[i].Type
		_, lit := a.(*logical.Literal)
		if !lit && !isNullType(a.Type()) && !sameKind(a.Type(), want) {
			return nil, fmt.Errorf("function %s: argument %d is %s, which does not convert implicitly to %s", f.Signature(), i+1, sqlTypeName(a.Type()), sqlTypeName(want))
		}
		c, err := castTo(a, want)
		if err != nil {
			return nil, fmt.Errorf("function %s: argument %d: %w", f.Signature(), i+1, err)
		}
		out[i] = c
	}
	return out, nil
}

func sameKind(a, b arrow.DataType) bool {
	switch {
	case arrow.TypeEqual(a, b):
		return true
	case logical.IsNumeric(a) && logical.IsNumeric(b):
		return true
	case logical.IsString(a) && logical.IsString(b):
		return true
	}
	return a.ID() == b.ID()
}

// udfCall binds a call of a user-defined scalar function.
func (b *binder) udfCall(f *logical.Function, fc *pg.FuncCall, c *exprCtx) (logical.Expr, error) {
	if f.Kind == logical.AggregateFunction {
		return b.udafCall(f, fc, c)
	}
	if fc.AggStar || fc.AggDistinct || fc.AggFilter != nil {
		return nil, fmt.Errorf("%s is not an aggregate function", f.Name)
	}
	args, err := b.exprs(fc.Args, c)
	if err != nil {
		return nil, err
	}
	if args, err = udfArgs(f, args); err != nil {
		return nil, err
	}
	return &logical.Call{Func: f.Name, Args: args, T: f.Result.Type, NullableOut: true, UDF: f}, nil
}

// udafCall binds a call of a user-defined aggregate function.
func (b *binder) udafCall(f *logical.Function, fc *pg.FuncCall, c *exprCtx) (logical.Expr, error) {
	if c.inAgg {
		return nil, fmt.Errorf("aggregate function calls cannot be nested")
	}
	if !c.aggOK {
		return nil, fmt.Errorf("aggregate functions are not allowed in %s", c.clause)
	}
	if fc.AggStar {
		return nil, fmt.Errorf("%s(*) is not allowed; only count(*)", f.Name)
	}
	ac := c.with(func(c *exprCtx) {
		c.inAgg = true
		c.windowOK = false
		c.aggOK = false
		c.outerClause = "an aggregate function"
	})
	args, err := b.exprs(fc.Args, ac)
	if err != nil {
		return nil, err
	}
	if args, err = udfArgs(f, args); err != nil {
		return nil, err
	}
	call := &logical.AggregateCall{Func: f.Name, Args: args, Distinct: fc.AggDistinct, T: f.Result.Type, UDF: f}
	if fc.AggFilter != nil {
		filter, err := b.expr(fc.AggFilter, ac)
		if err != nil {
			return nil, err
		}
		if call.Filter, err = toBool(filter, "FILTER"); err != nil {
			return nil, err
		}
	}
	return call, nil
}

var builtinScalars = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, len(scalarNames))
	for _, n := range scalarNames {
		m[n] = true
	}
	return m
})

// builtinScalar reports whether name is a built-in scalar function.
func builtinScalar(name string) bool { return builtinScalars()[name] }
