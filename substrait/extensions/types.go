package extensions

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

func nullability(nullable bool) pb.Type_Nullability {
	if nullable {
		return pb.Type_NULLABILITY_NULLABLE
	}
	return pb.Type_NULLABILITY_REQUIRED
}

func timePrecision(u arrow.TimeUnit) int32 {
	switch u {
	case arrow.Second:
		return 0
	case arrow.Millisecond:
		return 3
	case arrow.Microsecond:
		return 6
	default:
		return 9
	}
}

func unitForPrecision(p int32) (arrow.TimeUnit, error) {
	switch {
	case p == 0:
		return arrow.Second, nil
	case p >= 1 && p <= 3:
		return arrow.Millisecond, nil
	case p >= 4 && p <= 6:
		return arrow.Microsecond, nil
	case p >= 7 && p <= 9:
		return arrow.Nanosecond, nil
	}
	return 0, fmt.Errorf("invalid time precision %d (want 0..9)", p)
}

// ToProtoType converts an Arrow type to a Substrait type. Timestamps become
// precision_timestamp (precision from the unit; precision_timestamp_tz with
// a zone), month_day_nano intervals interval_compound<9>, every string
// type string and every decimal decimal<p,s>.
func ToProtoType(t arrow.DataType, nullable bool) (*pb.Type, error) {
	n := nullability(nullable)
	switch t.ID() {
	case arrow.BOOL:
		return &pb.Type{Kind: &pb.Type_Bool{Bool: &pb.Type_Boolean{Nullability: n}}}, nil
	case arrow.INT8:
		return &pb.Type{Kind: &pb.Type_I8_{I8: &pb.Type_I8{Nullability: n}}}, nil
	case arrow.INT16:
		return &pb.Type{Kind: &pb.Type_I16_{I16: &pb.Type_I16{Nullability: n}}}, nil
	case arrow.INT32:
		return &pb.Type{Kind: &pb.Type_I32_{I32: &pb.Type_I32{Nullability: n}}}, nil
	case arrow.INT64:
		return &pb.Type{Kind: &pb.Type_I64_{I64: &pb.Type_I64{Nullability: n}}}, nil
	case arrow.FLOAT32:
		return &pb.Type{Kind: &pb.Type_Fp32{Fp32: &pb.Type_FP32{Nullability: n}}}, nil
	case arrow.FLOAT64:
		return &pb.Type{Kind: &pb.Type_Fp64{Fp64: &pb.Type_FP64{Nullability: n}}}, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return &pb.Type{Kind: &pb.Type_String_{String_: &pb.Type_String{Nullability: n}}}, nil
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return &pb.Type{Kind: &pb.Type_Binary_{Binary: &pb.Type_Binary{Nullability: n}}}, nil
	case arrow.FIXED_SIZE_BINARY:
		w := t.(*arrow.FixedSizeBinaryType).ByteWidth
		return &pb.Type{Kind: &pb.Type_FixedBinary_{FixedBinary: &pb.Type_FixedBinary{Length: int32(w), Nullability: n}}}, nil
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		if d.GetPrecision() > logical.MaxDecimalPrecision {
			return nil, fmt.Errorf("unsupported type %s: precision above %d", t, logical.MaxDecimalPrecision)
		}
		return &pb.Type{Kind: &pb.Type_Decimal_{Decimal: &pb.Type_Decimal{Precision: d.GetPrecision(), Scale: d.GetScale(), Nullability: n}}}, nil
	case arrow.DATE32, arrow.DATE64:
		return &pb.Type{Kind: &pb.Type_Date_{Date: &pb.Type_Date{Nullability: n}}}, nil
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		p := timePrecision(ts.Unit)
		if ts.TimeZone != "" {
			return &pb.Type{Kind: &pb.Type_PrecisionTimestampTz{PrecisionTimestampTz: &pb.Type_PrecisionTimestampTZ{Precision: p, Nullability: n}}}, nil
		}
		return &pb.Type{Kind: &pb.Type_PrecisionTimestamp_{PrecisionTimestamp: &pb.Type_PrecisionTimestamp{Precision: p, Nullability: n}}}, nil
	case arrow.TIME32, arrow.TIME64:
		var u arrow.TimeUnit
		if tt, ok := t.(*arrow.Time32Type); ok {
			u = tt.Unit
		} else {
			u = t.(*arrow.Time64Type).Unit
		}
		return &pb.Type{Kind: &pb.Type_PrecisionTime_{PrecisionTime: &pb.Type_PrecisionTime{Precision: timePrecision(u), Nullability: n}}}, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return &pb.Type{Kind: &pb.Type_IntervalCompound_{IntervalCompound: &pb.Type_IntervalCompound{Precision: 9, Nullability: n}}}, nil
	case arrow.INTERVAL_MONTHS:
		return &pb.Type{Kind: &pb.Type_IntervalYear_{IntervalYear: &pb.Type_IntervalYear{Nullability: n}}}, nil
	case arrow.INTERVAL_DAY_TIME:
		p := int32(3)
		return &pb.Type{Kind: &pb.Type_IntervalDay_{IntervalDay: &pb.Type_IntervalDay{Precision: &p, Nullability: n}}}, nil
	case arrow.LIST, arrow.LARGE_LIST:
		elem := t.(arrow.ListLikeType).ElemField()
		et, err := ToProtoType(elem.Type, elem.Nullable)
		if err != nil {
			return nil, err
		}
		return &pb.Type{Kind: &pb.Type_List_{List: &pb.Type_List{Type: et, Nullability: n}}}, nil
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		types := make([]*pb.Type, st.NumFields())
		for i, f := range st.Fields() {
			ft, err := ToProtoType(f.Type, f.Nullable)
			if err != nil {
				return nil, err
			}
			types[i] = ft
		}
		return &pb.Type{Kind: &pb.Type_Struct_{Struct: &pb.Type_Struct{Types: types, Nullability: n}}}, nil
	}
	return nil, fmt.Errorf("unsupported type %s: no Substrait equivalent", t)
}

