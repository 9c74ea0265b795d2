package producer

import (
	"fmt"
	"runtime/debug"

	"github.com/arbalest/arbalest/substrait/logical"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

// ToExtendedExpression writes expressions over schema as a Substrait
// ExtendedExpression: base_schema is schema, and each expression is one
// referred expression named names[i] (or "expr_<i>" when names is short).
// Pushed-down scan filters travel to plugins this way.
func ToExtendedExpression(exprs []logical.Expr, schema *logical.Schema, names []string) (out *pb.ExtendedExpression, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("substrait producer: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	pr := &producer{urnAnchor: map[string]uint32{}, funcAnchor: map[funcKey]uint32{}}
	bs, err := pr.schemaStruct(schema)
	if err != nil {
		return nil, fmt.Errorf("substrait producer: base schema: %w", err)
	}
	out = &pb.ExtendedExpression{Version: &pb.Version{MinorNumber: 85, Producer: "arbalest"}, BaseSchema: bs}
	for i, e := range exprs {
		x, err := pr.expr(e, schema)
		if err != nil {
			return nil, fmt.Errorf("substrait producer: expression %d (%s): %w", i, e, err)
		}
		name := fmt.Sprintf("expr_%d", i)
		if i < len(names) {
			name = names[i]
		}
		out.ReferredExpr = append(out.ReferredExpr, &pb.ExpressionReference{
			ExprType:    &pb.ExpressionReference_Expression{Expression: x},
			OutputNames: []string{name},
		})
	}
	out.ExtensionUrns, out.Extensions = pr.urns, pr.decls
	return out, nil
}
