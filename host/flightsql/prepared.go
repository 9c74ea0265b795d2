package flightsql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/substrait/sql"
)

// maxBindRows bounds the parameter rows bound to one statement.
const maxBindRows = 100_000

// prepared is a prepared statement: its text with the parameter markers
// cut out, and the parameter rows last bound.
type prepared struct {
	session string
	query   string
	// plan is a prepared Substrait plan (query is then empty and tmpl has
	// no parameters).
	plan []byte
	tmpl *template
	// dataset is the result schema when the statement is a query that
	// could be planned at prepare time.
	dataset *arrow.Schema
	rows    [][]string
	used    time.Time
}

// CreatePreparedStatement parses the statement and, for a query, plans it
// (with NULL parameters) for its result schema; JDBC tells queries from
// updates by that schema.
func (s *Server) CreatePreparedStatement(ctx context.Context, req fsql.ActionCreatePreparedStatementRequest) (fsql.ActionCreatePreparedStatementResult, error) {
	var res fsql.ActionCreatePreparedStatementResult
	if req.GetTransactionId() != nil {
		return res, status.Error(codes.Unimplemented, "flight sql: transactions are not supported")
	}
	session := sessionOf(ctx)
	tmpl, err := parseTemplate(req.GetQuery())
	if err != nil {
		return res, status.Errorf(codes.InvalidArgument, "flight sql: %v", err)
	}
	text, _ := tmpl.render(tmpl.nulls())
	stmts, err := sql.Parse(text)
	if err != nil {
		return res, status.Error(codes.InvalidArgument, err.Error())
	}
	if len(stmts) != 1 {
		return res, status.Errorf(codes.InvalidArgument, "flight sql: prepare one statement at a time (got %d)", len(stmts))
	}
	p := &prepared{session: session, query: req.GetQuery(), tmpl: tmpl, used: time.Now()}
	if isQueryText(text) {
		plan, err := s.srv.Session(session).PlanSQL(text)
		switch {
		case err == nil:
			p.dataset = widenSchema(plan.Schema().Arrow())
		case tmpl.N == 0:
			// Without parameters the error is the statement's own.
			return res, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	handle := newHandle()
	s.mu.Lock()
	s.prepared[handle] = p
	s.mu.Unlock()
	res.Handle = []byte(handle)
	res.DatasetSchema = p.dataset
	if tmpl.N > 0 {
		// The binder infers no parameter types; the schema tells clients
		// how many there are.
		fields := make([]arrow.Field, tmpl.N)
		for i := range fields {
			fields[i] = arrow.Field{Name: fmt.Sprintf("$%d", i+1), Type: arrow.Null, Nullable: true}
		}
		res.ParameterSchema = arrow.NewSchema(fields, nil)
	}
	return res, nil
}

// isQueryText reports whether a statement's first keyword starts a query.
func isQueryText(text string) bool {
	s := strings.TrimLeft(stripComments(text), " \t\r\n(")
	words := strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if len(words) == 0 {
		return false
	}
	switch strings.ToLower(words[0]) {
	case "select", "with", "values", "table":
		return true
	}
	return false
}

// stripComments drops leading comments.
func stripComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return ""
			}
			s = s[i+2:]
		default:
			return s
		}
	}
}

func (s *Server) lookupPrepared(ctx context.Context, handle []byte) (*prepared, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prepared[string(handle)]
	if !ok || p.session != sessionOf(ctx) {
		return nil, status.Error(codes.NotFound, "flight sql: no such prepared statement (it was closed, or belongs to another session)")
	}
	p.used = time.Now()
	return p, nil
}

// ClosePreparedStatement forgets a prepared statement.
func (s *Server) ClosePreparedStatement(ctx context.Context, req fsql.ActionClosePreparedStatementRequest) error {
	if _, err := s.lookupPrepared(ctx, req.GetPreparedStatementHandle()); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.prepared, string(req.GetPreparedStatementHandle()))
	s.mu.Unlock()
	return nil
}

