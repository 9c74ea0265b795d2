package flightsql

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/sql"
)

func TestParseTemplate(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		out  string // rendered with literals L1, L2, ...
		fail string
	}{
		{in: "SELECT 1", n: 0, out: "SELECT 1"},
		{in: "SELECT ? + ?", n: 2, out: "SELECT  L1  +  L2 "},
		{in: "SELECT $2, $1, $2", n: 2, out: "SELECT  L2 ,  L1 ,  L2 "},
		{in: "SELECT '?', \"$1\", ? -- ? $1\n", n: 1, out: "SELECT '?', \"$1\",  L1  -- ? $1\n"},
		{in: "SELECT 'it''s ?', ?", n: 1, out: "SELECT 'it''s ?',  L1 "},
		{in: "SELECT E'\\' ?', ?", n: 1, out: "SELECT E'\\' ?',  L1 "},
		{in: "SELECT /* ? /* $1 */ ? */ ?", n: 1, out: "SELECT /* ? /* $1 */ ? */  L1 "},
		{in: "SELECT $$ ? $$, $tag$ $1 $tag$, ?", n: 1, out: "SELECT $$ ? $$, $tag$ $1 $tag$,  L1 "},
		{in: "SELECT a$1 FROM t", n: 0, out: "SELECT a$1 FROM t"},
		{in: "SELECT ?, $1", fail: "not both"},
		{in: "SELECT 'open", fail: "unterminated string"},
		{in: "SELECT \"open", fail: "unterminated quoted identifier"},
		{in: "SELECT /* open", fail: "unterminated comment"},
		{in: "SELECT $0", fail: "$0"},
		{in: "SELECT $99999999999999999999", fail: "numbers run"},
	}
	for _, c := range cases {
		tm, err := parseTemplate(c.in)
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%q: got %v, want an error with %q", c.in, err, c.fail)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if tm.N != c.n {
			t.Errorf("%q: %d parameters, want %d", c.in, tm.N, c.n)
		}
		lits := make([]string, tm.N)
		for i := range lits {
			lits[i] = "L" + string(rune('1'+i))
		}
		got, err := tm.render(lits)
		if err != nil || got != c.out {
			t.Errorf("%q: rendered %q (%v), want %q", c.in, got, err, c.out)
		}
		if _, err := tm.render(nil); tm.N > 0 && err == nil {
			t.Errorf("%q: rendering without parameters must fail", c.in)
		}
	}
}

func TestLiterals(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "l", Type: arrow.PrimitiveTypes.Int64},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32},
		{Name: "x", Type: arrow.BinaryTypes.Binary},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{-5, 0}, []bool{true, false})
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{-9000000000, 1}, nil)
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{1.5e-7, -0.25}, nil)
	b.Field(3).(*array.StringBuilder).AppendValues([]string{"it's -- \\", "a\x00b"}, nil)
	b.Field(4).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	b.Field(5).(*array.Date32Builder).AppendValues([]arrow.Date32{10000, 0}, nil)
	b.Field(6).(*array.BinaryBuilder).AppendValues([][]byte{{1}, {2}}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	want := []string{"(-5)", "CAST((-9000000000) AS BIGINT)", "CAST('1.5e-07' AS DOUBLE PRECISION)", `'it''s -- \'`, "TRUE", "DATE '1997-05-19'"}
	for c, w := range want {
		got, err := literal(rec.Column(c), 0)
		if err != nil || got != w {
			t.Errorf("column %d: %q (%v), want %q", c, got, err, w)
		}
	}
	if got, _ := literal(rec.Column(0), 1); got != "NULL" {
		t.Errorf("null: %q", got)
	}
	if _, err := literal(rec.Column(3), 1); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL in a string: %v", err)
	}
	if _, err := literal(rec.Column(6), 0); err == nil || !strings.Contains(err.Error(), "cannot be bound") {
		t.Errorf("binary: %v", err)
	}
	// Every literal parses as SQL.
	lits := make([]string, 6)
	for c := range lits {
		lits[c], _ = literal(rec.Column(c), 0)
	}
	if _, err := sql.Parse("SELECT " + strings.Join(lits, ", ")); err != nil {
		t.Errorf("literals do not parse: %v", err)
	}
}

func TestLike(t *testing.T) {
	cases := []struct {
		p, s string
		ok   bool
	}{
		{"%", "", true}, {"%", "abc", true}, {"a%", "abc", true}, {"%c", "abc", true}, {"%x%", "abc", false},
		{"a_c", "abc", true}, {"a_c", "ac", false}, {`a\_c`, "a_c", true}, {`a\_c`, "abc", false},
		{"line%", "lineitem", true}, {"", "", true}, {"", "a", false},
		{strings.Repeat("%a", 40) + "b", strings.Repeat("a", 60), false},
	}
	for _, c := range cases {
		p := c.p
		if got := likeMatch(&p, c.s); got != c.ok {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.p, got, c.ok)
		}
	}
	if !likeMatch(nil, "anything") {
		t.Error("a nil pattern matches everything")
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"SELECT ?", "SELECT $1, '$2'", "SELECT $$?$$", "/* ? */ ?", "E'\\'?'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		tm, err := parseTemplate(q)
		if err != nil {
			return
		}
		out, err := tm.render(tm.nulls())
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if tm.N == 0 && out != q {
			t.Fatalf("%q without parameters rendered as %q", q, out)
		}
	})
}

// TestExpiredTokensCloseSessions: tokens that expire, or are pushed out,
// hand their sessions to the closer.
func TestExpiredTokensCloseSessions(t *testing.T) {
	tk := newTokens(time.Minute)
	var closed []string
	tk.dropped = func(s string) { closed = append(closed, s) }
	a := tk.issue()
	sa, _ := tk.check(a)
	tk.expire(time.Now().Add(2 * time.Minute))
	if len(closed) != 1 || closed[0] != sa {
		t.Fatalf("closed %v, want [%s]", closed, sa)
	}
	if _, ok := tk.check(a); ok {
		t.Fatal("an expired token still works")
	}
}
