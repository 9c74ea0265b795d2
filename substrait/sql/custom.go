package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// The statements below are not PostgreSQL grammar; a small hand-written
// parser over the lexer's tokens recognises them before pg_query sees the
// text.

type customDescribe struct {
	table string
	query *Parsed
}

type customExplain struct {
	analyze, verbose bool
	format           string
	query            *Parsed
}

// parseCustom returns the parsed form of one of our own statements, or nil
// when the statement is for pg_query.
func parseCustom(p *Parsed, toks []token) (any, error) {
	s := &tokStream{text: p.SQL, toks: toks}
	switch {
	case s.accept("create", "external", "table"), s.accept("create", "or", "replace", "external", "table"):
		return parseCreateExternal(p, s)
	case s.accept("show", "tables"):
		if !s.done() {
			return nil, s.errorf("unexpected text after SHOW TABLES")
		}
		return &ShowTables{}, nil
	case s.accept("describe"), s.accept("desc"):
		return parseDescribe(p, s)
	case s.accept("explain"):
		return parseExplain(p, s)
	}
	return nil, nil
}

// startsQuery reports whether the next token begins a query.
func startsQuery(s *tokStream) bool {
	t, ok := s.peek()
	return ok && (t.is("select") || t.is("with") || t.is("values") || t.is("table") || t.isPunct("("))
}

func parseDescribe(p *Parsed, s *tokStream) (any, error) {
	if s.done() {
		return nil, s.errorf("DESCRIBE needs a table name or a query")
	}
	if startsQuery(s) {
		q, err := parseOne(p.script, p.offset+s.offset(), p.SQL[s.offset():])
		if err != nil {
			return nil, err
		}
		return &customDescribe{query: q}, nil
	}
	name, err := s.name()
	if err != nil {
		return nil, err
	}
	if !s.done() {
		return nil, s.errorf("unexpected text after the table name")
	}
	return &customDescribe{table: name}, nil
}

// parseExplain parses the rest of
//
//	EXPLAIN [ANALYZE] [VERBOSE] [LOGICAL|PHYSICAL|SUBSTRAIT] query
//	EXPLAIN (option [value] [, ...]) query
//
// where the options are ANALYZE [bool], VERBOSE [bool] and FORMAT
// {TEXT|LOGICAL|PHYSICAL|SUBSTRAIT} (PostgreSQL's form).
func parseExplain(p *Parsed, s *tokStream) (any, error) {
	e := &customExplain{}
	if t, ok := s.peek(); ok && t.isPunct("(") && !startsQueryAfterParen(s) {
		if err := parseExplainOptions(s, e); err != nil {
			return nil, err
		}
	} else {
		for {
			switch {
			case s.accept("analyze"), s.accept("analyse"):
				e.analyze = true
				continue
			case s.accept("verbose"):
				e.verbose = true
				continue
			case s.accept("logical"):
				e.format = "logical"
				continue
			case s.accept("physical"):
				e.format = "physical"
				continue
			case s.accept("substrait"):
				e.format = "substrait"
				continue
			}
			break
		}
	}
	if s.done() {
		return nil, s.errorf("EXPLAIN needs a query")
	}
	if t, _ := s.peek(); t.isPunct("(") && !startsQueryAfterParen(s) {
		return nil, s.errorf("EXPLAIN options in parentheses come right after EXPLAIN")
	}
	q, err := parseOne(p.script, p.offset+s.offset(), p.SQL[s.offset():])
	if err != nil {
		return nil, err
	}
	e.query = q
	return e, nil
}

// parseExplainOptions parses a parenthesised EXPLAIN option list.
func parseExplainOptions(s *tokStream, e *customExplain) error {
	s.acceptPunct("(")
	seen := map[string]bool{}
	for {
		t, ok := s.peek()
		if !ok || t.kind != tokIdent {
			return s.errorf("expected an EXPLAIN option (ANALYZE, VERBOSE or FORMAT)")
		}
		opt := t.val
		if opt == "analyse" {
			opt = "analyze"
		}
		if seen[opt] {
			return s.errorf("EXPLAIN option %s given twice", strings.ToUpper(opt))
		}
		seen[opt] = true
		s.pos++
		switch opt {
		case "analyze", "verbose":
			on := true
			if v, ok := s.peek(); ok && !v.isPunct(",") && !v.isPunct(")") {
				b, err := explainBool(s)
				if err != nil {
					return err
				}
				on = b
			}
			if opt == "analyze" {
				e.analyze = on
			} else {
				e.verbose = on
			}
		case "format":
			v, ok := s.peek()
			if !ok || (v.kind != tokIdent && v.kind != tokString) {
				return s.errorf("FORMAT needs TEXT, LOGICAL, PHYSICAL or SUBSTRAIT")
			}
			switch strings.ToLower(v.val) {
			case "text":
				e.format = ""
			case "logical", "physical", "substrait":
				e.format = strings.ToLower(v.val)
			case "json", "xml", "yaml":
				return errorAtToken(v, notSupported("EXPLAIN FORMAT %s (use TEXT, LOGICAL, PHYSICAL or SUBSTRAIT)", strings.ToUpper(v.val)))
			default:
				return s.errorf("unknown EXPLAIN format %q (use TEXT, LOGICAL, PHYSICAL or SUBSTRAIT)", v.val)
			}
			s.pos++
		default:
			switch opt {
			case "costs", "settings", "buffers", "wal", "timing", "summary", "memory", "serialize", "generic_plan":
				return errorAtToken(t, notSupported("EXPLAIN option %s", strings.ToUpper(opt)))
			}
			return errorAtToken(t, fmt.Errorf("unrecognized EXPLAIN option %q", t.val))
		}
		if s.acceptPunct(")") {
			return nil
		}
		if !s.acceptPunct(",") {
			return s.errorf("expected \",\" or \")\" in the EXPLAIN option list")
		}
	}
}

