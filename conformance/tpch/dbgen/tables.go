// Package dbgen is a pure-Go TPC-H data generator whose output is
// identical, value for value, to the TPC's reference dbgen (and so to
// tpchgen-cli, which reproduces it): the same per-column Park–Miller
// streams and seeds, the same grammar-built comment text, phone numbers,
// prices, dates, sparse order keys and part/supplier pairing (TPC-H
// specification clause 4.2).
//
// Every table is split into "units" (rows, but parts for partsupp, which
// has four rows per part, and orders for lineitem, which has one to seven
// rows per order). Any range of units can be generated independently,
// because each column stream is jumped ahead to the range's first unit;
// Generate uses that to build large tables in parallel chunks and stream
// them into one Parquet file per table.
//
// Scale factors from MinScaleFactor up to (not including) MaxScaleFactor
// are supported; row counts are base·sf truncated, as dbgen computes them.
// Above SF 10737 part and customer keys span more than 32 bits: dbgen and
// this package draw them over the whole range, while tpchgen-cli (4.0)
// truncates the range to 32 bits, so its output differs there.
package dbgen

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Table is one of the eight TPC-H tables.
type Table int

// The TPC-H tables, in the order Generate writes them.
const (
	Nation Table = iota
	Region
	Part
	Supplier
	PartSupp
	Customer
	Orders
	LineItem
)

// Tables lists all eight tables.
var Tables = []Table{Nation, Region, Part, Supplier, PartSupp, Customer, Orders, LineItem}

var tableNames = [...]string{"nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

// String returns the table's name as in the TPC-H schema ("lineitem").
func (t Table) String() string {
	if t < 0 || int(t) >= len(tableNames) {
		return fmt.Sprintf("Table(%d)", int(t))
	}
	return tableNames[t]
}

func (t Table) valid() bool { return t >= 0 && int(t) < len(tableNames) }

// ParseTable returns the table named name (case-insensitive).
func ParseTable(name string) (Table, error) {
	for i, n := range tableNames {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return Table(i), nil
		}
	}
	return 0, fmt.Errorf("unknown TPC-H table %q (want one of %s)", name, strings.Join(tableNames[:], ", "))
}

// Money is the type of prices, balances, quantities, discounts and taxes.
var Money = &arrow.Decimal128Type{Precision: 15, Scale: 2}

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t}
}

var (
	i64      = arrow.PrimitiveTypes.Int64
	i32      = arrow.PrimitiveTypes.Int32
	str      = arrow.BinaryTypes.String
	dateType = arrow.FixedWidthTypes.Date32
)

var schemas = [...]*arrow.Schema{
	Nation: arrow.NewSchema([]arrow.Field{
		field("n_nationkey", i64), field("n_name", str), field("n_regionkey", i64), field("n_comment", str),
	}, nil),
	Region: arrow.NewSchema([]arrow.Field{
		field("r_regionkey", i64), field("r_name", str), field("r_comment", str),
	}, nil),
	Part: arrow.NewSchema([]arrow.Field{
		field("p_partkey", i64), field("p_name", str), field("p_mfgr", str), field("p_brand", str),
		field("p_type", str), field("p_size", i32), field("p_container", str), field("p_retailprice", Money),
		field("p_comment", str),
	}, nil),
	Supplier: arrow.NewSchema([]arrow.Field{
		field("s_suppkey", i64), field("s_name", str), field("s_address", str), field("s_nationkey", i64),
		field("s_phone", str), field("s_acctbal", Money), field("s_comment", str),
	}, nil),
	PartSupp: arrow.NewSchema([]arrow.Field{
		field("ps_partkey", i64), field("ps_suppkey", i64), field("ps_availqty", i32),
		field("ps_supplycost", Money), field("ps_comment", str),
	}, nil),
	Customer: arrow.NewSchema([]arrow.Field{
		field("c_custkey", i64), field("c_name", str), field("c_address", str), field("c_nationkey", i64),
		field("c_phone", str), field("c_acctbal", Money), field("c_mktsegment", str), field("c_comment", str),
	}, nil),
	Orders: arrow.NewSchema([]arrow.Field{
		field("o_orderkey", i64), field("o_custkey", i64), field("o_orderstatus", str), field("o_totalprice", Money),
		field("o_orderdate", dateType), field("o_orderpriority", str), field("o_clerk", str), field("o_shippriority", i32),
		field("o_comment", str),
	}, nil),
	LineItem: arrow.NewSchema([]arrow.Field{
		field("l_orderkey", i64), field("l_partkey", i64), field("l_suppkey", i64), field("l_linenumber", i32),
		field("l_quantity", Money), field("l_extendedprice", Money), field("l_discount", Money), field("l_tax", Money),
		field("l_returnflag", str), field("l_linestatus", str), field("l_shipdate", dateType), field("l_commitdate", dateType),
		field("l_receiptdate", dateType), field("l_shipinstruct", str), field("l_shipmode", str), field("l_comment", str),
	}, nil),
}

