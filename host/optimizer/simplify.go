package optimizer

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// SimplifyExpressions folds constant sub-expressions and applies algebraic
// identities in every expression of the plan: literal arithmetic (integers,
// floats, decimals, date ± interval), comparisons and casts of literals,
// NULL propagation through strict functions, boolean identities (x AND true,
// NOT NOT x, factoring common conjuncts out of OR), x = x for non-null x,
// single-element IN lists, CASE arms with constant conditions, COALESCE of
// literals and LIKE patterns that are plain prefixes, suffixes or
// substrings. Every rewrite keeps the expression's type; folds that would
// overflow, divide by zero or round are left to run time.
type SimplifyExpressions struct{}

// Name implements Rule.
func (SimplifyExpressions) Name() string { return "simplify_expressions" }

// Apply implements Rule.
func (SimplifyExpressions) Apply(p logical.Plan) (logical.Plan, error) {
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		return mapNodeExprs(n, Simplify), nil
	})
}

// Simplify returns a simplified expression equivalent to e, of the same type.
func Simplify(e logical.Expr) logical.Expr {
	out, _ := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		s := simplifyNode(n)
		if s.Type() == nil || !arrow.TypeEqual(s.Type(), n.Type()) {
			return n, nil // never change a type
		}
		return s, nil
	})
	return out
}

func simplifyNode(e logical.Expr) logical.Expr {
	switch x := e.(type) {
	case *logical.Cast:
		if l, ok := x.Input.(*logical.Literal); ok {
			if c, ok := castLiteral(l, x.T); ok {
				return c
			}
			return x
		}
		if arrow.TypeEqual(x.Input.Type(), x.T) {
			return x.Input
		}
	case *logical.Call:
		return simplifyCall(x)
	case *logical.InList:
		return simplifyInList(x)
	case *logical.Case:
		return simplifyCase(x)
	}
	return e
}

// strictFuncs return NULL whenever any argument is NULL.
var strictFuncs = map[string]bool{
	"add": true, "subtract": true, "multiply": true, "divide": true, "modulus": true, "negate": true,
	"abs": true, "sign": true, "power": true, "sqrt": true, "exp": true, "ln": true, "log10": true,
	"floor": true, "ceil": true, "round": true,
	"equal": true, "not_equal": true, "lt": true, "lte": true, "gt": true, "gte": true, "between": true,
	"not": true, "xor": true,
	"like": true, "ilike": true, "concat": true, "substring": true, "upper": true, "lower": true,
	"char_length": true, "octet_length": true, "trim": true, "ltrim": true, "rtrim": true,
	"strpos": true, "replace": true, "starts_with": true, "ends_with": true, "contains": true,
	"left": true, "right": true, "lpad": true, "rpad": true, "reverse": true, "repeat": true,
	"split_part": true, "regexp_match": true, "extract": true, "date_trunc": true,
}

var comparisonInverse = map[string]string{
	"equal": "not_equal", "not_equal": "equal", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt",
	"is_distinct_from": "is_not_distinct_from", "is_not_distinct_from": "is_distinct_from",
	"is_null": "is_not_null", "is_not_null": "is_null",
}

func isComparison(fn string) bool {
	switch fn {
	case "equal", "not_equal", "lt", "lte", "gt", "gte":
		return true
	}
	return false
}