// FromProtoType converts a Substrait type to an Arrow type and its
// nullability. Every string type maps to utf8, every interval type to
// month_day_nano, decimals to Decimal64 or Decimal128 by precision.
func FromProtoType(t *pb.Type) (arrow.DataType, bool, error) {
	if t == nil || t.Kind == nil {
		return nil, false, fmt.Errorf("missing type")
	}
	nul := func(n pb.Type_Nullability) bool { return n != pb.Type_NULLABILITY_REQUIRED }
	switch k := t.Kind.(type) {
	case *pb.Type_Bool:
		return arrow.FixedWidthTypes.Boolean, nul(k.Bool.GetNullability()), nil
	case *pb.Type_I8_:
		return arrow.PrimitiveTypes.Int8, nul(k.I8.GetNullability()), nil
	case *pb.Type_I16_:
		return arrow.PrimitiveTypes.Int16, nul(k.I16.GetNullability()), nil
	case *pb.Type_I32_:
		return arrow.PrimitiveTypes.Int32, nul(k.I32.GetNullability()), nil
	case *pb.Type_I64_:
		return arrow.PrimitiveTypes.Int64, nul(k.I64.GetNullability()), nil
	case *pb.Type_Fp32:
		return arrow.PrimitiveTypes.Float32, nul(k.Fp32.GetNullability()), nil
	case *pb.Type_Fp64:
		return arrow.PrimitiveTypes.Float64, nul(k.Fp64.GetNullability()), nil
	case *pb.Type_String_:
		return arrow.BinaryTypes.String, nul(k.String_.GetNullability()), nil
	case *pb.Type_Varchar:
		return arrow.BinaryTypes.String, nul(k.Varchar.GetNullability()), nil
	case *pb.Type_FixedChar_:
		return arrow.BinaryTypes.String, nul(k.FixedChar.GetNullability()), nil
	case *pb.Type_Binary_:
		return arrow.BinaryTypes.Binary, nul(k.Binary.GetNullability()), nil
	case *pb.Type_FixedBinary_:
		l := k.FixedBinary.GetLength()
		if l <= 0 {
			return nil, false, fmt.Errorf("invalid fixed_binary length %d", l)
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: int(l)}, nul(k.FixedBinary.GetNullability()), nil
	case *pb.Type_Decimal_:
		p, s := k.Decimal.GetPrecision(), k.Decimal.GetScale()
		if p < 1 || p > logical.MaxDecimalPrecision || s < 0 || s > p {
			return nil, false, fmt.Errorf("invalid decimal<%d,%d>", p, s)
		}
		return logical.DecimalType(p, s), nul(k.Decimal.GetNullability()), nil
	case *pb.Type_Date_:
		return arrow.FixedWidthTypes.Date32, nul(k.Date.GetNullability()), nil
	case *pb.Type_Timestamp_: //nolint:staticcheck // deprecated type still sent by older producers
		return logical.TimestampUs, nul(k.Timestamp.GetNullability()), nil
	case *pb.Type_TimestampTz: //nolint:staticcheck
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nul(k.TimestampTz.GetNullability()), nil
	case *pb.Type_PrecisionTimestamp_:
		u, err := unitForPrecision(k.PrecisionTimestamp.GetPrecision())
		if err != nil {
			return nil, false, err
		}
		return &arrow.TimestampType{Unit: u}, nul(k.PrecisionTimestamp.GetNullability()), nil
	case *pb.Type_PrecisionTimestampTz:
		u, err := unitForPrecision(k.PrecisionTimestampTz.GetPrecision())
		if err != nil {
			return nil, false, err
		}
		return &arrow.TimestampType{Unit: u, TimeZone: "UTC"}, nul(k.PrecisionTimestampTz.GetNullability()), nil
	case *pb.Type_Time_: //nolint:staticcheck
		return arrow.FixedWidthTypes.Time64us, nul(k.Time.GetNullability()), nil
	case *pb.Type_PrecisionTime_:
		u, err := unitForPrecision(k.PrecisionTime.GetPrecision())
		if err != nil {
			return nil, false, err
		}
		if u == arrow.Nanosecond {
			return arrow.FixedWidthTypes.Time64ns, nul(k.PrecisionTime.GetNullability()), nil
		}
		return arrow.FixedWidthTypes.Time64us, nul(k.PrecisionTime.GetNullability()), nil
	case *pb.Type_IntervalYear_:
		return logical.Interval, nul(k.IntervalYear.GetNullability()), nil
	case *pb.Type_IntervalDay_:
		return logical.Interval, nul(k.IntervalDay.GetNullability()), nil
	case *pb.Type_IntervalCompound_:
		return logical.Interval, nul(k.IntervalCompound.GetNullability()), nil
	case *pb.Type_List_:
		et, en, err := FromProtoType(k.List.GetType())
		if err != nil {
			return nil, false, fmt.Errorf("list element: %w", err)
		}
		return arrow.ListOfField(arrow.Field{Name: "item", Type: et, Nullable: en}), nul(k.List.GetNullability()), nil
	case *pb.Type_Struct_:
		fs := make([]arrow.Field, len(k.Struct.GetTypes()))
		for i, ft := range k.Struct.GetTypes() {
			at, an, err := FromProtoType(ft)
			if err != nil {
				return nil, false, fmt.Errorf("struct field %d: %w", i, err)
			}
			fs[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: at, Nullable: an}
		}
		return arrow.StructOf(fs...), nul(k.Struct.GetNullability()), nil
	}
	return nil, false, fmt.Errorf("unsupported type %s", TypeShortName(t))
}

