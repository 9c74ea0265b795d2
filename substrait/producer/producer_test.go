package producer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// TestFunctionDeclarations checks the URN and compound name chosen for
// calls by argument types.
func TestFunctionDeclarations(t *testing.T) {
	src := &logical.TableSource{Name: "t", RowCount: -1, Schema: arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: logical.DecimalType(15, 2)},
		{Name: "dt", Type: logical.Date32},
		{Name: "s", Type: logical.Utf8},
	}, nil)}
	scan := logical.NewScan(src, "", nil)
	s := scan.Schema()
	c := func(fn string, ty arrow.DataType, opts map[string]string, args ...logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: args, T: ty, Options: opts}
	}
	exprs := []logical.Expr{
		c("add", logical.Int64, nil, logical.Col(s, 0), logical.Col(s, 0)),
		c("add", logical.DecimalType(16, 2), nil, logical.Col(s, 1), logical.Col(s, 1)),
		c("add", logical.Date32, nil, logical.Col(s, 2), &logical.Literal{Value: arrow.MonthDayNanoInterval{Days: 1}, T: logical.Interval}),
		c("ilike", logical.Bool, nil, logical.Col(s, 3), &logical.Literal{Value: "x", T: logical.Utf8}),
		c("extract", logical.Int64, map[string]string{"component": "MONTH"}, logical.Col(s, 2)),
		c("date_trunc", logical.Date32, map[string]string{"unit": "YEAR"}, logical.Col(s, 2)),
		c("and", logical.Bool, nil, &logical.Literal{Value: true, T: logical.Bool}, &logical.Literal{Value: true, T: logical.Bool}, &logical.Literal{Value: false, T: logical.Bool}),
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	agg := logical.NewAggregate(logical.NewProject(scan, exprs, names, nil), nil, nil, nil,
		[]*logical.AggregateCall{{Func: "count", T: logical.Int64}}, []string{"n"})
	p, err := ToProto(agg)
	if err != nil {
		t.Fatal(err)
	}
	urns := map[uint32]string{}
	for _, u := range p.GetExtensionUrns() {
		urns[u.GetExtensionUrnAnchor()] = strings.TrimPrefix(u.GetUrn(), "extension:io.")
	}
	var got []string
	for _, d := range p.GetExtensions() {
		f := d.GetExtensionFunction()
		got = append(got, urns[f.GetExtensionUrnReference()]+" "+f.GetName())
	}
	want := []string{
		"substrait:functions_arithmetic add:i64_i64",
		"substrait:functions_arithmetic_decimal add:dec_dec",
		"substrait:functions_datetime add:date_iday",
		"substrait:functions_string like:str_str",
		"substrait:functions_datetime extract:req_req_date",
		"arbalest:functions_arbalest date_trunc:req_date",
		"substrait:functions_boolean and:bool",
		"substrait:functions_aggregate_generic count:",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("declarations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := ToProto(&logical.Filter{Input: scan, Cond: c("no_such_fn", logical.Bool, nil)}); err == nil || !strings.Contains(err.Error(), `"no_such_fn" is not declared`) {
		t.Fatalf("unknown function: %v", err)
	}
}
