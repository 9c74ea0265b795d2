package flightsql

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Arbalest has one catalog with one schema per session: these are their
// names as Flight SQL (and JDBC's DatabaseMetaData) show them.
const (
	CatalogName = "arbalest"
	SchemaName  = "public"
)

// Table types.
const (
	typeTable = "TABLE"
	typeView  = "VIEW"
)

// Version is the server version GetSqlInfo reports; the command sets it.
var Version = "dev"

func (s *Server) registerSQLInfo() error {
	info := map[fsql.SqlInfo]any{
		fsql.SqlInfoFlightSqlServerName:                    "Arbalest",
		fsql.SqlInfoFlightSqlServerVersion:                 Version,
		fsql.SqlInfoFlightSqlServerArrowVersion:            "18.8.0",
		fsql.SqlInfoFlightSqlServerReadOnly:                false,
		fsql.SqlInfoFlightSqlServerSql:                     true,
		fsql.SqlInfoFlightSqlServerSubstrait:               true,
		fsql.SqlInfoFlightSqlServerSubstraitMaxVersion:     substraitVersion,
		fsql.SqlInfoFlightSqlServerTransaction:             int32(fsql.SqlTransactionNone),
		fsql.SqlInfoFlightSqlServerCancel:                  true,
		fsql.SqlInfoFlightSqlServerBulkIngestion:           false,
		fsql.SqlInfoFlightSqlServerStatementTimeout:        int32(s.cfg.QueryTimeout.Seconds()),
		fsql.SqlInfoTransactionsSupported:                  false,
		fsql.SqlInfoDDLCatalog:                             false,
		fsql.SqlInfoDDLSchema:                              false,
		fsql.SqlInfoDDLTable:                               true,
		fsql.SqlInfoIdentifierCase:                         int32(fsql.SqlCaseSensitivityLowerCase),
		fsql.SqlInfoIdentifierQuoteChar:                    `"`,
		fsql.SqlInfoQuotedIdentifierCase:                   int32(fsql.SqlCaseSensitivityCaseInsensitive),
		fsql.SqlInfoAllTablesAreASelectable:                true,
		fsql.SqlInfoNullOrdering:                           int32(fsql.SqlNullOrderingSortHigh),
		fsql.SqlInfoSearchStringEscape:                     `\`,
		fsql.SqlInfoSupportsColumnAliasing:                 true,
		fsql.SqlInfoNullPlusNullIsNull:                     true,
		fsql.SqlInfoSupportsTableCorrelationNames:          true,
		fsql.SqlInfoSupportsExpressionsInOrderBy:           true,
		fsql.SqlInfoSupportsLikeEscapeClause:               false,
		fsql.SqlInfoSupportsNonNullableColumns:             true,
		fsql.SqlInfoCorrelatedSubqueriesSupported:          true,
		fsql.SqlInfoSchemaTerm:                             "schema",
		fsql.SqlInfoCatalogTerm:                            "catalog",
		fsql.SqlInfoProcedureTerm:                          "procedure",
		fsql.SqlInfoCatalogAtStart:                         true,
		fsql.SqlInfoSelectForUpdateSupported:               false,
		fsql.SqlInfoStoredProceduresSupported:              false,
		fsql.SqlInfoMaxStatements:                          int64(1),
		fsql.SqlInfoKeywords:                               []string{"EXTERNAL", "STORED", "LOCATION", "EXPLAIN", "ANALYZE", "SHOW"},
		fsql.SqlInfoSupportsDifferentTableCorrelationNames: false,
	}
	for id, v := range info {
		if err := s.RegisterSqlInfo(id, v); err != nil {
			return fmt.Errorf("flight sql: sql info %d: %w", id, err)
		}
	}
	return nil
}

// single sends one batch as a whole DoGet stream.
func single(rec arrow.RecordBatch) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return rec.Schema(), ch, nil
}

// infoFor describes a metadata command's result: fetched by DoGet with
// the command itself as the ticket.
func (s *Server) infoFor(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.Catalogs), nil
}

func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(CatalogName)
	return single(b.NewRecordBatch())
}

// catalogMatches reports whether a request's catalog (nil: any) names
// ours.
func catalogMatches(c *string) bool { return c == nil || *c == CatalogName }

func (s *Server) GetFlightInfoSchemas(_ context.Context, _ fsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.DBSchemas), nil
}

func (s *Server) DoGetDBSchemas(_ context.Context, cmd fsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.DBSchemas)
	defer b.Release()
	if catalogMatches(cmd.GetCatalog()) && likeMatch(cmd.GetDBSchemaFilterPattern(), SchemaName) {
		b.Field(0).(*array.StringBuilder).Append(CatalogName)
		b.Field(1).(*array.StringBuilder).Append(SchemaName)
	}
	return single(b.NewRecordBatch())
}

func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.TableTypes), nil
}

func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.TableTypes)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{typeTable, typeView}, nil)
	return single(b.NewRecordBatch())
}

func (s *Server) GetFlightInfoTables(_ context.Context, cmd fsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.infoFor(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.infoFor(desc, schema_ref.Tables), nil
}

// DoGetTables lists the session's tables and views; with include_schema,
// each with its Arrow schema (a view's is found by planning it).
func (s *Server) DoGetTables(ctx context.Context, cmd fsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	b := array.NewRecordBuilder(s.alloc, schema)
	defer b.Release()
	wantType := func(t string) bool {
		if len(cmd.GetTableTypes()) == 0 {
			return true
		}
		for _, x := range cmd.GetTableTypes() {
			if strings.EqualFold(x, t) {
				return true
			}
		}
		return false
	}
	if catalogMatches(cmd.GetCatalog()) && likeMatch(cmd.GetDBSchemaFilterPattern(), SchemaName) {
		sess := s.srv.Session(sessionOf(ctx))
		for _, name := range sess.Catalog.TableNames() {
			if !likeMatch(cmd.GetTableNameFilterPattern(), name) {
				continue
			}
			var ts *arrow.Schema
			kind := typeTable
			if t, ok := sess.Catalog.LookupTable(name); ok {
				ts = t.Schema
			} else {
				kind = typeView
				if cmd.GetIncludeSchema() {
					plan, err := sess.PlanSQL(`SELECT * FROM "` + strings.ReplaceAll(name, `"`, `""`) + `"`)
					if err != nil {
						return nil, nil, status.Errorf(codes.Internal, "flight sql: the schema of view %s: %v", name, err)
					}
					ts = plan.Schema().Arrow()
				}
			}
			if !wantType(kind) {
				continue
			}
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(SchemaName)
			b.Field(2).(*array.StringBuilder).Append(name)
			b.Field(3).(*array.StringBuilder).Append(kind)
			if cmd.GetIncludeSchema() {
				if ts == nil {
					ts = arrow.NewSchema(nil, nil)
				}
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(widenSchema(ts), s.alloc))
			}
		}
	}
	return single(b.NewRecordBatch())
}