// explainBool reads the value of a boolean EXPLAIN option.
func explainBool(s *tokStream) (bool, error) {
	t, _ := s.peek()
	v := strings.ToLower(t.val)
	if t.kind == tokIdent || t.kind == tokString || t.kind == tokNumber {
		switch v {
		case "true", "on", "1", "yes":
			s.pos++
			return true, nil
		case "false", "off", "0", "no":
			s.pos++
			return false, nil
		}
	}
	return false, s.errorf("expected a boolean value (TRUE, FALSE, ON, OFF)")
}

// startsQueryAfterParen reports whether "(" is followed by a query keyword
// (a parenthesised query rather than an option list).
func startsQueryAfterParen(s *tokStream) bool {
	i := s.pos
	for i < len(s.toks) && s.toks[i].isPunct("(") {
		i++
	}
	return i < len(s.toks) && (s.toks[i].is("select") || s.toks[i].is("with") || s.toks[i].is("values"))
}

// parseCreateExternal parses the rest of
//
//	CREATE [OR REPLACE] EXTERNAL TABLE [IF NOT EXISTS] name [(col type, ...)]
//	STORED AS fmt [WITH HEADER ROW] [DELIMITER 'c'] [PARTITIONED BY (...)]
//	LOCATION 'path' [OPTIONS ('k' 'v', ...) | OPTIONS (k = 'v', ...)]
//
// (clauses after the column list in any order).
func parseCreateExternal(p *Parsed, s *tokStream) (any, error) {
	st := &CreateExternalTable{Options: map[string]string{}}
	st.OrReplace = s.toks[1].is("or")
	if s.accept("if", "not", "exists") {
		st.IfNotExists = true
	}
	name, err := s.name()
	if err != nil {
		return nil, err
	}
	st.Name = name
	if t, ok := s.peek(); ok && t.isPunct("(") {
		start, end, err := s.balanced()
		if err != nil {
			return nil, err
		}
		cols, err := parseColumnDefs(p, start, end)
		if err != nil {
			return nil, err
		}
		st.Columns = cols
	}
	seen := map[string]bool{}
	clause := func(c string) error {
		if seen[c] {
			return s.errorf("%s given twice", c)
		}
		seen[c] = true
		return nil
	}
	for !s.done() {
		switch {
		case s.accept("stored", "as"):
			if err := clause("STORED AS"); err != nil {
				return nil, err
			}
			f, err := s.word()
			if err != nil {
				return nil, err
			}
			st.Format = strings.ToLower(f)
		case s.accept("location"):
			if err := clause("LOCATION"); err != nil {
				return nil, err
			}
			t, ok := s.peek()
			if !ok || t.kind != tokString {
				return nil, s.errorf("LOCATION needs a quoted path")
			}
			s.pos++
			st.Location = t.val
		case s.accept("with", "header", "row"):
			st.Options["has_header"] = "true"
		case s.accept("delimiter"):
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			st.Options["delimiter"] = v
		case s.accept("partitioned", "by"):
			return nil, notSupported("PARTITIONED BY in CREATE EXTERNAL TABLE")
		case s.accept("options"):
			if err := clause("OPTIONS"); err != nil {
				return nil, err
			}
			if err := parseOptions(s, st.Options); err != nil {
				return nil, err
			}
		default:
			return nil, s.errorf("expected STORED AS, LOCATION or OPTIONS")
		}
	}
	if st.Format == "" {
		return nil, s.errorf("CREATE EXTERNAL TABLE needs STORED AS <format>")
	}
	if !seen["LOCATION"] && FileFormat(st.Format) {
		// Plugin data sources may name their table by options alone.
		return nil, s.errorf("CREATE EXTERNAL TABLE needs LOCATION '<path>'")
	}
	return st, nil
}

