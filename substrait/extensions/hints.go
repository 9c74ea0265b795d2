package extensions

import (
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Arbalest hints ride in AdvancedExtension.optimization as a
// google.protobuf.Struct {"arbalest_hint": <kind>, ...params}. They are
// optimizations in the Substrait sense: a consumer that ignores them still
// computes the same result, because every hinted relation is also written
// in standard, semantically complete form. Arbalest's consumer uses them to
// restore the exact logical plan. A well-known message type is used so any
// protobuf JSON printer can render the plan.
const hintKey = "arbalest_hint"

// Hint kinds.
const (
	// HintTopK marks a FetchRel written for Sort.Fetch (top-k), as opposed
	// to a Limit above a Sort.
	HintTopK = "topk"
	// HintNullAwareAnti marks a LEFT_ANTI JoinRel whose condition c was
	// written as is_not_false(c): NOT IN semantics (Join.NullAware).
	HintNullAwareAnti = "null_aware_anti"
	// HintGroupingID marks the ProjectRel that turns the grouping-set index
	// column of a multi-set AggregateRel into Arbalest's __grouping_id
	// bitmask.
	HintGroupingID = "grouping_id"
	// HintScanLimit carries Scan.Limit on a ReadRel (param "limit").
	HintScanLimit = "scan_limit"
)

// AddHint appends a hint to ext (allocating it when nil) and returns it.
func AddHint(ext *pbext.AdvancedExtension, kind string, params map[string]any) *pbext.AdvancedExtension {
	fields := map[string]any{hintKey: kind}
	for k, v := range params {
		fields[k] = v
	}
	s, err := structpb.NewStruct(fields)
	if err != nil {
		// Callers pass only strings and numbers.
		panic(err)
	}
	a, err := anypb.New(s)
	if err != nil {
		panic(err)
	}
	if ext == nil {
		ext = &pbext.AdvancedExtension{}
	}
	ext.Optimization = append(ext.Optimization, a)
	return ext
}

// FindHint returns the parameters of the hint of the given kind in ext.
func FindHint(ext *pbext.AdvancedExtension, kind string) (*structpb.Struct, bool) {
	for _, a := range ext.GetOptimization() {
		if a == nil || a.GetTypeUrl() != "type.googleapis.com/google.protobuf.Struct" {
			continue
		}
		var s structpb.Struct
		if err := a.UnmarshalTo(&s); err != nil {
			continue
		}
		if s.GetFields()[hintKey].GetStringValue() == kind {
			return &s, true
		}
	}
	return nil, false
}
