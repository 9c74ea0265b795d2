// Package stages is the distributed stage planner: it cuts an optimized
// logical plan (host/optimizer.Optimize) at its exchanges into a DAG of
// stages, in the manner of Ballista's DistributedPlanner and Spark's
// EnsureRequirements, but over Arbalest's logical plan. Every stage's plan
// is an ordinary logical plan whose leaves that read earlier stages are
// *logical.ShuffleRead and whose root is a *logical.ShuffleWrite. The
// scheduler turns each stage plan into one Substrait fragment per task.
//
// # Execution contract
//
// The executors implement these semantics; the planner relies on them.
//
//   - Task i (0 <= i < T) of a stage with T tasks runs the stage plan once.
//   - A Scan leaf reads the i-th of T splits of its files (the splits of all
//     T tasks together read every row once). Scan.Limit stays a per-task
//     hint; the planner keeps an exact Limit above it.
//   - A Values leaf produces its rows only in task 0; in the other tasks it
//     is empty.
//   - A ShuffleRead of a stage written with ShuffleWrite hash reads output
//     partition i of every map task of that stage. All hash inputs of a
//     stage have Partitions == T.
//   - A ShuffleRead of a broadcast or single stage reads partition 0 of
//     every map task. A single input is only read by a stage with T == 1.
//   - ShuffleWrite hash sends each row to output partition
//     pmod(murmur3_x86_32(key columns, seed 42), Partitions) (Spark's
//     HashPartitioning encoding; Keys are column indexes of the stage's
//     output). Broadcast and single write one partition, 0.
//   - The last stage of a Job is the final stage: its root is a ShuffleWrite
//     single, and the client reads partition 0 of each of its tasks in task
//     order. When the query has an ORDER BY, the final stage has one task.
//   - Every ShuffleWrite carries Config.Compression ("lz4" or "zstd").
//   - Aggregates may be split into a partial and a final phase. The final
//     phase of avg(x) is the aggregate avg_merge(s, c): s is the partial
//     sum (sum(x) for float and decimal x, sum(CAST(x AS decimal(38,0)))
//     for integer x, matching avg's exact accumulator), c the partial
//     count(x), and its declared type is avg(x)'s.
//
// # Exchanges
//
// The planner tracks each subplan's output partitioning: hash partitioned
// on one or more equivalent key lists with N partitions, one task (which
// satisfies every requirement), or unknown over T tasks. It inserts an
// exchange only where an operator's requirement does not already hold:
//
//   - Scan, Values, Filter, Project: none. A Project keeps hash
//     partitioning when the key expressions survive its outputs.
//   - Aggregate with GROUP BY: in place when the input is hash partitioned
//     on a subset of the group keys. Otherwise, when every aggregate is
//     decomposable (count, sum, min, max, avg, bool_and, bool_or,
//     any_value; no DISTINCT except where it does not matter), a partial
//     Aggregate, a hash exchange on the group columns and a final Aggregate
//     followed by a Project restoring the original names, types and
//     nullability (count's final sum becomes coalesce(sum, 0)). Other
//     aggregates hash-exchange the raw input on the group keys.
//     An aggregate grouping another aggregate's output by some of its group
//     columns (the shape of rewritten DISTINCT aggregates) makes the inner
//     one partition on those columns only, so that the outer runs in place.
//   - Aggregate without GROUP BY: partial in place, single exchange, final
//     aggregate in a one-task stage; non-decomposable ones gather the raw
//     rows.
//   - Grouping sets: partial aggregate with the sets, hash exchange on the
//     group columns and "__grouping_id", final aggregate grouped by those;
//     with repeated sets or non-decomposable aggregates, the raw rows are
//     gathered into one task.
//   - Join with equality keys: co-partitioned inputs join in place; a right
//     side estimated at most Config.BroadcastRows rows is broadcast when the
//     join type keeps left rows only (inner, left, semi, anti, mark,
//     single); otherwise both sides are hash exchanged on their keys (a side
//     already partitioned on those keys stays), after casting key pairs of
//     different types to one type so that equal keys hash alike. Mark joins
//     and null-aware anti joins always broadcast their right side, since
//     their NULL semantics look at the whole right side. Joins without
//     equality keys broadcast the right side when the type allows and
//     otherwise gather both sides.
//   - Sort: a local top-k Sort when it has a fetch, a single exchange, and
//     the Sort in a one-task stage. Limit: a local Limit(offset+count), a
//     single exchange, and the Limit.
//   - Window: hash exchange on the PARTITION BY keys shared by all its
//     functions, single exchange when they share none.
//   - UNION ALL runs its inputs in one stage when their task counts agree
//     and exchanges the others; UNION, INTERSECT and EXCEPT [ALL] hash
//     exchange every input on all its columns.
//
// Hash exchanges write Config.Partitions partitions, except where an input
// already partitioned some other way is matched. Key expressions that are
// not plain columns are projected into extra
// columns below the ShuffleWrite (which hashes columns only) and dropped
// again above the ShuffleRead.
package stages
