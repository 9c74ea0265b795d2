// Package sql is Arbalest's SQL frontend: it splits a script into
// statements, parses them with the PostgreSQL grammar (pg_query) plus a few
// statements of its own (CREATE EXTERNAL TABLE, SHOW TABLES, DESCRIBE,
// EXPLAIN), binds names and types against a Catalog and builds logical
// plans (package logical).
//
// Binding follows PostgreSQL semantics: unquoted identifiers are
// case-insensitive, integer division truncates, ASC sorts put NULLs last,
// numeric literals with a decimal point are decimals of exactly their
// digits. Correlated subqueries are decorrelated into joins (semi, anti,
// mark, single or left joins over grouped subqueries).
package sql

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Catalog resolves the names a statement refers to.
type Catalog interface {
	// LookupTable finds a table by name.
	LookupTable(name string) (*logical.TableSource, bool)
	// LookupView returns the body (a SELECT) of a view; it is bound on use.
	LookupView(name string) (sql string, ok bool)
	// TableNames lists the tables and views, for "did you mean" hints.
	TableNames() []string
}

// Parsed is one parsed statement of a script.
type Parsed struct {
	// SQL is the text of the statement, without the trailing semicolon.
	SQL string

	script string // the whole script, for error positions
	offset int    // byte offset of SQL in script

	pgText string   // text handed to pg_query (SQL with rewrites)
	stmt   *pg.Node // set for PostgreSQL statements
	custom any      // set for our own statements
}

// Statement is a bound statement: one of *Query, *CreateExternalTable,
// *DropTable, *CreateView, *DropView, *ShowTables, *Describe, *Explain, *Set.
type Statement interface{ statement() }

// Query is a bound SELECT (or VALUES, or set operation). Its output
// column names are Plan.Schema() names.
type Query struct{ Plan logical.Plan }

// CreateExternalTable registers files as a table.
type CreateExternalTable struct {
	Name string
	// Columns is the declared schema; empty means infer it from the data.
	Columns []arrow.Field
	// Format is lowercased: parquet, csv, json, arrow, or a plugin name.
	Format   string
	Location string
	Options  map[string]string
	// IfNotExists and OrReplace come from CREATE [OR REPLACE] EXTERNAL
	// TABLE [IF NOT EXISTS].
	IfNotExists, OrReplace bool
}

// DropTable removes a table.
type DropTable struct {
	Name     string
	IfExists bool
}

// CreateView registers a view. SQL is a SELECT that yields the view's
// columns under their final names; it was validated by binding it.
type CreateView struct {
	Name, SQL string
	OrReplace bool
}

// DropView removes a view.
type DropView struct {
	Name     string
	IfExists bool
}

// ShowTables lists the tables.
type ShowTables struct{}

// Describe shows the schema of a table (Table set) or of a query (Query
// set).
type Describe struct {
	Table string
	Query logical.Plan
}

// Explain shows the plan of Query. Format is "" (logical and physical),
// "logical", "physical" or "substrait".
type Explain struct {
	Analyze, Verbose bool
	Format           string
	Query            logical.Plan
}

// Set changes a session setting (SET name = value). An empty Value resets
// the setting to its default (SET name TO DEFAULT, RESET name).
type Set struct{ Name, Value string }

func (*Query) statement()               {}
func (*CreateExternalTable) statement() {}
func (*DropTable) statement()           {}
func (*CreateView) statement()          {}
func (*DropView) statement()            {}
func (*ShowTables) statement()          {}
func (*Describe) statement()            {}
func (*Explain) statement()             {}
func (*Set) statement()                 {}

// errorAt builds an *Error at byte offset off of the statement text. An
// *Error keeps its position; one without a position takes off.
func (p *Parsed) errorAt(off int, err error) error {
	if e, ok := err.(*Error); ok {
		if e.Line > 0 || off < 0 {
			return e
		}
		c := *e
		c.Line, c.Column = lineCol(p.script, p.offset+off)
		return &c
	}
	e := &Error{Msg: err.Error(), err: err}
	if off >= 0 {
		e.Line, e.Column = lineCol(p.script, p.offset+off)
	}
	return e
}