// likeMatch matches a name against a SQL LIKE pattern (% any run, _ any
// character, \ escapes); a nil pattern matches everything.
func likeMatch(pattern *string, name string) bool {
	if pattern == nil {
		return true
	}
	return like([]rune(*pattern), []rune(name))
}

func like(pat, s []rune) bool {
	// Tokens of the pattern: a literal rune, any rune (_), or any run (%).
	type tok struct {
		r    rune
		kind byte // 'l', '_', '%'
	}
	var p []tok
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '%':
			p = append(p, tok{kind: '%'})
		case '_':
			p = append(p, tok{kind: '_'})
		case '\\':
			if i+1 < len(pat) {
				i++
			}
			p = append(p, tok{r: pat[i], kind: 'l'})
		default:
			p = append(p, tok{r: pat[i], kind: 'l'})
		}
	}
	// ok[j] is whether the pattern so far matches s[:j]: linear in both
	// lengths, whatever the pattern.
	ok := make([]bool, len(s)+1)
	ok[0] = true
	for _, t := range p {
		next := make([]bool, len(s)+1)
		switch t.kind {
		case '%':
			seen := false
			for j := 0; j <= len(s); j++ {
				seen = seen || ok[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = ok[j-1] && (t.kind == '_' || s[j-1] == t.r)
			}
		}
		ok = next
	}
	return ok[len(s)]
}