func simplifyCall(x *logical.Call) logical.Expr {
	switch x.Func {
	case "and":
		return simplifyAnd(x)
	case "or":
		return simplifyOr(x)
	case "not":
		return simplifyNot(x)
	case "is_null", "is_not_null":
		if len(x.Args) != 1 {
			return x
		}
		want := x.Func == "is_null"
		if l, ok := x.Args[0].(*logical.Literal); ok {
			return boolLit((l.Value == nil) == want)
		}
		if !x.Args[0].Nullable() {
			return boolLit(!want)
		}
		return x
	case "is_true", "is_false", "is_not_true", "is_not_false":
		if len(x.Args) == 1 {
			if l, ok := x.Args[0].(*logical.Literal); ok {
				v, isBool := l.Value.(bool)
				if l.Value != nil && !isBool {
					return x
				}
				var r bool
				switch x.Func {
				case "is_true":
					r = l.Value != nil && v
				case "is_false":
					r = l.Value != nil && !v
				case "is_not_true":
					r = l.Value == nil || !v
				default:
					r = l.Value == nil || v
				}
				return boolLit(r)
			}
		}
		return x
	case "is_distinct_from", "is_not_distinct_from":
		return simplifyDistinctFrom(x)
	case "coalesce":
		return simplifyCoalesce(x)
	case "like":
		return simplifyLike(x)
	}
	if strictFuncs[x.Func] {
		for _, a := range x.Args {
			if isNullLit(a) {
				return logical.NullLiteral(x.T)
			}
		}
	}
	lits, allLit := literalArgs(x.Args)
	if allLit && len(lits) > 0 {
		if r, ok := foldCall(x, lits); ok {
			return r
		}
	}
	if isComparison(x.Func) && len(x.Args) == 2 && exprEqual(x.Args[0], x.Args[1]) &&
		!x.Args[0].Nullable() && !logical.IsFloat(x.Args[0].Type()) {
		switch x.Func {
		case "equal", "lte", "gte":
			return boolLit(true)
		default:
			return boolLit(false)
		}
	}
	return x
}

func literalArgs(args []logical.Expr) ([]*logical.Literal, bool) {
	out := make([]*logical.Literal, len(args))
	for i, a := range args {
		l, ok := a.(*logical.Literal)
		if !ok || l.Value == nil {
			return nil, false
		}
		out[i] = l
	}
	return out, true
}

// foldCall evaluates x over non-null literal arguments.
func foldCall(x *logical.Call, a []*logical.Literal) (logical.Expr, bool) {
	switch x.Func {
	case "equal", "not_equal", "lt", "lte", "gt", "gte":
		if len(a) != 2 {
			return nil, false
		}
		c, ok := compareLiterals(a[0], a[1])
		if !ok {
			return nil, false
		}
		var r bool
		switch x.Func {
		case "equal":
			r = c == 0
		case "not_equal":
			r = c != 0
		case "lt":
			r = c < 0
		case "lte":
			r = c <= 0
		case "gt":
			r = c > 0
		default:
			r = c >= 0
		}
		return boolLit(r), true
	case "between":
		if len(a) != 3 {
			return nil, false
		}
		lo, ok1 := compareLiterals(a[0], a[1])
		hi, ok2 := compareLiterals(a[0], a[2])
		if !ok1 || !ok2 {
			return nil, false
		}
		return boolLit(lo >= 0 && hi <= 0), true
	case "add", "subtract", "multiply", "divide", "modulus":
		if len(a) != 2 {
			return nil, false
		}
		return arith(x.Func, a[0], a[1], x.T)
	case "negate":
		if len(a) != 1 {
			return nil, false
		}
		zero, ok := castLiteral(&logical.Literal{Value: int64(0), T: logical.Int64}, a[0].T)
		if !ok {
			return nil, false
		}
		return arith("subtract", zero, a[0], x.T)
	case "xor":
		if len(a) != 2 {
			return nil, false
		}
		p, ok1 := a[0].Value.(bool)
		q, ok2 := a[1].Value.(bool)
		return boolLit(p != q), ok1 && ok2
	case "concat":
		if x.T.ID() != arrow.STRING {
			return nil, false
		}
		var b strings.Builder
		for _, l := range a {
			s, ok := l.Value.(string)
			if !ok {
				return nil, false
			}
			b.WriteString(s)
		}
		return &logical.Literal{Value: b.String(), T: x.T}, true
	case "upper", "lower":
		s, ok := a[0].Value.(string)
		if !ok || len(a) != 1 || x.T.ID() != arrow.STRING {
			return nil, false
		}
		if x.Func == "upper" {
			s = strings.ToUpper(s)
		} else {
			s = strings.ToLower(s)
		}
		return &logical.Literal{Value: s, T: x.T}, true
	}
	return nil, false
}

