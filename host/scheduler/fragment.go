package scheduler

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// fragment is the Substrait plan of one task: the stage's plan with every
// ShuffleRead filled in with the partitions this task reads and where
// each map task of the input stage wrote them.
func (s *Scheduler) fragment(t *task) ([]byte, error) {
	st := t.stage
	plan, err := logical.Transform(st.def.Plan, func(n logical.Plan) (logical.Plan, error) {
		r, ok := n.(*logical.ShuffleRead)
		if !ok {
			return n, nil
		}
		src, ok := st.job.byID[r.Stage]
		if !ok {
			return nil, fmt.Errorf("stage %d reads unknown stage %d", st.def.ID, r.Stage)
		}
		c := logical.NewShuffleRead(r.Stage, r.Schema())
		c.JobID = st.job.id
		if src.kind == logical.ShuffleHash {
			c.Partitions = []int{t.partition}
		} else {
			c.Partitions = []int{0}
		}
		for _, m := range src.tasks {
			if m.phase != taskDone {
				return nil, fmt.Errorf("internal: stage %d task %d is not done", src.def.ID, m.partition)
			}
			ex := s.executors[m.executor]
			addr := ""
			if ex != nil {
				addr = ex.meta.GetFlightAddress()
			}
			c.Locations = append(c.Locations, logical.ShuffleLocation{MapPartition: m.partition, ExecutorID: m.executor, FlightAddress: addr, Path: m.outputDir})
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	p, err := producer.ToProtoWith(plan, producer.Options{InlineTables: true})
	if err != nil {
		return nil, fmt.Errorf("stage %d fragment: %w", st.def.ID, err)
	}
	return proto.Marshal(p)
}
