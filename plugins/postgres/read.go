package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgconn"
)

// Rows arrive in PostgreSQL's binary format (requested for every column)
// and are decoded straight into Arrow builders.

// maxBatchBytes flushes a batch early when its variable-width data grows
// past this, so wide text or bytea rows do not make huge batches.
const maxBatchBytes = 64 << 20

// ErrBadValue marks a value the plugin cannot represent in Arrow (an
// infinite date, a NaN numeric) or a malformed wire value.
var ErrBadValue = errors.New("unreadable PostgreSQL value")

// decoder appends one column's wire values to an Arrow builder.
type decoder struct {
	name     string
	nullable bool
	b        array.Builder
	// put appends a non-NULL wire value.
	put func(v []byte) error
}

func badValue(col string, format string, args ...any) error {
	return fmt.Errorf("%w: column %s: %s", ErrBadValue, quoteIdent(col), fmt.Sprintf(format, args...))
}

func fixedLen(col, typ string, v []byte, n int) error {
	if len(v) != n {
		return badValue(col, "%s value of %d bytes (want %d)", typ, len(v), n)
	}
	return nil
}

// newDecoder makes the decoder of a column read with wire type oid.
// validateUTF8 checks text (needed when the server encoding is not UTF8:
// SQL_ASCII databases pass bytes through unchecked).
func newDecoder(mem memory.Allocator, f arrow.Field, oid uint32, validateUTF8 bool) (*decoder, error) {
	d := &decoder{name: f.Name, nullable: f.Nullable, b: array.NewBuilder(mem, f.Type)}
	col := f.Name
	switch oid {
	case oidBool:
		b := d.b.(*array.BooleanBuilder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "bool", v, 1); err != nil {
				return err
			}
			b.Append(v[0] != 0)
			return nil
		}
	case oidInt2:
		b := d.b.(*array.Int16Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "int2", v, 2); err != nil {
				return err
			}
			b.Append(int16(binary.BigEndian.Uint16(v)))
			return nil
		}
	case oidInt4:
		b := d.b.(*array.Int32Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "int4", v, 4); err != nil {
				return err
			}
			b.Append(int32(binary.BigEndian.Uint32(v)))
			return nil
		}
	case oidInt8:
		b := d.b.(*array.Int64Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "int8", v, 8); err != nil {
				return err
			}
			b.Append(int64(binary.BigEndian.Uint64(v)))
			return nil
		}
	case oidFloat4:
		b := d.b.(*array.Float32Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "float4", v, 4); err != nil {
				return err
			}
			b.Append(math.Float32frombits(binary.BigEndian.Uint32(v)))
			return nil
		}
	case oidFloat8:
		b := d.b.(*array.Float64Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "float8", v, 8); err != nil {
				return err
			}
			b.Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
			return nil
		}
	case oidNumeric:
		b := d.b.(*array.Decimal128Builder)
		dt := f.Type.(*arrow.Decimal128Type)
		d.put = func(v []byte) error {
			n, err := decodeNumeric(v, dt.Precision, dt.Scale)
			if err != nil {
				return badValue(col, "%v", err)
			}
			b.Append(n)
			return nil
		}
	case oidText:
		b := d.b.(*array.StringBuilder)
		d.put = func(v []byte) error {
			if validateUTF8 && !utf8.Valid(v) {
				return badValue(col, "text that is not valid UTF-8 (the database encoding is not UTF8)")
			}
			b.BinaryBuilder.Append(v)
			return nil
		}
	case oidBytea:
		b := d.b.(*array.BinaryBuilder)
		d.put = func(v []byte) error {
			b.Append(v)
			return nil
		}
	case oidDate:
		b := d.b.(*array.Date32Builder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "date", v, 4); err != nil {
				return err
			}
			days := int32(binary.BigEndian.Uint32(v))
			if days == math.MaxInt32 || days == math.MinInt32 {
				return badValue(col, "infinite date (Arrow dates are finite; filter it out or cast it in a query option)")
			}
			// PostgreSQL dates end in 5874897 AD, well inside int32 days
			// from 1970.
			b.Append(arrow.Date32(days + pgEpochDays))
			return nil
		}
	case oidTimestamp, oidTimestamptz:
		b := d.b.(*array.TimestampBuilder)
		d.put = func(v []byte) error {
			if err := fixedLen(col, "timestamp", v, 8); err != nil {
				return err
			}
			us := int64(binary.BigEndian.Uint64(v))
			if us == math.MaxInt64 || us == math.MinInt64 {
				return badValue(col, "infinite timestamp (Arrow timestamps are finite; filter it out or cast it in a query option)")
			}
			if us > math.MaxInt64-pgEpochMicros {
				return badValue(col, "timestamp out of the range of Arrow microseconds")
			}
			b.Append(arrow.Timestamp(us + pgEpochMicros))
			return nil
		}
	default:
		d.b.Release()
		return nil, fmt.Errorf("%w: column %s has wire type oid %d, which the plugin does not decode", ErrTicket, quoteIdent(col), oid)
	}
	return d, nil
}