// Parse splits a script into statements and parses each one. Syntax errors
// carry their line and column in the script.
func Parse(script string) (out []*Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal error parsing SQL: %v\n%s", r, debug.Stack())
		}
	}()
	spans, err := splitStatements(script)
	if err != nil {
		le := err.(*lexError)
		e := &Error{Msg: le.msg}
		e.Line, e.Column = lineCol(script, le.off)
		return nil, e
	}
	for _, sp := range spans {
		p, err := parseOne(script, sp.start, script[sp.start:sp.end])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// parseOne parses the statement text at offset off of script.
func parseOne(script string, off int, text string) (*Parsed, error) {
	p := &Parsed{SQL: text, script: script, offset: off}
	toks, err := tokenize(text)
	if err != nil {
		le := err.(*lexError)
		return nil, p.errorAt(le.off, le.cause())
	}
	custom, err := parseCustom(p, toks)
	if err != nil {
		if le, ok := err.(*lexError); ok {
			return nil, p.errorAt(le.off, le.cause())
		}
		return nil, err
	}
	if custom != nil {
		p.custom = custom
		return p, nil
	}
	p.pgText = rewriteForPostgres(text, toks)
	stmt, err := pgParseOne(p.pgText)
	if err != nil {
		return nil, p.syntaxError(err)
	}
	p.stmt = stmt
	return p, nil
}

// pgParseOne parses exactly one PostgreSQL statement.
func pgParseOne(text string) (*pg.Node, error) {
	tree, err := pg.Parse(text)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) != 1 {
		return nil, fmt.Errorf("expected one statement, found %d", len(tree.Stmts))
	}
	return tree.Stmts[0].Stmt, nil
}

// syntaxError converts a pg_query error into an *Error positioned in the
// script.
func (p *Parsed) syntaxError(err error) error {
	if pe, ok := err.(*pgparser.Error); ok {
		off := -1
		if pe.Cursorpos > 0 {
			off = runeOffset(p.pgText, pe.Cursorpos-1)
		}
		return p.errorAt(off, fmt.Errorf("%s", pe.Message))
	}
	return p.errorAt(-1, err)
}

// Bind binds one parsed statement against the catalog. Statements bind one
// at a time, so a view created earlier in a script is visible to later
// statements once the caller registered it.
func Bind(p *Parsed, cat Catalog) (st Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("internal error binding %q: %v\n%s", p.SQL, r, debug.Stack())
		}
	}()
	if p == nil || (p.stmt == nil && p.custom == nil) {
		return nil, fmt.Errorf("empty statement")
	}
	b := newBinder(cat, p)
	if p.custom != nil {
		st, err = b.bindCustom(p.custom)
	} else {
		st, err = b.bindStatement(p.stmt)
	}
	if err != nil {
		// An error that arose in no particular place points at the
		// statement.
		return nil, p.errorAt(0, err)
	}
	return st, nil
}

// bindStatement binds a PostgreSQL statement.
func (b *binder) bindStatement(n *pg.Node) (Statement, error) {
	switch s := n.Node.(type) {
	case *pg.Node_SelectStmt:
		plan, err := b.bindQuery(s.SelectStmt, &env{})
		if err != nil {
			return nil, err
		}
		return &Query{Plan: plan}, nil
	case *pg.Node_ViewStmt:
		return b.bindCreateView(s.ViewStmt)
	case *pg.Node_DropStmt:
		return b.bindDrop(s.DropStmt)
	case *pg.Node_VariableSetStmt:
		return b.bindSet(s.VariableSetStmt)
	case *pg.Node_CreateStmt:
		return nil, notSupported("CREATE TABLE (use CREATE EXTERNAL TABLE ... STORED AS ... LOCATION ...)")
	case *pg.Node_VariableShowStmt:
		return nil, notSupported("SHOW %s (only SHOW TABLES)", s.VariableShowStmt.Name)
	case *pg.Node_ExplainStmt:
		return nil, notSupported("this form of EXPLAIN")
	}
	name := fmt.Sprintf("%T", n.Node)
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return nil, notSupported("statement %s", name)
}

