package logical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// ContractType maps a type a file reader produces to the type the engine
// uses for it (see the package comment): every string type becomes utf8,
// binary types binary, decimals DecimalType (Decimal64 up to precision 18),
// timestamps timestamp[us] without a zone (the values are UTC instants),
// date64 date32, dictionaries their value type. Integers, floats, booleans
// and nested types are kept as they are. Frontends that read a file's
// schema themselves (the Go SDK's ReadParquet) declare these types, which
// are the ones the executors' scans produce.
func ContractType(t arrow.DataType) arrow.DataType {
	switch t.ID() {
	case arrow.STRING_VIEW, arrow.LARGE_STRING:
		return Utf8
	case arrow.BINARY_VIEW, arrow.LARGE_BINARY:
		return arrow.BinaryTypes.Binary
	case arrow.DICTIONARY:
		return ContractType(t.(*arrow.DictionaryType).ValueType)
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		return DecimalType(d.GetPrecision(), d.GetScale())
	case arrow.TIMESTAMP:
		return TimestampUs
	case arrow.DATE64:
		return Date32
	}
	return t
}

// ContractSchema applies ContractType to every field of s (names and
// nullability kept, metadata dropped).
func ContractSchema(s *arrow.Schema) *arrow.Schema {
	fs := make([]arrow.Field, s.NumFields())
	for i, f := range s.Fields() {
		fs[i] = arrow.Field{Name: f.Name, Type: ContractType(f.Type), Nullable: f.Nullable}
	}
	return arrow.NewSchema(fs, nil)
}

// UnifyFileSchemas checks that b (the schema of one more file of a table)
// has a's columns with a's types and returns a with the nullability of
// both: the schema of a table of several files.
func UnifyFileSchemas(a, b *arrow.Schema) (*arrow.Schema, error) {
	if a.NumFields() != b.NumFields() {
		return nil, fmt.Errorf("%d columns instead of %d", b.NumFields(), a.NumFields())
	}
	fs := make([]arrow.Field, a.NumFields())
	for i, f := range a.Fields() {
		g := b.Field(i)
		if f.Name != g.Name || !arrow.TypeEqual(f.Type, g.Type) {
			return nil, fmt.Errorf("column %d is %s %s instead of %s %s", i+1, g.Name, g.Type, f.Name, f.Type)
		}
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable || g.Nullable}
	}
	return arrow.NewSchema(fs, nil), nil
}
