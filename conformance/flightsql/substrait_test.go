package flightsql_test

import (
	"context"
	"strings"
	"testing"

	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/arbalest/arbalest/substrait/sql"
)

// tpchPlan is the Substrait plan (binary protobuf, or JSON when asJSON)
// Arbalest's producer makes for TPC-H query q on the embedded engine.
// Q15's view is made, planned through and dropped, so its plan reads the
// base tables.
func tpchPlan(t *testing.T, local *engine.Session, q int, asJSON bool) []byte {
	t.Helper()
	text, err := tpch.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := sql.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var plan []byte
	for _, st := range stmts {
		if !isQueryStmt(st.SQL) {
			if err := local.Run(context.Background(), st.SQL, func(r *engine.Result) error {
				_, err := engine.CollectText(context.Background(), r.Stream)
				return err
			}); err != nil {
				t.Fatalf("q%02d: %s: %v", q, st.SQL, err)
			}
			continue
		}
		p, err := local.PlanSQL(st.SQL)
		if err != nil {
			t.Fatalf("q%02d: planning: %v", q, err)
		}
		pb, err := producer.ToProto(p)
		if err != nil {
			t.Fatalf("q%02d: producing Substrait: %v", q, err)
		}
		if asJSON {
			plan, err = protojson.Marshal(pb)
		} else {
			plan, err = proto.Marshal(pb)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if plan == nil {
		t.Fatalf("q%02d has no query", q)
	}
	return plan
}

func isQueryStmt(text string) bool {
	for strings.HasPrefix(strings.TrimSpace(text), "--") {
		_, text, _ = strings.Cut(strings.TrimSpace(text), "\n")
	}
	w := strings.ToLower(strings.Fields(text + " x")[0])
	return w == "select" || w == "with"
}

// TestSubstraitTPCH runs the 22 TPC-H queries as Substrait plans made by
// Arbalest's producer (binary protobuf; JSON for a few) through Flight
// SQL's CommandStatementSubstraitPlan and checks the answers against the
// embedded engine's SQL.
func TestSubstraitTPCH(t *testing.T) {
	dir := tpchData(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	createTables(t, ctx, cl, dir)
	for q := 1; q <= 22; q++ {
		asJSON := q%5 == 0
		plan := tpchPlan(t, local, q, asJSON)
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatalf("q%02d on the embedded engine: %v", q, want.Err)
		}
		info, err := cl.ExecuteSubstrait(ctx, fsql.SubstraitPlan{Plan: plan, Version: "0.85.0"})
		if err != nil {
			t.Errorf("q%02d (json=%v) over Flight SQL Substrait: %v", q, asJSON, err)
			continue
		}
		_, got, err := fetch(ctx, cl, info)
		if err != nil {
			t.Errorf("q%02d: fetching: %v", q, err)
			continue
		}
		if err := tpch.Compare(got, want.Rows); err != nil {
			t.Errorf("q%02d (json=%v) over Flight SQL Substrait: %v", q, asJSON, err)
		}
	}
}

// TestSubstraitCommands checks the other Substrait commands: the schema
// of a plan, a prepared plan run twice, a plan run as an update, and the
// errors of bad plans.
func TestSubstraitCommands(t *testing.T) {
	dir := tpchData(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	createTables(t, ctx, cl, dir)
	plan := tpchPlan(t, local, 1, false)
	want := tpch.Run(ctx, local, 1)
	if want.Err != nil {
		t.Fatal(want.Err)
	}

	sr, err := cl.GetExecuteSubstraitSchema(ctx, fsql.SubstraitPlan{Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	if sr == nil || len(sr.GetSchema()) == 0 {
		t.Fatal("no schema for the Q1 plan")
	}

	stmt, err := cl.PrepareSubstrait(ctx, fsql.SubstraitPlan{Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close(ctx)
	if ds := stmt.DatasetSchema(); ds == nil || ds.NumFields() != len(want.Columns) || ds.Field(0).Name != want.Columns[0] {
		t.Fatalf("prepared plan's dataset schema: %v, want columns %v", ds, want.Columns)
	}
	for i := 0; i < 2; i++ {
		info, err := stmt.Execute(ctx)
		if err != nil {
			t.Fatalf("prepared plan, run %d: %v", i, err)
		}
		_, got, err := fetch(ctx, cl, info)
		if err != nil {
			t.Fatal(err)
		}
		if err := tpch.Compare(got, want.Rows); err != nil {
			t.Errorf("prepared plan, run %d: %v", i, err)
		}
	}

	n, err := cl.ExecuteSubstraitUpdate(ctx, fsql.SubstraitPlan{Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want.Rows)) {
		t.Errorf("plan as an update: count %d, want %d rows", n, len(want.Rows))
	}

	// Bad plans are refused with an error naming the problem; the server
	// keeps serving.
	for _, c := range []struct {
		name string
		plan []byte
		want string
	}{
		{"empty", nil, "no plan"},
		{"garbage", []byte("\x0a\xff\xff\xff\xff\x0fnot a plan"), ""},
		{"unknown table", []byte(`{"relations": [{"root": {"input": {"read": {"baseSchema": {"names": ["x"], "struct": {"types": [{"i64": {}}]}}, "namedTable": {"names": ["no_such_table"]}}}}}]}`), "no_such_table"},
	} {
		_, err := cl.ExecuteSubstrait(ctx, fsql.SubstraitPlan{Plan: c.plan})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s plan: got %v, want InvalidArgument naming %q", c.name, err, c.want)
		}
		if _, err := cl.PrepareSubstrait(ctx, fsql.SubstraitPlan{Plan: c.plan}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s plan prepared: got %v, want InvalidArgument", c.name, err)
		}
	}
	_, rows := query(t, ctx, cl, "SELECT 1 AS still_serving")
	if len(rows) != 1 {
		t.Fatalf("after bad plans: %v", rows)
	}
}