func simplifyAnd(x *logical.Call) logical.Expr {
	var out []logical.Expr
	hasNull := false
	for _, c := range logical.SplitConjunction(x) {
		switch {
		case isBoolLit(c, false):
			return boolLit(false)
		case isTrue(c):
			continue
		case isNullLit(c):
			hasNull = true
		default:
			if !containsExpr(out, c) {
				out = append(out, c)
			}
		}
	}
	if hasNull {
		out = append(out, logical.NullLiteral(logical.Bool))
	}
	if len(out) == 0 {
		return boolLit(true)
	}
	return logical.And(out...)
}

func simplifyOr(x *logical.Call) logical.Expr {
	var out []logical.Expr
	hasNull := false
	for _, d := range splitDisjunction(x) {
		switch {
		case isTrue(d):
			return boolLit(true)
		case isBoolLit(d, false):
			continue
		case isNullLit(d):
			hasNull = true
		default:
			if !containsExpr(out, d) {
				out = append(out, d)
			}
		}
	}
	if hasNull {
		out = append(out, logical.NullLiteral(logical.Bool))
	}
	if len(out) > 1 && !hasNull {
		if f := factorDisjunction(out); f != nil {
			return f
		}
	}
	return orOf(out)
}

// factorDisjunction rewrites (c AND r1) OR (c AND r2) into c AND (r1 OR r2),
// and (c) OR (c AND r) into c (both hold in three-valued logic). It returns
// nil when the disjuncts share no conjunct.
func factorDisjunction(disj []logical.Expr) logical.Expr {
	conj := make([][]logical.Expr, len(disj))
	for i, d := range disj {
		conj[i] = logical.SplitConjunction(d)
	}
	var common []logical.Expr
	for _, c := range conj[0] {
		inAll := true
		for _, other := range conj[1:] {
			if !containsExpr(other, c) {
				inAll = false
				break
			}
		}
		if inAll && !containsExpr(common, c) {
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		return nil
	}
	rest := make([]logical.Expr, 0, len(disj))
	for _, cs := range conj {
		var r []logical.Expr
		for _, c := range cs {
			if !containsExpr(common, c) {
				r = append(r, c)
			}
		}
		if len(r) == 0 {
			// One disjunct is exactly the common part: it absorbs the others.
			return logical.And(common...)
		}
		rest = append(rest, logical.And(r...))
	}
	return logical.And(append(common, simplifyOr(orOf(rest).(*logical.Call)))...)
}

func simplifyNot(x *logical.Call) logical.Expr {
	if len(x.Args) != 1 {
		return x
	}
	switch a := x.Args[0].(type) {
	case *logical.Literal:
		if a.Value == nil {
			return logical.NullLiteral(x.T)
		}
		if v, ok := a.Value.(bool); ok {
			return boolLit(!v)
		}
	case *logical.Call:
		if a.Func == "not" && len(a.Args) == 1 {
			return a.Args[0]
		}
		if inv, ok := comparisonInverse[a.Func]; ok {
			if isComparison(a.Func) && len(a.Args) == 2 && (logical.IsFloat(a.Args[0].Type()) || logical.IsFloat(a.Args[1].Type())) {
				return x // NaN makes NOT (a < b) differ from a >= b
			}
			c := *a
			c.Func = inv
			return &c
		}
	case *logical.InList:
		c := *a
		c.Negated = !a.Negated
		return &c
	}
	return x
}

func simplifyDistinctFrom(x *logical.Call) logical.Expr {
	if len(x.Args) != 2 {
		return x
	}
	same := x.Func == "is_not_distinct_from"
	if exprEqual(x.Args[0], x.Args[1]) && !logical.IsFloat(x.Args[0].Type()) {
		return boolLit(same)
	}
	l0, ok0 := x.Args[0].(*logical.Literal)
	l1, ok1 := x.Args[1].(*logical.Literal)
	if !ok0 || !ok1 {
		return x
	}
	if l0.Value == nil || l1.Value == nil {
		return boolLit((l0.Value == nil && l1.Value == nil) == same)
	}
	c, ok := compareLiterals(l0, l1)
	if !ok {
		return x
	}
	return boolLit((c == 0) == same)
}

func simplifyCoalesce(x *logical.Call) logical.Expr {
	var args []logical.Expr
	for _, a := range x.Args {
		if isNullLit(a) {
			continue
		}
		args = append(args, a)
		if !a.Nullable() {
			break // later arguments are never reached
		}
	}
	switch len(args) {
	case 0:
		return logical.NullLiteral(x.T)
	case 1:
		if arrow.TypeEqual(args[0].Type(), x.T) {
			return args[0]
		}
	}
	if len(args) == len(x.Args) {
		return x
	}
	c := *x
	c.Args = args
	return &c
}

// simplifyLike turns LIKE patterns without '_' and with '%' only at the ends
// into equal, starts_with, ends_with or contains.
func simplifyLike(x *logical.Call) logical.Expr {
	if len(x.Args) != 2 || len(x.Options) > 0 {
		return x
	}
	for _, a := range x.Args {
		if isNullLit(a) {
			return logical.NullLiteral(x.T)
		}
	}
	pl, ok := x.Args[1].(*logical.Literal)
	if !ok {
		return x
	}
	pat, ok := pl.Value.(string)
	if !ok || strings.ContainsAny(pat, "_\\") {
		return x
	}
	core := strings.TrimSuffix(strings.TrimPrefix(pat, "%"), "%")
	lead, trail := strings.HasPrefix(pat, "%"), strings.HasSuffix(pat, "%") && len(pat) > 1
	if strings.Contains(core, "%") || (core == "" && (lead || trail)) {
		return x
	}
	fn := "equal"
	switch {
	case lead && trail:
		fn = "contains"
	case lead:
		fn = "ends_with"
	case trail:
		fn = "starts_with"
	}
	c := *x
	c.Func = fn
	c.Args = []logical.Expr{x.Args[0], &logical.Literal{Value: core, T: pl.T}}
	return &c
}

func simplifyInList(x *logical.InList) logical.Expr {
	list := dedupExprs(x.List)
	if il, ok := x.Input.(*logical.Literal); ok {
		if il.Value == nil {
			return logical.NullLiteral(logical.Bool)
		}
		lits, all := literalArgs(list)
		sawNull := false
		if !all {
			lits = nil
			for _, e := range list {
				l, ok := e.(*logical.Literal)
				if !ok {
					goto keep
				}
				if l.Value == nil {
					sawNull = true
					continue
				}
				lits = append(lits, l)
			}
		}
		for _, l := range lits {
			c, ok := compareLiterals(il, l)
			if !ok {
				goto keep
			}
			if c == 0 {
				return boolLit(!x.Negated)
			}
		}
		if sawNull {
			return logical.NullLiteral(logical.Bool)
		}
		return boolLit(x.Negated)
	}
keep:
	if len(list) == 1 && arrow.TypeEqual(list[0].Type(), x.Input.Type()) {
		fn := "equal"
		if x.Negated {
			fn = "not_equal"
		}
		return &logical.Call{Func: fn, Args: []logical.Expr{x.Input, list[0]}, T: logical.Bool,
			NullableOut: x.Input.Nullable() || list[0].Nullable()}
	}
	if len(list) == len(x.List) {
		return x
	}
	c := *x
	c.List = list
	return &c
}

func simplifyCase(x *logical.Case) logical.Expr {
	var whens []logical.When
	for _, w := range x.Whens {
		if isBoolLit(w.Cond, false) || isNullLit(w.Cond) {
			continue
		}
		if isTrue(w.Cond) {
			if len(whens) == 0 {
				return w.Then
			}
			// Later arms are unreachable; this arm becomes the ELSE.
			c := *x
			c.Whens = whens
			c.Else = w.Then
			return &c
		}
		whens = append(whens, w)
	}
	if len(whens) == 0 {
		if x.Else == nil {
			return logical.NullLiteral(x.T)
		}
		return x.Else
	}
	if len(whens) == len(x.Whens) {
		return x
	}
	c := *x
	c.Whens = whens
	return &c
}
