// Package shuffleread is the physical plan leaf that reads an earlier
// stage's shuffle output. It lives apart from package shuffle because exec
// imports shuffle (for the partitioning hash), so shuffle cannot name
// exec's Node.
package shuffleread

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
)

// Node reads partitions of a stage's output from every map task: a leaf
// with one output partition whose stream yields the batches of every
// (map task, partition) file as they arrive (shuffle.Reader).
type Node struct {
	req shuffle.ReadRequest
	cfg shuffle.ReaderConfig
}

var _ exec.Node = (*Node)(nil)

// New returns the reader of partitions of stage's output in jobID, one
// location per map task; schema is the stage's output schema.
func New(schema *arrow.Schema, jobID string, stage int, partitions []int, locs []logical.ShuffleLocation, cfg shuffle.ReaderConfig) *Node {
	return &Node{
		req: shuffle.ReadRequest{
			Schema:     schema,
			JobID:      jobID,
			Stage:      stage,
			Partitions: slices.Clone(partitions),
			Locations:  slices.Clone(locs),
		},
		cfg: cfg,
	}
}

// Schema implements exec.Node.
func (n *Node) Schema() *arrow.Schema { return n.req.Schema }

// Children implements exec.Node.
func (n *Node) Children() []exec.Node { return nil }

// Partitions implements exec.Node.
func (n *Node) Partitions() int { return 1 }

// String implements exec.Node.
func (n *Node) String() string {
	parts := make([]string, len(n.req.Partitions))
	for i, p := range n.req.Partitions {
		parts[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("ShuffleRead: stage=%d partitions=[%s] maps=%d", n.req.Stage, strings.Join(parts, ","), len(n.req.Locations))
}

// Execute implements exec.Node: it starts fetching under ctx.
func (n *Node) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	if p != 0 {
		return nil, fmt.Errorf("%s: partition %d out of range [0, 1)", n, p)
	}
	var alloc memory.Allocator
	if tc != nil {
		alloc = tc.Alloc
	}
	r, err := shuffle.OpenReader(ctx, n.req, n.cfg, alloc)
	if err != nil {
		return nil, err
	}
	return r, nil
}
