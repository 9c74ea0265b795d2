package consumer_test

import (
	"fmt"
	"testing"

	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/producer"
	sgplan "github.com/substrait-io/substrait-go/v8/plan"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

func substraitGoRead(p *pb.Plan) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("substrait-go panicked: %v", r)
		}
	}()
	_, err = sgplan.FromProto(p, extensions.Collection())
	return err
}

// Our plans must also be readable by substrait-go v8 (what other Go
// workers may use), except where substrait-go itself has no support:
// window relations, mark joins, joins without a condition, IfThen without
// else, and ReadRel projections (it checks the root names against the base
// schema).
func TestSubstraitGoReadsOurPlans(t *testing.T) {
	unsupported := map[string]bool{"window": true, "window_mixed": true, "join_Mark": true, "join_no_condition": true,
		"project": true, "scan": true}
	for name, p := range testPlans() {
		if unsupported[name] {
			continue
		}
		pp, err := producer.ToProto(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := substraitGoRead(pp); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
