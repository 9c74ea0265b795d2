package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// binder binds one statement.
type binder struct {
	cat       Catalog
	p         *Parsed // for error positions
	viewDepth int
	nextID    int
	// now is the statement time, read from the clock on first use: every
	// now(), current_timestamp and current_date of a statement (its views
	// included) sees the same instant, as in PostgreSQL.
	now *time.Time
}

// clock reads the current time; tests replace it.
var clock = time.Now

func newBinder(cat Catalog, p *Parsed) *binder { return &binder{cat: cat, p: p} }

// statementTime is the statement's time in UTC (timestamps carry no zone;
// the engine's wall clock is UTC).
func (b *binder) statementTime() time.Time {
	if b.now == nil {
		t := clock().UTC()
		b.now = &t
	}
	return *b.now
}

// currentTimestamp is the statement time as a timestamp literal, rounded
// down to precision fractional digits (0 to 6).
func (b *binder) currentTimestamp(precision int32) *logical.Literal {
	us := b.statementTime().UnixMicro()
	if precision >= 0 && precision < 6 {
		unit := int64(1)
		for i := precision; i < 6; i++ {
			unit *= 10
		}
		us -= ((us % unit) + unit) % unit
	}
	return &logical.Literal{Value: arrow.Timestamp(us), T: logical.TimestampUs}
}

// currentDate is the statement's date as a date literal.
func (b *binder) currentDate() *logical.Literal {
	t := b.statementTime()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
	return &logical.Literal{Value: arrow.Date32(d), T: logical.Date32}
}

// errAt attaches the position loc (a byte offset in the statement, -1 when
// unknown) to err.
func (b *binder) errAt(loc int32, err error) error {
	if err == nil {
		return nil
	}
	return b.p.errorAt(int(loc), err)
}

// env is what a query block sees besides its own FROM clause.
type env struct {
	ctes  map[string]*cteDef
	outer *scope // scope of the enclosing query, for correlated subqueries
	// far are the scopes of the queries enclosing outer (references to
	// them are not supported; they are known for the error message).
	far []*scope
	// sub, when set, collects the correlation of a subquery block.
	sub *subqueryInfo
}

// child returns an env for a nested block that is not a subquery
// expression (derived table, set operation branch): it sees the CTEs and
// the outer scope but collects no correlation.
func (e *env) child() *env { return &env{ctes: e.ctes, outer: e.outer, far: e.far} }

// cteDef is a bound common table expression.
type cteDef struct {
	plan  logical.Plan
	names []string
}

// scopeCol is a column visible to name resolution. Its type, nullability
// and reference name come from the schema of the scope (see scope.ref).
type scopeCol struct {
	qual string // table name or alias
	name string // the name it resolves by (an alias may rename the column)
	idx  int    // position in the plan the scope describes
	// hidden columns (the right copy of a USING column) resolve only when
	// qualified and are not expanded by *.
	hidden bool
}

// scope is the set of columns a query block's expressions can name.
type scope struct {
	cols []scopeCol
	// schema is the schema of the plan (or, for a join condition, of the
	// join's inputs side by side) that the column positions index.
	schema *logical.Schema
}

// emptyScope is a scope with no columns (VALUES, LIMIT expressions).
func emptyScope() *scope { return &scope{schema: &logical.Schema{}} }

// ref is a reference to column c, named, typed and with the nullability of
// the schema field it reads.
func (s *scope) ref(c scopeCol) *logical.ColumnRef { return logical.Col(s.schema, c.idx) }

// scopeOf builds a scope for every column of p, qualified by qual (or by
// the plan's own qualifiers when qual is empty).
func scopeOf(p logical.Plan, qual string) *scope {
	s := &scope{schema: p.Schema()}
	for i, f := range p.Schema().Fields {
		q := qual
		if q == "" {
			q = f.Qualifier
		}
		s.cols = append(s.cols, scopeCol{qual: q, name: f.Name, idx: i})
	}
	return s
}