// TypeShortName is the short type name used in compound function names
// (i64, dec, str, pts, ...).
func TypeShortName(t *pb.Type) string {
	if t == nil {
		return "any"
	}
	switch t.Kind.(type) {
	case *pb.Type_Bool:
		return "bool"
	case *pb.Type_I8_:
		return "i8"
	case *pb.Type_I16_:
		return "i16"
	case *pb.Type_I32_:
		return "i32"
	case *pb.Type_I64_:
		return "i64"
	case *pb.Type_Fp32:
		return "fp32"
	case *pb.Type_Fp64:
		return "fp64"
	case *pb.Type_String_:
		return "str"
	case *pb.Type_Varchar:
		return "vchar"
	case *pb.Type_FixedChar_:
		return "fchar"
	case *pb.Type_Binary_:
		return "vbin"
	case *pb.Type_FixedBinary_:
		return "fbin"
	case *pb.Type_Decimal_:
		return "dec"
	case *pb.Type_Date_:
		return "date"
	case *pb.Type_Time_:
		return "time"
	case *pb.Type_Timestamp_:
		return "ts"
	case *pb.Type_TimestampTz:
		return "tstz"
	case *pb.Type_PrecisionTime_:
		return "pt"
	case *pb.Type_PrecisionTimestamp_:
		return "pts"
	case *pb.Type_PrecisionTimestampTz:
		return "ptstz"
	case *pb.Type_IntervalYear_:
		return "iyear"
	case *pb.Type_IntervalDay_:
		return "iday"
	case *pb.Type_IntervalCompound_:
		return "icompound"
	case *pb.Type_Uuid:
		return "uuid"
	case *pb.Type_Struct_:
		return "struct"
	case *pb.Type_List_:
		return "list"
	case *pb.Type_Map_:
		return "map"
	case *pb.Type_UserDefined_:
		return "u!"
	}
	return "unknown"
}
