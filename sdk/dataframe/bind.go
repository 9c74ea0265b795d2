package dataframe

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// ColumnError is a column name that does not resolve: not found (with the
// nearest names as suggestions) or ambiguous (with the candidates).
type ColumnError struct {
	// Name is the name as written.
	Name string
	// Ambiguous lists the qualified names it matches when it matches more
	// than one column; empty when it matches none.
	Ambiguous []string
	// Suggestions are the closest column names when it matches none.
	Suggestions []string
	// Columns lists the input's columns (qualified) when there are few and
	// nothing is close.
	Columns []string
}

func (e *ColumnError) Error() string {
	if len(e.Ambiguous) > 0 {
		return fmt.Sprintf("column %q is ambiguous: it matches %s; qualify it, after giving the inputs distinct names with Alias if needed",
			e.Name, strings.Join(e.Ambiguous, " and "))
	}
	msg := fmt.Sprintf("column %q not found", e.Name)
	switch {
	case len(e.Suggestions) > 0:
		msg += "; did you mean " + strings.Join(e.Suggestions, " or ") + "?"
	case len(e.Columns) > 0:
		msg += " among " + strings.Join(e.Columns, ", ")
	}
	return msg
}

// ErrAggregate is wrapped by errors about aggregates used where they are
// not allowed, or columns used outside GroupBy in an aggregation.
var ErrAggregate = errors.New("aggregate misuse")

// resolve finds the column name refers to in s. A name with a dot is
// first looked up whole (a column may have a dot in its name), then as
// qualifier.column. Exact matches win over case-insensitive ones.
func resolve(s *logical.Schema, name string) (int, error) {
	if name == "" {
		return -1, fmt.Errorf("empty column name")
	}
	type cand struct {
		qual, name string
	}
	try := []cand{{"", name}}
	if q, n, ok := strings.Cut(name, "."); ok && q != "" && n != "" {
		try = append(try, cand{q, n})
	}
	for _, fold := range []bool{false, true} {
		for _, c := range try {
			var hits []int
			for i, f := range s.Fields {
				if match(c.name, f.Name, fold) && (c.qual == "" || match(c.qual, f.Qualifier, fold)) {
					hits = append(hits, i)
				}
			}
			switch len(hits) {
			case 0:
				continue
			case 1:
				return hits[0], nil
			}
			amb := make([]string, len(hits))
			for i, h := range hits {
				amb[i] = qualified(s.Fields[h])
			}
			return -1, &ColumnError{Name: name, Ambiguous: amb}
		}
	}
	ce := &ColumnError{Name: name}
	if len(try) == 2 {
		// A qualified name whose column exists under other qualifiers.
		for _, f := range s.Fields {
			if strings.EqualFold(f.Name, try[1].name) {
				ce.Suggestions = append(ce.Suggestions, qualified(f))
			}
		}
	}
	if len(ce.Suggestions) == 0 {
		ce.Suggestions = suggest(s, try[len(try)-1].name)
	}
	if len(ce.Suggestions) == 0 && len(s.Fields) <= 12 {
		for _, f := range s.Fields {
			ce.Columns = append(ce.Columns, qualified(f))
		}
	}
	return -1, ce
}

func match(want, have string, fold bool) bool {
	if fold {
		return strings.EqualFold(want, have)
	}
	return want == have
}

func qualified(f logical.Field) string {
	if f.Qualifier == "" {
		return f.Name
	}
	return f.Qualifier + "." + f.Name
}

// suggest returns up to three column names close to name: by edit
// distance, or containing name's letters in order (l_qty → l_quantity).
func suggest(s *logical.Schema, name string) []string {
	lname := strings.ToLower(name)
	type scored struct {
		name string
		d    int
	}
	var close []scored
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		lf := strings.ToLower(f.Name)
		d := sql.EditDistance(lname, lf)
		if d <= max(2, len([]rune(name))/3) || (len(lname) >= 3 && isSubsequence(lname, lf)) {
			close = append(close, scored{f.Name, d})
		}
	}
	sort.SliceStable(close, func(i, j int) bool {
		if close[i].d != close[j].d {
			return close[i].d < close[j].d
		}
		return close[i].name < close[j].name
	})
	var out []string
	for i := 0; i < len(close) && i < 3; i++ {
		out = append(out, close[i].name)
	}
	return out
}

// isSubsequence reports whether a's characters appear in b in order.
func isSubsequence(a, b string) bool {
	ar := []rune(a)
	i := 0
	for _, r := range b {
		if i < len(ar) && r == ar[i] {
			i++
		}
	}
	return i == len(ar)
}