// readBindings reads parameter batches into SQL literals, row by row.
func readBindings(p *prepared, rd flight.MessageReader) ([][]string, error) {
	var rows [][]string
	for rd.Next() {
		rec := rd.RecordBatch()
		if int(rec.NumCols()) != p.tmpl.N {
			return nil, status.Errorf(codes.InvalidArgument, "flight sql: the statement has %d parameters, the bound batch has %d columns", p.tmpl.N, rec.NumCols())
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			if len(rows) >= maxBindRows {
				return nil, status.Errorf(codes.InvalidArgument, "flight sql: more than %d parameter rows bound at once", maxBindRows)
			}
			lits, err := rowLiterals(rec, r)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "flight sql: %v", err)
			}
			rows = append(rows, lits)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "flight sql: reading the parameters: %v", err)
	}
	return rows, nil
}

// DoPutPreparedStatementQuery binds parameters to a prepared query.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd fsql.PreparedStatementQuery, rd flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	rows, err := readBindings(p, rd)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	p.rows = rows
	s.mu.Unlock()
	return cmd.GetPreparedStatementHandle(), nil
}

// text is the statement with its bound parameters (row r).
func (p *prepared) text(rows [][]string) (string, error) {
	if p.tmpl.N == 0 {
		return p.query, nil
	}
	if len(rows) != 1 {
		return "", status.Errorf(codes.InvalidArgument, "flight sql: a query runs with one row of parameters; %d rows are bound (the statement has %d parameters)", len(rows), p.tmpl.N)
	}
	text, err := p.tmpl.render(rows[0])
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "flight sql: %v", err)
	}
	return text, nil
}

func (s *Server) runPrepared(ctx context.Context, cmd fsql.PreparedStatementQuery) (*result, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	if p.plan != nil {
		return s.runPlan(ctx, p.session, p.plan)
	}
	s.mu.Lock()
	rows := p.rows
	s.mu.Unlock()
	text, err := p.text(rows)
	if err != nil {
		return nil, err
	}
	return s.execute(ctx, p.session, text)
}

// GetFlightInfoPreparedStatement runs a prepared query with its bound
// parameters; its result is fetched like a statement's.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd fsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	r, err := s.runPrepared(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return s.keep(r, desc)
}

// DoGetPreparedStatement runs a prepared query and streams its result
// (for clients that send the command as a ticket).
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd fsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	r, err := s.runPrepared(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return s.stream(ctx, r)
}

// GetSchemaPreparedStatement is the result schema found at prepare time.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd fsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	if p.dataset == nil {
		return nil, status.Error(codes.FailedPrecondition, "flight sql: the result schema of this statement is known only once it runs")
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(p.dataset, s.alloc)}, nil
}

// DoPutPreparedStatementUpdate runs a prepared statement once per bound
// parameter row (or once, without parameters) and sums the counts.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd fsql.PreparedStatementUpdate, rd flight.MessageReader) (int64, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	rows, err := readBindings(p, rd)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		s.mu.Lock()
		rows = p.rows
		s.mu.Unlock()
	}
	if p.plan != nil {
		r, err := s.runPlan(ctx, p.session, p.plan)
		if err != nil {
			return 0, err
		}
		s.drop(r)
		return r.rows, nil
	}
	if p.tmpl.N == 0 {
		return s.update(ctx, p.session, p.query)
	}
	if len(rows) == 0 {
		return 0, status.Errorf(codes.InvalidArgument, "flight sql: the statement has %d parameters and none are bound", p.tmpl.N)
	}
	var total int64
	for _, row := range rows {
		text, err := p.tmpl.render(row)
		if err != nil {
			return total, status.Errorf(codes.InvalidArgument, "flight sql: %v", err)
		}
		n, err := s.update(ctx, p.session, text)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