// pow10 holds 10^0 .. 10^38 as decimal128 values.
var pow10 = func() [39]decimal128.Num {
	var p [39]decimal128.Num
	p[0] = decimal128.FromI64(1)
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1].Mul(decimal128.FromI64(10))
	}
	return p
}()

// Signs of PostgreSQL's binary numeric.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// decodeNumeric converts PostgreSQL's binary numeric (base-10000 digits
// with a weight) into a decimal128 with the given scale. Digits beyond the
// scale must be zero (columns are numeric(p,s), or cast to one).
func decodeNumeric(v []byte, precision, scale int32) (decimal128.Num, error) {
	if len(v) < 8 {
		return decimal128.Num{}, fmt.Errorf("numeric value of %d bytes", len(v))
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v[0:])))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	switch sign {
	case numericPos, numericNeg:
	case numericNaN:
		return decimal128.Num{}, fmt.Errorf("NaN numeric cannot be a decimal")
	case numericPInf, numericNInf:
		return decimal128.Num{}, fmt.Errorf("infinite numeric cannot be a decimal")
	default:
		return decimal128.Num{}, fmt.Errorf("numeric with sign word %#x", sign)
	}
	if ndigits < 0 || len(v) != 8+2*ndigits {
		return decimal128.Num{}, fmt.Errorf("numeric value of %d bytes with %d digits", len(v), ndigits)
	}
	// The unscaled result has at most 4*(weight+1)+scale decimal digits;
	// up to 38 fit int128 without overflow checks.
	if 4*(weight+1)+int(scale) > 38 {
		return decodeNumericBig(v[8:], ndigits, weight, sign, precision, scale)
	}
	var acc decimal128.Num
	exp := 0 // power of ten still to apply after the last digit
	for i := range ndigits {
		d := int64(binary.BigEndian.Uint16(v[8+2*i:]))
		if d > 9999 {
			return decimal128.Num{}, fmt.Errorf("numeric digit %d out of range", d)
		}
		// e is the power of ten of this digit group's unit in the result.
		e := 4*(weight-i) + int(scale)
		switch {
		case e >= 0:
			acc = acc.Mul(pow10[4]).Add(decimal128.FromI64(d))
			exp = e
		case e > -4:
			div := int64(math.Pow10(-e))
			if d%div != 0 {
				return decimal128.Num{}, fmt.Errorf("value has more than %d fractional digits", scale)
			}
			acc = acc.Mul(pow10[4+e]).Add(decimal128.FromI64(d / div))
			exp = 0
		default:
			if d != 0 {
				return decimal128.Num{}, fmt.Errorf("value has more than %d fractional digits", scale)
			}
		}
	}
	if ndigits > 0 && exp > 0 {
		acc = acc.Mul(pow10[exp])
	}
	if sign == numericNeg {
		acc = acc.Negate()
	}
	if !acc.FitsInPrecision(precision) {
		return decimal128.Num{}, fmt.Errorf("value does not fit decimal(%d, %d)", precision, scale)
	}
	return acc, nil
}