// parseOptions reads ('k' 'v', ...) or (k = 'v', ...) into into.
func parseOptions(s *tokStream, into map[string]string) error {
	if !s.acceptPunct("(") {
		return s.errorf("expected \"(\" after OPTIONS")
	}
	if s.acceptPunct(")") {
		return nil
	}
	for {
		var parts []string
		for {
			k, err := s.word()
			if err != nil {
				return err
			}
			parts = append(parts, k)
			if !s.acceptPunct(".") {
				break
			}
		}
		s.acceptPunct("=")
		v, err := s.value()
		if err != nil {
			return err
		}
		into[strings.Join(parts, ".")] = v
		if s.acceptPunct(")") {
			return nil
		}
		if !s.acceptPunct(",") {
			return s.errorf("expected \",\" or \")\" in OPTIONS")
		}
	}
}

// parseColumnDefs parses the column list text p.SQL[start:end] by handing
// pg_query a synthetic CREATE TABLE.
func parseColumnDefs(p *Parsed, start, end int) ([]arrow.Field, error) {
	const prefix = "CREATE TABLE x ("
	text := prefix + p.SQL[start:end] + ")"
	node, err := pgParseOne(text)
	if err != nil {
		// Errors point into the column list.
		sub := &Parsed{SQL: text, pgText: text, script: p.script, offset: p.offset + start - len(prefix)}
		return nil, sub.syntaxError(err)
	}
	cs, ok := node.Node.(*pg.Node_CreateStmt)
	if !ok {
		return nil, fmt.Errorf("invalid column list")
	}
	var out []arrow.Field
	seen := map[string]bool{}
	for _, el := range cs.CreateStmt.TableElts {
		cd, ok := el.Node.(*pg.Node_ColumnDef)
		if !ok {
			return nil, notSupported("table constraints in CREATE EXTERNAL TABLE")
		}
		def := cd.ColumnDef
		if seen[def.Colname] {
			return nil, p.errorAt(start, fmt.Errorf("column %q specified more than once", def.Colname))
		}
		seen[def.Colname] = true
		t, err := arrowType(def.TypeName)
		if err != nil {
			return nil, p.errorAt(start+int(def.TypeName.Location)-len(prefix), err)
		}
		nullable := !def.IsNotNull
		for _, c := range def.Constraints {
			if con, ok := c.Node.(*pg.Node_Constraint); ok {
				switch con.Constraint.Contype {
				case pg.ConstrType_CONSTR_NOTNULL, pg.ConstrType_CONSTR_PRIMARY:
					nullable = false
				case pg.ConstrType_CONSTR_NULL:
				default:
					return nil, notSupported("column constraint %s in CREATE EXTERNAL TABLE", strings.TrimPrefix(con.Constraint.Contype.String(), "CONSTR_"))
				}
			}
		}
		out = append(out, arrow.Field{Name: def.Colname, Type: t, Nullable: nullable})
	}
	return out, nil
}

// bindCustom binds one of our own statements.
func (b *binder) bindCustom(c any) (Statement, error) {
	switch s := c.(type) {
	case *CreateExternalTable:
		return s, nil
	case *ShowTables:
		return s, nil
	case *customDescribe:
		if s.query == nil {
			if _, ok := b.cat.LookupTable(s.table); !ok {
				if _, ok := b.cat.LookupView(s.table); !ok {
					return nil, fmt.Errorf("table %q not found%s", s.table, suggest(s.table, b.cat.TableNames()))
				}
			}
			return &Describe{Table: s.table}, nil
		}
		plan, err := bindQueryStatement(s.query, b.cat, "DESCRIBE")
		if err != nil {
			return nil, err
		}
		return &Describe{Query: plan}, nil
	case *customExplain:
		plan, err := bindQueryStatement(s.query, b.cat, "EXPLAIN")
		if err != nil {
			return nil, err
		}
		return &Explain{Analyze: s.analyze, Verbose: s.verbose, Format: s.format, Query: plan}, nil
	}
	return nil, fmt.Errorf("internal: unknown statement %T", c)
}

// bindQueryStatement binds a nested statement that must be a query.
func bindQueryStatement(p *Parsed, cat Catalog, what string) (logical.Plan, error) {
	st, err := Bind(p, cat)
	if err != nil {
		return nil, err
	}
	q, ok := st.(*Query)
	if !ok {
		return nil, notSupported("%s of a statement that is not a query", what)
	}
	return q.Plan, nil
}

// FileFormat reports whether format is one of the file formats the engine
// reads itself (anything else names a data source plugin).
func FileFormat(format string) bool {
	switch strings.ToLower(format) {
	case "parquet", "csv", "json", "ndjson", "arrow", "ipc", "tbl":
		return true
	}
	return false
}
