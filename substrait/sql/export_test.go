package sql

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Test hooks for the external test package.

// RefQueries are the queries TestRefs checks.
var RefQueries = refQueries

// BindQueryForTest binds a script against the test catalog (TPC-H tables
// plus t and u) and returns the plan of its last query.
func BindQueryForTest(t *testing.T, script string) logical.Plan {
	t.Helper()
	sts, err := bindAll(t, tpchCatalog(), script)
	if err != nil {
		t.Fatalf("bind %q: %v", script, err)
	}
	for i := len(sts) - 1; i >= 0; i-- {
		if q, ok := sts[i].(*Query); ok {
			return q.Plan
		}
	}
	t.Fatalf("%q has no query", script)
	return nil
}
