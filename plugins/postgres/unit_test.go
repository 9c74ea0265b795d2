package postgres

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	plugin "github.com/arbalest/arbalest/plugins/author"
	"github.com/jackc/pgx/v5/pgtype"
)

func TestParseTable(t *testing.T) {
	dsn := "postgres://u:hunter2secret@db:5432/shop"
	ok := []plugin.Table{
		{Options: map[string]string{"dsn": dsn, "table": "public.t"}},
		{Location: dsn, Options: map[string]string{"TABLE": "t", "Partitions": "4"}},
		{Location: dsn, Options: map[string]string{"dsn": dsn, "query": "SELECT 1 AS x;", "unsupported_types": "TEXT"}},
	}
	for _, tb := range ok {
		if _, err := parseTable(tb); err != nil {
			t.Errorf("%v: %v", tb.Options, err)
		}
	}
	c, _ := parseTable(ok[2])
	if c.query != "SELECT 1 AS x" || !c.unsupportedAsText {
		t.Errorf("query %q, asText %v", c.query, c.unsupportedAsText)
	}
	bad := []struct {
		t    plugin.Table
		want string
	}{
		{plugin.Table{Options: map[string]string{"table": "t"}}, "no connection string"},
		{plugin.Table{Location: dsn, Options: map[string]string{}}, "give the table"},
		{plugin.Table{Location: dsn, Options: map[string]string{"table": "t", "query": "SELECT 1"}}, "not both"},
		{plugin.Table{Location: dsn, Options: map[string]string{"table": "t", "partiton_column": "id"}}, `unknown option "partiton_column"`},
		{plugin.Table{Location: dsn, Options: map[string]string{"table": "t", "partitions": "0"}}, "partitions must be"},
		{plugin.Table{Location: dsn, Options: map[string]string{"table": "t", "connect_timeout": "-1"}}, "connect_timeout"},
		{plugin.Table{Location: dsn, Options: map[string]string{"table": "t", "unsupported_types": "skip"}}, "unsupported_types"},
		{plugin.Table{Location: "postgres://u:other@db/x", Options: map[string]string{"dsn": dsn, "table": "t"}}, "two different"},
		{plugin.Table{Location: "postgres://u:hunter2secret@db:notaport/x", Options: map[string]string{"table": "t"}}, "does not parse"},
	}
	for _, b := range bad {
		_, err := parseTable(b.t)
		if err == nil || !strings.Contains(err.Error(), b.want) || !errors.Is(err, ErrOptions) {
			t.Errorf("%v: got %v, want an ErrOptions containing %q", b.t, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("password in %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := []struct {
		dsn, text string
	}{
		{"postgres://alice:s3cr3t-pw@h/db", "cannot parse `postgres://alice:s3cr3t-pw@h/db`: bad"},
		{"postgres://alice:p%40ss%3Aword@h/db", "failed: p@ss:word and p%40ss%3Aword"},
		{"host=h user=alice password=kv-secret-1 dbname=db", "dial: host=h user=alice password=kv-secret-1 dbname=db"},
		{"host=h password='quoted secret' dbname=db", "x password='quoted secret' y"},
		{"postgresql://alice:s3cr3t@h/db?sslpassword=keypass123", "url postgresql://alice:s3cr3t@h/db?sslpassword=keypass123"},
		{"postgres://h/db?password=qparam-secret", "postgres://h/db?password=qparam-secret and qparam-secret"},
	}
	secretsOf := map[string][]string{
		cases[0].dsn: {"s3cr3t-pw"},
		cases[1].dsn: {"p@ss:word", "p%40ss%3Aword"},
		cases[2].dsn: {"kv-secret-1"},
		cases[3].dsn: {"quoted secret"},
		cases[4].dsn: {"s3cr3t", "keypass123"},
		cases[5].dsn: {"qparam-secret"},
	}
	for _, c := range cases {
		r := newRedactor(c.dsn)
		got := r.err(errors.New(c.text), "ctx %s", c.dsn).Error()
		for _, sec := range secretsOf[c.dsn] {
			if strings.Contains(got, sec) {
				t.Errorf("%q: secret %q left in %q", c.dsn, sec, got)
			}
		}
		if d := describeDSN(c.dsn); strings.Contains(d, "secret") || strings.Contains(d, "s3cr3t") || strings.Contains(d, "p@ss") {
			t.Errorf("describeDSN(%q) = %q", c.dsn, d)
		}
	}
	if got := describeDSN("postgres://alice:pw@db.example:6543/shop?sslmode=require"); got != "postgres://alice@db.example:6543/shop" {
		t.Errorf("describeDSN: %q", got)
	}
	// A password equal to the user name stays visible as the name, but
	// never in a connection-string shape.
	r := newRedactor("postgres://arbalest:arbalest@h/arbalest")
	got := r.text("user=arbalest: cannot parse `postgres://arbalest:arbalest@h/arbalest?password=arbalest`")
	if want := "user=arbalest: cannot parse `postgres://arbalest:xxxxx@h/arbalest?password=xxxxx`"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Errors keep errors.Is for their cause without exposing it.
	cause := errors.New("boom")
	e := newRedactor("postgres://u:pw123@h/db").err(cause, "x")
	if !errors.Is(e, cause) || errors.Unwrap(e) != nil {
		t.Errorf("Is %v, Unwrap %v", errors.Is(e, cause), errors.Unwrap(e))
	}
}

func TestCutRanges(t *testing.T) {
	check := func(lo, hi int64, n int, wantLen int) {
		t.Helper()
		rs := cutRanges(lo, hi, n)
		if len(rs) != wantLen {
			t.Fatalf("cutRanges(%d, %d, %d): %d ranges, want %d", lo, hi, n, len(rs), wantLen)
		}
		if len(rs) == 1 {
			if rs[0].lo != nil || rs[0].hi != nil {
				t.Fatalf("one range must be unbounded")
			}
			return
		}
		if rs[0].lo != nil || rs[len(rs)-1].hi != nil {
			t.Fatalf("ends must be open")
		}
		prev := int64(math.MinInt64)
		for i := 0; i+1 < len(rs); i++ {
			b := *rs[i].hi
			if b <= prev || b <= lo || b > hi {
				t.Fatalf("bound %d: %d (prev %d) outside (%d, %d]", i, b, prev, lo, hi)
			}
			if *rs[i+1].lo != b {
				t.Fatalf("ranges %d and %d do not meet", i, i+1)
			}
			prev = b
		}
	}
	check(1, 100, 4, 4)
	check(0, 2, 3, 3)
	check(0, 2, 10, 3)
	check(5, 5, 8, 1)
	check(7, 3, 4, 1)
	check(math.MinInt64, math.MaxInt64, 16, 16)
	check(math.MinInt64, math.MinInt64+1, 16, 2)
	check(-10, 10, 1, 1)
	rs := cutRanges(1, 100, 4)
	var bs []int64
	for _, r := range rs[:3] {
		bs = append(bs, *r.hi)
	}
	if bs[0] != 26 || bs[1] != 51 || bs[2] != 76 {
		t.Fatalf("bounds %v, want [26 51 76]", bs)
	}
}

// TestDecodeNumeric checks the binary numeric decoder against pgx's
// encoder on random values and on edge cases.
func TestDecodeNumeric(t *testing.T) {
	m := pgtype.NewMap()
	enc := func(n pgtype.Numeric) []byte {
		b, err := m.Encode(oidNumeric, pgtype.BinaryFormatCode, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		p := int32(1 + rng.IntN(38))
		s := int32(rng.IntN(int(p) + 1))
		digits := 1 + rng.IntN(int(p))
		v := new(big.Int)
		for range digits {
			v.Mul(v, big.NewInt(10)).Add(v, big.NewInt(int64(rng.IntN(10))))
		}
		if rng.IntN(2) == 0 {
			v.Neg(v)
		}
		// PostgreSQL sends numeric(p,s) values with exponent -s; pgx may
		// normalise trailing zeros, which the decoder must handle too.
		wire := enc(pgtype.Numeric{Int: v, Exp: -s, Valid: true})
		got, err := decodeNumeric(wire, p, s)
		if err != nil {
			t.Fatalf("%s e-%d as decimal(%d,%d): %v", v, s, p, s, err)
		}
		if got.BigInt().Cmp(v) != 0 {
			t.Fatalf("%s e-%d as decimal(%d,%d): got %s", v, s, p, s, got.BigInt())
		}
	}
	// Hand-made wire values: 123.45 as digits [123, 4500], weight 0.
	w := func(ndigits, weight int, sign uint16, dscale int, digits ...uint16) []byte {
		b := make([]byte, 8+2*len(digits))
		binary.BigEndian.PutUint16(b[0:], uint16(ndigits))
		binary.BigEndian.PutUint16(b[2:], uint16(int16(weight)))
		binary.BigEndian.PutUint16(b[4:], sign)
		binary.BigEndian.PutUint16(b[6:], uint16(dscale))
		for i, d := range digits {
			binary.BigEndian.PutUint16(b[8+2*i:], d)
		}
		return b
	}
	if n, err := decodeNumeric(w(2, 0, 0, 2, 123, 4500), 10, 2); err != nil || n != decimal128.FromI64(12345) {
		t.Errorf("123.45: %v %v", n, err)
	}
	if n, err := decodeNumeric(w(0, 0, 0, 0), 5, 2); err != nil || n != (decimal128.Num{}) {
		t.Errorf("zero: %v %v", n, err)
	}
	bad := map[string][]byte{
		"NaN":              w(0, 0, numericNaN, 0),
		"infinite":         w(0, 0, numericPInf, 0),
		"short":            {0, 1},
		"length":           w(3, 0, 0, 0, 1),
		"digit":            w(1, 0, 0, 0, 10000),
		"fraction":         w(2, 0, 0, 3, 1, 1230),
		"precision":        w(1, 1, 0, 0, 1), // 10000 in decimal(4,0)
		"huge":             w(1, 20, 0, 0, 1),
		"sign":             w(1, 0, 0x1234, 0, 1),
		"negative ndigits": w(0, 0, 0, 0)[:8],
	}
	bad["negative ndigits"][0] = 0xff
	for name, v := range bad {
		if _, err := decodeNumeric(v, 4, 0); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestBatcher decodes hand-made wire rows of every type and checks the
// batches (and that no memory leaks).
func TestBatcher(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := []ticketColumn{
		{Name: "i", OID: oidInt4, Nullable: true}, {Name: "s", OID: oidText, Nullable: true},
		{Name: "d", OID: oidDate, Nullable: true}, {Name: "ts", OID: oidTimestamptz, Nullable: false},
		{Name: "n", OID: oidNumeric, Precision: 5, Scale: 2, Nullable: true},
	}
	fs := make([]arrow.Field, len(cols))
	oids := make([]uint32, len(cols))
	for i, c := range cols {
		at, err := c.arrowType()
		if err != nil {
			t.Fatal(err)
		}
		fs[i], oids[i] = arrow.Field{Name: c.Name, Type: at, Nullable: c.Nullable}, c.OID
	}
	schema := arrow.NewSchema(fs, nil)
	be32 := func(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	be64 := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	// A read stops at its first bad value, so each bad row gets a fresh
	// batcher.
	for name, row := range map[string][][]byte{
		"not null":      {nil, nil, nil, nil, nil},
		"infinite date": {nil, nil, be32(math.MaxInt32), be64(0), nil},
		"infinite ts":   {nil, nil, nil, be64(math.MaxInt64), nil},
		"bad utf8":      {nil, []byte{0xff, 0xfe}, nil, be64(0), nil},
		"short int":     {[]byte{1}, nil, nil, be64(0), nil},
		"width":         {nil},
	} {
		bt, err := newBatcher(mem, schema, oids, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := bt.appendRow(row); err == nil || !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: %v", name, err)
		}
		bt.release()
	}
	bt, err := newBatcher(mem, schema, oids, true)
	if err != nil {
		t.Fatal(err)
	}
	defer bt.release()
	num := []byte{0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0xc4} // 1.25
	if err := bt.appendRow([][]byte{be32(-5), []byte("zürich"), be32(0), be64(0), num}); err != nil {
		t.Fatal(err)
	}
	if err := bt.appendRow([][]byte{nil, nil, nil, be64(1), nil}); err != nil {
		t.Fatal(err)
	}
	rec := bt.flush()
	if rec == nil {
		t.Fatal("no batch")
	}
	defer rec.Release()
	if rec.NumRows() != 2 {
		t.Fatalf("rows %d", rec.NumRows())
	}
	if v := rec.Column(1).(*array.String).Value(0); v != "zürich" {
		t.Errorf("text %q", v)
	}
	if v := rec.Column(2).(*array.Date32).Value(0); v != pgEpochDays {
		t.Errorf("date %d", v)
	}
	if v := rec.Column(3).(*array.Timestamp).Value(1); int64(v) != pgEpochMicros+1 {
		t.Errorf("timestamp %d", v)
	}
	if v := rec.Column(4).(*array.Decimal128).Value(0); v != decimal128.FromI64(125) {
		t.Errorf("numeric %v", v)
	}
	if !rec.Column(0).IsNull(1) {
		t.Error("null lost")
	}
}

func TestTicketRoundTrip(t *testing.T) {
	v := "5"
	tk := &ticket{Version: ticketVersion, DSN: "postgres://u:pw@h/db", SQL: "SELECT 1", BatchRows: 10, Label: "x",
		Params:  []param{{Type: "int8", Value: &v}, {Type: "text"}},
		Columns: []ticketColumn{{Name: "a", OID: oidNumeric, Precision: 10, Scale: 2, Nullable: true}, {Name: "b", OID: oidTimestamptz}}}
	b, err := tk.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, schema, err := decodeTicket(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params[1].Value != nil || *got.Params[0].Value != "5" {
		t.Errorf("params %+v", got.Params)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "b", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	if !schema.Equal(want) {
		t.Errorf("schema %s", schema)
	}
	for name, mutate := range map[string]func(*ticket){
		"version": func(t *ticket) { t.Version = 2 },
		"dsn":     func(t *ticket) { t.DSN = "" },
		"sql":     func(t *ticket) { t.SQL = " " },
		"batch":   func(t *ticket) { t.BatchRows = 0 },
		"param":   func(t *ticket) { t.Params = []param{{Type: "interval"}} },
		"column":  func(t *ticket) { t.Columns = []ticketColumn{{Name: "x", OID: 2950}} },
		"decimal": func(t *ticket) { t.Columns = []ticketColumn{{Name: "x", OID: oidNumeric, Precision: 40}} },
	} {
		c := *tk
		mutate(&c)
		b, _ := json.Marshal(&c)
		if _, _, err := decodeTicket(b); err == nil || !errors.Is(err, ErrTicket) {
			t.Errorf("%s: %v", name, err)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: DSN in %v", name, err)
		}
	}
}

// FuzzTicket: any bytes give a ticket or an error, never a panic, and
// errors never quote the DSN.
func FuzzTicket(f *testing.F) {
	f.Add([]byte(`{"v":1,"dsn":"postgres://u:SECRETPW@h/db","sql":"SELECT 1","batch_rows":5,"columns":[{"name":"a","oid":20}]}`))
	f.Add([]byte(`{"v":1,"dsn":"postgres://u:SECRETPW@h/db","sql":"x","batch_rows":1,"params":[{"t":"int8","v":"1"}],"columns":[{"name":"n","oid":1700,"p":5,"s":9}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"v":1,"dsn":"postgres://u:SECRETPW@h/db"} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := decodeTicket(b)
		if err != nil && strings.Contains(err.Error(), "SECRETPW") {
			t.Fatalf("secret in %v", err)
		}
	})
}