// binder binds expressions against the schema of an operation's input.
type binder struct {
	in     *logical.Schema
	clause string
	// agg, when set, collects the aggregates of an Agg and maps grouped
	// expressions to the aggregate's output columns.
	agg *aggState
}

// aggState is the state of binding the items of one Agg.
type aggState struct {
	groups     []logical.Expr // bound over the input
	groupNames []string
	groupKeys  map[string]int
	calls      []*logical.AggregateCall
	callKeys   map[string]int
}

func exprKey(e logical.Expr) string { return e.String() + "::" + e.Type().String() }

// groupRef is a reference to group key i in the aggregate's output.
func (a *aggState) groupRef(i int) *logical.ColumnRef {
	g := a.groups[i]
	return &logical.ColumnRef{Index: i, Name: a.groupNames[i], T: g.Type(), CanBeNull: g.Nullable()}
}

// callRef adds (once) an aggregate call and returns a reference to its
// output column.
func (a *aggState) callRef(c *logical.AggregateCall) *logical.ColumnRef {
	k := exprKey(c)
	i, ok := a.callKeys[k]
	if !ok {
		i = len(a.calls)
		a.calls = append(a.calls, c)
		a.callKeys[k] = i
	}
	return &logical.ColumnRef{Index: len(a.groups) + i, Name: c.String(), T: c.T, CanBeNull: c.Nullable()}
}

func (b *binder) plain() *binder { return &binder{in: b.in, clause: b.clause} }

// bind binds e to a logical expression.
func (b *binder) bind(e Expr) (logical.Expr, error) {
	if e.n == nil {
		return nil, fmt.Errorf("empty expression (the zero Expr)")
	}
	if b.agg != nil {
		if out, ok, err := b.grouped(e); ok || err != nil {
			return out, err
		}
	}
	switch n := e.n.(type) {
	case colNode:
		i, err := resolve(b.in, n.name)
		if err != nil {
			return nil, err
		}
		return logical.Col(b.in, i), nil
	case litNode:
		if n.err != nil {
			return nil, n.err
		}
		return n.lit, nil
	case aliasNode:
		return b.bind(n.e)
	case opNode:
		return b.op(n)
	case fnNode:
		args, err := b.bindAll(n.args)
		if err != nil {
			return nil, err
		}
		return sql.Function(n.name, args...)
	case castNode:
		if n.t == nil {
			return nil, fmt.Errorf("CAST to a nil type")
		}
		x, err := b.bind(n.e)
		if err != nil {
			return nil, err
		}
		return sql.Cast(x, n.t)
	case inNode:
		x, err := b.bind(n.e)
		if err != nil {
			return nil, err
		}
		list, err := b.bindAll(n.list)
		if err != nil {
			return nil, err
		}
		return sql.In(x, list, n.negated)
	case likeNode:
		x, err := b.bind(n.e)
		if err != nil {
			return nil, err
		}
		p, err := b.bind(n.pattern)
		if err != nil {
			return nil, err
		}
		esc := n.escape
		out, err := sql.Like(x, p, n.caseInsensitive, esc)
		if err != nil {
			return nil, err
		}
		if n.negated {
			return sql.Connective("not", out)
		}
		return out, nil
	case betweenNode:
		all, err := b.bindAll([]Expr{n.e, n.lo, n.hi})
		if err != nil {
			return nil, err
		}
		return sql.Between(all[0], all[1], all[2], n.negated)
	case caseNode:
		conds, err := b.bindAll(n.conds)
		if err != nil {
			return nil, err
		}
		thens, err := b.bindAll(n.thens)
		if err != nil {
			return nil, err
		}
		var els logical.Expr
		if n.els != nil {
			if els, err = b.bind(*n.els); err != nil {
				return nil, err
			}
		}
		return sql.CaseWhen(conds, thens, els)
	case aggNode:
		if b.agg == nil {
			return nil, fmt.Errorf("%w: aggregate %s is not allowed in %s (use Agg or GroupBy(...).Agg)", ErrAggregate, n, b.clause)
		}
		var arg logical.Expr
		if n.arg != nil {
			inner := &binder{in: b.in, clause: "the argument of " + n.name}
			x, err := inner.bind(*n.arg)
			if err != nil {
				return nil, err
			}
			arg = x
		}
		c, err := sql.Aggregate(n.name, arg, n.distinct, nil)
		if err != nil {
			return nil, err
		}
		return b.agg.callRef(c), nil
	}
	return nil, fmt.Errorf("unknown expression %T", e.n)
}

