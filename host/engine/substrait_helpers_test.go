package engine_test

import (
	"testing"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

// walkRels visits r and every relation below it.
func walkRels(r *pb.Rel, fn func(*pb.Rel)) {
	if r == nil {
		return
	}
	fn(r)
	for _, c := range []*pb.Rel{r.GetFilter().GetInput(), r.GetProject().GetInput(), r.GetAggregate().GetInput(), r.GetSort().GetInput(),
		r.GetFetch().GetInput(), r.GetJoin().GetLeft(), r.GetJoin().GetRight(), r.GetCross().GetLeft(), r.GetCross().GetRight(),
		r.GetHashJoin().GetLeft(), r.GetHashJoin().GetRight(), r.GetMergeJoin().GetLeft(), r.GetMergeJoin().GetRight(),
		r.GetNestedLoopJoin().GetLeft(), r.GetNestedLoopJoin().GetRight(), r.GetWindow().GetInput()} {
		walkRels(c, fn)
	}
	for _, c := range r.GetSet().GetInputs() {
		walkRels(c, fn)
	}
}

// rewriteJoins turns every JoinRel of p whose condition starts with
// equalities between a left and a right column into a hash or merge join
// on those keys (the rest of the condition becomes the post-join filter),
// or into a nested loop join with the same condition. It returns how many
// joins it rewrote.
func rewriteJoins(t *testing.T, p *pb.Plan, kind string) int {
	t.Helper()
	n := 0
	walkRels(p.GetRelations()[0].GetRoot().GetInput(), func(r *pb.Rel) {
		j := r.GetJoin()
		if j == nil {
			return
		}
		n++
		if kind == "nested_loop" {
			r.RelType = &pb.Rel_NestedLoopJoin{NestedLoopJoin: &pb.NestedLoopJoinRel{Common: j.GetCommon(), Left: j.GetLeft(), Right: j.GetRight(),
				Expression: j.GetExpression(), Type: pb.NestedLoopJoinRel_JoinType(pb.NestedLoopJoinRel_JoinType_value[j.GetType().String()]),
				AdvancedExtension: j.GetAdvancedExtension()}}
			return
		}
		var keys []*pb.ComparisonJoinKey
		var rest []*pb.Expression
		var split func(e *pb.Expression)
		split = func(e *pb.Expression) {
			f := e.GetScalarFunction()
			if f != nil && len(f.GetArguments()) == 2 {
				a, b := f.GetArguments()[0].GetValue().GetSelection(), f.GetArguments()[1].GetValue().GetSelection()
				switch {
				case a != nil && b != nil && isEqual(p, f.GetFunctionReference()):
					keys = append(keys, &pb.ComparisonJoinKey{Left: a, Right: b, Comparison: &pb.ComparisonJoinKey_ComparisonType{
						InnerType: &pb.ComparisonJoinKey_ComparisonType_Simple{Simple: pb.ComparisonJoinKey_SIMPLE_COMPARISON_TYPE_EQ}}})
					return
				case isAnd(p, f.GetFunctionReference()):
					split(f.GetArguments()[0].GetValue())
					split(f.GetArguments()[1].GetValue())
					return
				}
			}
			rest = append(rest, e)
		}
		split(j.GetExpression())
		if len(keys) == 0 {
			t.Fatalf("join without equality keys: %v", j.GetExpression())
		}
		nl := leftWidth(t, j.GetLeft())
		for _, k := range keys {
			sf := k.Right.GetDirectReference().GetStructField()
			sf.Field -= int32(nl)
			if sf.Field < 0 {
				k.Left, k.Right = k.Right, k.Left
				k.Right.GetDirectReference().GetStructField().Field -= int32(nl)
				k.Left.GetDirectReference().GetStructField().Field += int32(nl)
			}
		}
		var post *pb.Expression
		if len(rest) == 1 {
			post = rest[0]
		} else if len(rest) > 1 {
			t.Fatalf("test helper: more than one residual conjunct")
		}
		typ := j.GetType().String()
		if kind == "hash" {
			r.RelType = &pb.Rel_HashJoin{HashJoin: &pb.HashJoinRel{Common: j.GetCommon(), Left: j.GetLeft(), Right: j.GetRight(), Keys: keys,
				PostJoinFilter: post, Type: pb.HashJoinRel_JoinType(pb.HashJoinRel_JoinType_value[typ]), AdvancedExtension: j.GetAdvancedExtension()}}
		} else {
			r.RelType = &pb.Rel_MergeJoin{MergeJoin: &pb.MergeJoinRel{Common: j.GetCommon(), Left: j.GetLeft(), Right: j.GetRight(), Keys: keys,
				PostJoinFilter: post, Type: pb.MergeJoinRel_JoinType(pb.MergeJoinRel_JoinType_value[typ]), AdvancedExtension: j.GetAdvancedExtension()}}
		}
	})
	return n
}

func funcName(p *pb.Plan, ref uint32) string {
	for _, d := range p.GetExtensions() {
		if f := d.GetExtensionFunction(); f != nil && f.GetFunctionAnchor() == ref {
			return f.GetName()
		}
	}
	return ""
}

func isEqual(p *pb.Plan, ref uint32) bool {
	n := funcName(p, ref)
	return n == "equal" || len(n) > 6 && n[:6] == "equal:"
}

func isAnd(p *pb.Plan, ref uint32) bool {
	n := funcName(p, ref)
	return n == "and" || len(n) > 4 && n[:4] == "and:"
}

// leftWidth is the number of output columns of a relation, from the
// emit mapping or the names its read or projection declares.
func leftWidth(t *testing.T, r *pb.Rel) int {
	t.Helper()
	var common *pb.RelCommon
	switch {
	case r.GetRead() != nil:
		common = r.GetRead().GetCommon()
		if m := r.GetRead().GetProjection(); m != nil && common.GetEmit() == nil {
			return len(m.GetSelect().GetStructItems())
		}
		if common.GetEmit() == nil {
			return len(r.GetRead().GetBaseSchema().GetNames())
		}
	case r.GetProject() != nil:
		common = r.GetProject().GetCommon()
		if common.GetEmit() == nil {
			return leftWidth(t, r.GetProject().GetInput()) + len(r.GetProject().GetExpressions())
		}
	case r.GetFilter() != nil:
		common = r.GetFilter().GetCommon()
		if common.GetEmit() == nil {
			return leftWidth(t, r.GetFilter().GetInput())
		}
	default:
		t.Fatalf("test helper: width of %T", r.GetRelType())
	}
	return len(common.GetEmit().GetOutputMapping())
}
