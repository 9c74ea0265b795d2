package aggregate

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// avgMergeTypes checks the argument types of avg_merge(s, c) against its
// declared result type declared (nil: deduce it) and returns the result type
// and the type of an argument x of the avg(x) it completes: one whose
// sum(x), or avg's own partial sum of x (decimal(38,0) for integers), has
// s's type and whose avg(x) has the result type. Every such x gives the
// same accumulator and partial state, so any one serves. The result must
// be declared when s is a decimal: it depends on x's precision, which s
// does not carry.
func avgMergeTypes(sum, count, declared arrow.DataType) (result, arg arrow.DataType, err error) {
	if count.ID() != arrow.INT64 {
		return nil, nil, fmt.Errorf("avg_merge: the count argument is %s, want int64", count)
	}
	var candidates []arrow.DataType
	switch {
	case logical.IsFloat(sum):
		candidates = []arrow.DataType{logical.Float64}
	case logical.IsInteger(sum):
		candidates = []arrow.DataType{logical.Int64}
	case logical.IsDecimal(sum):
		_, s, _ := logical.DecimalParams(sum)
		candidates = []arrow.DataType{logical.Int64} // decimal(38,0): avg's partial sum of an integer
		for p := max(s, 1); p <= logical.MaxDecimalPrecision; p++ {
			candidates = append(candidates, logical.DecimalType(p, s))
		}
	}
	// The candidates whose sum has s's type, and their avg types.
	var args, results []arrow.DataType
	for _, x := range candidates {
		sumT, err := logical.AggregateResultType("sum", x)
		if err != nil {
			return nil, nil, err
		}
		if !arrow.TypeEqual(sumT, sum) && !arrow.TypeEqual(avgSumType(x), sum) {
			continue
		}
		avgT, err := logical.AggregateResultType("avg", x)
		if err != nil {
			return nil, nil, err
		}
		args, results = append(args, x), append(results, avgT)
	}
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("avg_merge: the sum argument is %s, want the type of a sum: int64, float64 or decimal(38,s)", sum)
	}
	if declared == nil {
		for _, r := range results[1:] {
			if !arrow.TypeEqual(r, results[0]) {
				return nil, nil, fmt.Errorf("avg_merge over %s needs a declared result type (%s, %s, ...)", sum, results[0], r)
			}
		}
		return results[0], args[0], nil
	}
	for i, r := range results {
		if arrow.TypeEqual(r, declared) {
			return r, args[i], nil
		}
	}
	return nil, nil, fmt.Errorf("avg_merge: declared type %s is not the result of an avg whose sum is %s", declared, sum)
}
