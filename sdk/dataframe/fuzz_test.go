package dataframe_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/sdk/dataframe"
	"github.com/arbalest/arbalest/substrait/consumer"
)

// program reads fuzz input as a sequence of choices.
type program struct{ b []byte }

func (p *program) next(n int) int {
	if len(p.b) == 0 || n <= 0 {
		return 0
	}
	v := int(p.b[0]) % n
	p.b = p.b[1:]
	return v
}

var fuzzColumns = []string{"a", "b", "d", "f", "s", "dt", "t.a", "l_quantity", "l_shipdate", "l_returnflag", "nope", "x.a", "A"}

var fuzzTypes = []arrow.DataType{i32, i64, f64, str, date, dataframe.DecimalType(12, 2), dataframe.DecimalType(30, 5), arrow.FixedWidthTypes.Boolean}

func (p *program) literal() any {
	switch p.next(10) {
	case 0:
		return nil
	case 1:
		return p.next(200) - 100
	case 2:
		return "x"
	case 3:
		return 1.5
	case 4:
		return dataframe.Date("1995-06-17")
	case 5:
		return dataframe.Decimal("12.345")
	case 6:
		return dataframe.Interval("3 days")
	case 7:
		return true
	case 8:
		return int64(1) << 40
	}
	return dataframe.Null(fuzzTypes[p.next(len(fuzzTypes))])
}

func (p *program) expr(depth int) dataframe.Expr {
	if depth > 4 {
		return dataframe.Col(fuzzColumns[p.next(len(fuzzColumns))])
	}
	e := func() dataframe.Expr { return p.expr(depth + 1) }
	switch p.next(24) {
	case 0, 1, 2:
		return dataframe.Col(fuzzColumns[p.next(len(fuzzColumns))])
	case 3:
		return dataframe.Lit(p.literal())
	case 4:
		return e().Add(e())
	case 5:
		return e().Sub(p.literal())
	case 6:
		return e().Mul(e())
	case 7:
		return e().Div(e())
	case 8:
		return e().Eq(e())
	case 9:
		return e().Lt(p.literal())
	case 10:
		return e().And(e())
	case 11:
		return e().Or(e()).Not()
	case 12:
		return e().IsNull()
	case 13:
		return e().Like(p.literal())
	case 14:
		return e().In(p.literal(), p.literal())
	case 15:
		return e().Cast(fuzzTypes[p.next(len(fuzzTypes))])
	case 16:
		return dataframe.When(e(), e()).Otherwise(e())
	case 17:
		return e().Between(p.literal(), e())
	case 18:
		return dataframe.Fn([]string{"upper", "round", "coalesce", "abs", "substring", "nosuch"}[p.next(6)], e(), p.literal())
	case 19:
		return dataframe.Sum(e())
	case 20:
		return dataframe.Count()
	case 21:
		return dataframe.CountDistinct(e())
	case 22:
		return dataframe.Avg(e()).Add(dataframe.Max(e()))
	}
	return e().Neg().As("n")
}

func (p *program) frame(dfc *dataframe.Context, t *testing.T, depth int) *dataframe.DataFrame {
	df := table(t, dfc, []string{"t", "lineitem", "orders"}[p.next(3)])
	for steps := 0; steps < 6 && len(p.b) > 0; steps++ {
		switch p.next(14) {
		case 0:
			df = df.Filter(p.expr(0))
		case 1:
			df = df.Select(p.expr(0), p.expr(0).As("c2"))
		case 2:
			df = df.WithColumn(fuzzColumns[p.next(len(fuzzColumns))], p.expr(0))
		case 3:
			df = df.GroupBy(fuzzColumns[p.next(len(fuzzColumns))]).Agg(p.expr(0), p.expr(0))
		case 4:
			df = df.Agg(p.expr(0))
		case 5:
			if depth < 2 {
				df = df.Join(p.frame(dfc, t, depth+1).Alias("r"), dataframe.JoinType(p.next(7)), p.expr(0))
			}
		case 6:
			if depth < 2 {
				df = df.JoinOn(p.frame(dfc, t, depth+1), dataframe.JoinType(p.next(6)),
					[]string{fuzzColumns[p.next(len(fuzzColumns))]}, []string{fuzzColumns[p.next(len(fuzzColumns))]})
			}
		case 7:
			k := p.expr(0).Asc()
			if p.next(2) == 1 {
				k = p.expr(0).Desc().NullsLast()
			}
			df = df.Sort(k)
		case 8:
			df = df.Limit(int64(p.next(20) - 2))
		case 9:
			df = df.Offset(int64(p.next(5)))
		case 10:
			df = df.Distinct()
		case 11:
			if depth < 2 {
				df = df.Union(p.frame(dfc, t, depth+1))
			}
		case 12:
			df = df.Drop(fuzzColumns[p.next(len(fuzzColumns))])
		case 13:
			df = df.Alias([]string{"x", "", "a.b"}[p.next(3)])
		}
	}
	return df
}

// FuzzDataFrame builds DataFrames from random operations and expressions:
// building never panics, and every DataFrame without an error has a
// Substrait plan that the consumer reads back with the same schema.
func FuzzDataFrame(f *testing.F) {
	f.Add([]byte{0, 0, 8, 3, 1})
	f.Add([]byte{1, 3, 19, 6, 0, 1, 2, 3, 20})
	f.Add([]byte{0, 5, 8, 0, 0, 1, 1, 6, 2})
	f.Add([]byte{2, 11, 1, 1, 0, 0, 1, 4, 3, 9, 0, 10})
	f.Add([]byte{0, 6, 1, 0, 0, 0, 3, 0, 21, 2, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &program{b: b}
		df := p.frame(newContext(), t, 0)
		if df.Err() != nil {
			return
		}
		s, err := df.Schema()
		if err != nil {
			t.Fatalf("Schema: %v", err)
		}
		plan, err := df.Substrait()
		if err != nil {
			ex, _ := df.Explain()
			t.Fatalf("Substrait: %v\n%s", err, ex)
		}
		raw, err := proto.Marshal(plan)
		if err != nil {
			t.Fatal(err)
		}
		back, err := consumer.FromBytes(raw, catalog{})
		if err != nil {
			ex, _ := df.Explain()
			t.Fatalf("consumer: %v\n%s", err, ex)
		}
		if got, want := schemaText(back.Schema().Arrow()), schemaText(s); got != want {
			t.Fatalf("consumed schema %s, want %s", got, want)
		}
	})
}