// grouped handles e inside Agg: a sub-expression without aggregates must be
// a group key (or read no column at all); it becomes a reference to the
// key's output column. ok is false when e needs binding node by node
// (it holds aggregates).
func (b *binder) grouped(e Expr) (logical.Expr, bool, error) {
	if _, isAlias := e.n.(aliasNode); isAlias || hasAggregate(e) {
		return nil, false, nil
	}
	x, err := b.plain().bind(e)
	if err != nil {
		// A group key may be named by its name in the output (its As).
		var ce *ColumnError
		if c, isCol := e.n.(colNode); isCol && errors.As(err, &ce) && len(ce.Ambiguous) == 0 {
			for i, n := range b.agg.groupNames {
				if n == c.name {
					return b.agg.groupRef(i), true, nil
				}
			}
		}
		if _, isCol := e.n.(colNode); isCol {
			return nil, true, err
		}
		// Bind the parts: a column may name a key by its output name, and
		// any other error recurs at the part that causes it.
		return nil, false, nil
	}
	if i, ok := b.agg.groupKeys[exprKey(x)]; ok {
		return b.agg.groupRef(i), true, nil
	}
	if len(logical.ColumnsUsed(x, nil)) == 0 {
		return x, true, nil
	}
	if _, isCol := e.n.(colNode); isCol {
		return nil, true, fmt.Errorf("%w: column %q must be a GroupBy key or be used inside an aggregate function", ErrAggregate, e.String())
	}
	// An expression over columns: bind its parts, each of which must be
	// a key or an aggregate.
	return nil, false, nil
}

// hasAggregate reports whether e contains an aggregate call.
func hasAggregate(e Expr) bool {
	found := false
	walk(e, func(x Expr) {
		if _, ok := x.n.(aggNode); ok {
			found = true
		}
	})
	return found
}

// walk calls fn for e and its sub-expressions (not into aggregate
// arguments).
func walk(e Expr, fn func(Expr)) {
	fn(e)
	var kids []Expr
	switch n := e.n.(type) {
	case opNode:
		kids = n.args
	case fnNode:
		kids = n.args
	case castNode:
		kids = []Expr{n.e}
	case inNode:
		kids = append([]Expr{n.e}, n.list...)
	case likeNode:
		kids = []Expr{n.e, n.pattern}
	case betweenNode:
		kids = []Expr{n.e, n.lo, n.hi}
	case caseNode:
		kids = append(append([]Expr(nil), n.conds...), n.thens...)
		if n.els != nil {
			kids = append(kids, *n.els)
		}
	case aliasNode:
		kids = []Expr{n.e}
	}
	for _, k := range kids {
		walk(k, fn)
	}
}

func (b *binder) bindAll(es []Expr) ([]logical.Expr, error) {
	out := make([]logical.Expr, len(es))
	for i, e := range es {
		x, err := b.bind(e)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (b *binder) op(n opNode) (logical.Expr, error) {
	args, err := b.bindAll(n.args)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "add", "subtract", "multiply", "divide", "modulus":
		return sql.Arithmetic(n.op, args[0], args[1])
	case "negate":
		return sql.Negate(args[0])
	case "equal", "not_equal", "lt", "lte", "gt", "gte", "is_distinct_from":
		return sql.Compare(n.op, args[0], args[1])
	case "and", "or", "not":
		if len(args) == 1 && n.op != "not" {
			return sql.Boolean(args[0], strings.ToUpper(n.op))
		}
		return sql.Connective(n.op, args...)
	case "is_null", "is_not_null":
		return &logical.Call{Func: n.op, Args: args, T: logical.Bool}, nil
	}
	return nil, fmt.Errorf("unknown operator %s", n.op)
}

// name is the output name of an item: its alias, the column's name for a
// column reference, else its text.
func name(e Expr, bound logical.Expr, in *logical.Schema) string {
	switch n := e.n.(type) {
	case aliasNode:
		return n.name
	case colNode:
		if c, ok := bound.(*logical.ColumnRef); ok && in != nil && c.Index < in.Len() {
			return in.Fields[c.Index].Name
		}
	}
	return e.String()
}

// top binds a whole expression of an operation. A NULL constant whose
// type nothing determined (Lit(nil) alone, or compared only with other
// NULLs) is an error: plans carry typed values only.
func (b *binder) top(e Expr) (logical.Expr, error) {
	x, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	var untyped logical.Expr
	logical.WalkExpr(x, func(n logical.Expr) bool {
		if untyped == nil && n.Type().ID() == arrow.NULL {
			untyped = n
		}
		return untyped == nil
	})
	if untyped != nil {
		return nil, fmt.Errorf("%s has no type (an untyped NULL): give it one with Null(type) or Lit(nil).Cast(type)", untyped)
	}
	return x, nil
}