// decodeNumericBig is decodeNumeric for values that may exceed 38 digits
// (which then fail the precision check rather than wrap).
func decodeNumericBig(digits []byte, ndigits, weight int, sign uint16, precision, scale int32) (decimal128.Num, error) {
	acc := new(big.Int)
	ten4 := big.NewInt(10000)
	for i := range ndigits {
		d := int64(binary.BigEndian.Uint16(digits[2*i:]))
		if d > 9999 {
			return decimal128.Num{}, fmt.Errorf("numeric digit %d out of range", d)
		}
		acc.Mul(acc, ten4).Add(acc, big.NewInt(d))
	}
	// value = acc * 10^(4*(weight-ndigits+1)); unscaled = value * 10^scale.
	e := 4*(weight-ndigits+1) + int(scale)
	if e > 0 {
		acc.Mul(acc, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil))
	} else if e < 0 {
		q, r := new(big.Int).QuoRem(acc, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-e)), nil), new(big.Int))
		if r.Sign() != 0 {
			return decimal128.Num{}, fmt.Errorf("value has more than %d fractional digits", scale)
		}
		acc = q
	}
	if sign == numericNeg {
		acc.Neg(acc)
	}
	if acc.BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("value does not fit decimal(%d, %d)", precision, scale)
	}
	n := decimal128.FromBigInt(acc)
	if !n.FitsInPrecision(precision) {
		return decimal128.Num{}, fmt.Errorf("value does not fit decimal(%d, %d)", precision, scale)
	}
	return n, nil
}

// batcher accumulates rows into record batches.
type batcher struct {
	schema   *arrow.Schema
	decoders []*decoder
	rows     int
	// varBytes is the variable-width data appended to the current batch.
	varBytes int
}

func newBatcher(mem memory.Allocator, schema *arrow.Schema, oids []uint32, validateUTF8 bool) (*batcher, error) {
	bt := &batcher{schema: schema}
	for i, f := range schema.Fields() {
		d, err := newDecoder(mem, f, oids[i], validateUTF8)
		if err != nil {
			bt.release()
			return nil, err
		}
		bt.decoders = append(bt.decoders, d)
	}
	return bt, nil
}

// appendRow decodes one row of wire values (nil is NULL).
func (bt *batcher) appendRow(values [][]byte) error {
	if len(values) != len(bt.decoders) {
		return fmt.Errorf("%w: a row of %d values for %d columns", ErrBadValue, len(values), len(bt.decoders))
	}
	for i, v := range values {
		d := bt.decoders[i]
		if v == nil {
			if !d.nullable {
				return badValue(d.name, "NULL in a column declared NOT NULL")
			}
			d.b.AppendNull()
			continue
		}
		if err := d.put(v); err != nil {
			return err
		}
		bt.varBytes += len(v)
	}
	bt.rows++
	return nil
}

// flush builds the batch of the rows appended so far (nil when none). The
// caller releases it.
func (bt *batcher) flush() arrow.RecordBatch {
	if bt.rows == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(bt.decoders))
	for i, d := range bt.decoders {
		cols[i] = d.b.NewArray()
	}
	rec := array.NewRecordBatch(bt.schema, cols, int64(bt.rows))
	for _, c := range cols {
		c.Release()
	}
	bt.rows, bt.varBytes = 0, 0
	return rec
}

func (bt *batcher) release() {
	for _, d := range bt.decoders {
		d.b.Release()
	}
	bt.decoders = nil
}

// streamRows reads a result into batches of batchRows rows and gives each
// to emit. It checks the result's column types against oids first.
func streamRows(ctx context.Context, mem memory.Allocator, rr *pgconn.ResultReader, schema *arrow.Schema, oids []uint32,
	batchRows int, validateUTF8 bool, emit func(arrow.RecordBatch) error) error {
	fds := rr.FieldDescriptions()
	if len(fds) != len(oids) {
		// A statement that failed before its row description (a bad column
		// name, a permission error) has no fields; its error comes from
		// Close.
		if _, err := rr.Close(); err != nil {
			return err
		}
		return fmt.Errorf("the query returned %d columns, the scan expects %d: the table changed since planning", len(fds), len(oids))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != oids[i] || fd.Format != 1 {
			return fmt.Errorf("column %s came back as type oid %d (format %d), the scan expects %d: the table changed since planning",
				quoteIdent(schema.Field(i).Name), fd.DataTypeOID, fd.Format, oids[i])
		}
	}
	bt, err := newBatcher(mem, schema, oids, validateUTF8)
	if err != nil {
		return err
	}
	defer bt.release()
	send := func() error {
		rec := bt.flush()
		if rec == nil {
			return nil
		}
		defer rec.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
		return emit(rec)
	}
	for rr.NextRow() {
		if err := bt.appendRow(rr.Values()); err != nil {
			return err
		}
		if bt.rows >= batchRows || bt.varBytes >= maxBatchBytes {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if _, err := rr.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return send()
}