// Schema returns the table's Arrow schema: keys int64; line numbers,
// sizes, quantities available and ship priority int32; money
// decimal(15,2); dates date32; text utf8. No column is nullable.
func (t Table) Schema() *arrow.Schema {
	if !t.valid() {
		return nil
	}
	return schemas[t]
}

// Scale bases: rows (units) per table at scale factor 1.
const (
	partBase     = 200_000
	supplierBase = 10_000
	customerBase = 150_000
	ordersBase   = 1_500_000

	// MaxScaleFactor bounds the scale factors accepted (exclusive). From
	// 30000 on, dbgen draws part and customer keys from 64-bit streams
	// whose values depend on how dbgen splits its work among processes,
	// so there is no single output to reproduce.
	MaxScaleFactor = 30_000
	// MinScaleFactor is the smallest scale factor accepted: the one that
	// still has a supplier (partsupp picks suppliers modulo their count).
	MinScaleFactor = 0.0001
)

// ValidateScaleFactor reports whether sf can be generated.
func ValidateScaleFactor(sf float64) error {
	switch {
	case math.IsNaN(sf) || math.IsInf(sf, 0) || sf <= 0:
		return fmt.Errorf("TPC-H scale factor must be a positive number, got %v", sf)
	case sf >= MaxScaleFactor:
		return fmt.Errorf("TPC-H scale factor %v is not supported: dbgen's output from scale factor %d on depends on how it is parallelised", sf, MaxScaleFactor)
	case scaled(supplierBase, sf) < 1:
		return fmt.Errorf("TPC-H scale factor %v is too small: it has no supplier (minimum %v)", sf, MinScaleFactor)
	}
	return nil
}

// scaled is dbgen's row count: base·sf truncated toward zero.
func scaled(base int64, sf float64) int64 {
	return int64(float64(base) * sf)
}

// Units returns how many generation units table t has at scale factor sf:
// its row count, except for partsupp (parts, four rows each) and lineitem
// (orders, one to seven rows each).
func Units(t Table, sf float64) (int64, error) {
	if !t.valid() {
		return 0, fmt.Errorf("invalid TPC-H table %d", int(t))
	}
	if err := ValidateScaleFactor(sf); err != nil {
		return 0, err
	}
	switch t {
	case Nation:
		return int64(len(dists.nations.values)), nil
	case Region:
		return int64(len(dists.regions.values)), nil
	case Part, PartSupp:
		return scaled(partBase, sf), nil
	case Supplier:
		return scaled(supplierBase, sf), nil
	case Customer:
		return scaled(customerBase, sf), nil
	default:
		return scaled(ordersBase, sf), nil
	}
}

// RowCount returns the exact row count of t at sf for every table but
// lineitem, whose count is only known by generating it (ok is false).
func RowCount(t Table, sf float64) (rows int64, ok bool, err error) {
	u, err := Units(t, sf)
	if err != nil {
		return 0, false, err
	}
	switch t {
	case PartSupp:
		return u * suppliersPerPart, true, nil
	case LineItem:
		return 0, false, nil
	}
	return u, true, nil
}