// outerRef is a reference from a subquery to a column of the enclosing
// query (Index is a position in the outer scope's plan; Steps is 1). It
// exists only while binding: decorrelation turns every outerRef into a
// join condition.
type outerRef = logical.OuterRef

// hasOuterRef reports whether e references the enclosing query.
func hasOuterRef(e logical.Expr) bool {
	found := false
	walk(e, func(n logical.Expr) bool {
		// A nested subquery's own outer references point at this block;
		// only its test expression (which walk visits) can reach further.
		if _, ok := n.(*outerRef); ok {
			found = true
		}
		return !found
	})
	return found
}

// walk visits e and its sub-expressions, including the test expressions of
// subquery placeholders.
func walk(e logical.Expr, fn func(logical.Expr) bool) {
	logical.WalkExpr(e, func(n logical.Expr) bool {
		if !fn(n) {
			return false
		}
		switch x := n.(type) {
		case *subqueryExpr:
			if x.test != nil {
				walk(x.test, fn)
			}
		case *groupingExpr:
			for _, a := range x.args {
				walk(a, fn)
			}
		}
		return true
	})
}

// lookupResult is a resolved column name.
type lookupResult struct {
	col   scopeCol
	outer bool
}

// nameMatch compares identifiers: exact, or case-insensitive for names that
// were not quoted in the data source (the catalog may keep upper case).
func nameMatch(want, have string, fold bool) bool {
	if fold {
		return strings.EqualFold(want, have)
	}
	return want == have
}

// find returns the columns of s named name (qualified by qual when set).
func (s *scope) find(qual, name string) []scopeCol {
	for _, fold := range []bool{false, true} {
		var hits []scopeCol
		for _, c := range s.cols {
			if qual != "" {
				if nameMatch(qual, c.qual, fold) && nameMatch(name, c.name, fold) {
					hits = append(hits, c)
				}
				continue
			}
			if !c.hidden && nameMatch(name, c.name, fold) {
				hits = append(hits, c)
			}
		}
		if len(hits) > 0 {
			return hits
		}
	}
	return nil
}

// hasQual reports whether some column of s has qualifier q.
func (s *scope) hasQual(q string) bool {
	for _, c := range s.cols {
		if strings.EqualFold(c.qual, q) {
			return true
		}
	}
	return false
}

// names lists the column names of s for suggestions (qualified when qual
// is set).
func (s *scope) names(qual string) []string {
	var out []string
	for _, c := range s.cols {
		if qual == "" || strings.EqualFold(c.qual, qual) {
			out = append(out, c.name)
		}
	}
	return out
}

func (s *scope) quals() []string {
	var out []string
	for _, c := range s.cols {
		if c.qual != "" {
			out = append(out, c.qual)
		}
	}
	return out
}

// resolve finds a column in s, then in the enclosing scope (outer=true).
func resolve(s, outer *scope, qual, name string) (lookupResult, error) {
	display := name
	if qual != "" {
		display = qual + "." + name
	}
	for depth, sc := range []*scope{s, outer} {
		if sc == nil {
			continue
		}
		hits := sc.find(qual, name)
		if len(hits) > 1 {
			// Several copies of the same column (for example a CTE
			// joined with itself under the same alias) are ambiguous too.
			return lookupResult{}, fmt.Errorf("column reference %q is ambiguous", display)
		}
		if len(hits) == 1 {
			return lookupResult{col: hits[0], outer: depth == 1}, nil
		}
	}
	if qual != "" && !s.hasQual(qual) && (outer == nil || !outer.hasQual(qual)) {
		cands := s.quals()
		if outer != nil {
			cands = append(cands, outer.quals()...)
		}
		return lookupResult{}, fmt.Errorf("missing FROM-clause entry for table %q%s", qual, suggest(qual, cands))
	}
	cands := s.names(qual)
	if outer != nil {
		cands = append(cands, outer.names(qual)...)
	}
	return lookupResult{}, fmt.Errorf("column %q not found%s", display, suggest(name, cands))
}