func (b *binder) bindCreateView(v *pg.ViewStmt) (Statement, error) {
	if v.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION && v.WithCheckOption != pg.ViewCheckOption_VIEW_CHECK_OPTION_UNDEFINED {
		return nil, notSupported("WITH CHECK OPTION")
	}
	body, err := viewBody(b.p.SQL)
	if err != nil {
		return nil, err
	}
	name := v.View.Relname
	var cols []string
	for _, a := range v.Aliases {
		cols = append(cols, strVal(a))
	}
	text := body
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = quoteIdent(c)
		}
		text = fmt.Sprintf("SELECT * FROM (%s\n) AS %s(%s)", body, quoteIdent(name), strings.Join(q, ", "))
	}
	// Validate by binding the body as a query of its own.
	sel, ok := v.Query.Node.(*pg.Node_SelectStmt)
	if !ok {
		return nil, notSupported("view body that is not a query")
	}
	plan, err := b.bindQuery(sel.SelectStmt, &env{})
	if err != nil {
		return nil, err
	}
	if len(cols) > plan.Schema().Len() {
		return nil, fmt.Errorf("view %q has %d column names but its query yields %d columns", name, len(cols), plan.Schema().Len())
	}
	return &CreateView{Name: name, SQL: text, OrReplace: v.Replace}, nil
}

// viewBody returns the query text of a CREATE VIEW statement: everything
// after the first top-level AS.
func viewBody(stmt string) (string, error) {
	toks, err := tokenize(stmt)
	if err != nil {
		return "", err
	}
	depth := 0
	for _, t := range toks {
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case depth == 0 && t.is("as"):
			return strings.TrimSpace(stmt[t.end:]), nil
		}
	}
	return "", fmt.Errorf("CREATE VIEW without AS")
}

// quoteIdent quotes an identifier for SQL text.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (b *binder) bindDrop(d *pg.DropStmt) (Statement, error) {
	if len(d.Objects) != 1 {
		return nil, notSupported("DROP of several objects in one statement")
	}
	var parts []string
	if l, ok := d.Objects[0].Node.(*pg.Node_List); ok {
		for _, it := range l.List.Items {
			parts = append(parts, strVal(it))
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("DROP without a name")
	}
	name := parts[len(parts)-1]
	switch d.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		return &DropTable{Name: name, IfExists: d.MissingOk}, nil
	case pg.ObjectType_OBJECT_VIEW:
		return &DropView{Name: name, IfExists: d.MissingOk}, nil
	}
	return nil, notSupported("DROP %s", strings.TrimPrefix(d.RemoveType.String(), "OBJECT_"))
}

func (b *binder) bindSet(s *pg.VariableSetStmt) (Statement, error) {
	switch s.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		var vals []string
		for _, a := range s.Args {
			c, ok := a.Node.(*pg.Node_AConst)
			if !ok {
				return nil, fmt.Errorf("SET %s: value must be a constant", s.Name)
			}
			vals = append(vals, constText(c.AConst))
		}
		return &Set{Name: s.Name, Value: strings.Join(vals, ", ")}, nil
	case pg.VariableSetKind_VAR_SET_DEFAULT, pg.VariableSetKind_VAR_RESET:
		return &Set{Name: s.Name}, nil
	}
	return nil, notSupported("this form of SET")
}

// constText renders a constant as the text of a setting value.
func constText(c *pg.A_Const) string {
	if c.Isnull {
		return ""
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return fmt.Sprint(v.Ival.Ival)
	case *pg.A_Const_Fval:
		return v.Fval.Fval
	case *pg.A_Const_Sval:
		return v.Sval.Sval
	case *pg.A_Const_Boolval:
		return fmt.Sprint(v.Boolval.Boolval)
	case *pg.A_Const_Bsval:
		return v.Bsval.Bsval
	}
	return ""
}

// strVal returns the string of a String node ("" for other nodes).
func strVal(n *pg.Node) string {
	if n == nil {
		return ""
	}
	if s, ok := n.Node.(*pg.Node_String_); ok {
		return s.String_.Sval
	}
	return ""
}
