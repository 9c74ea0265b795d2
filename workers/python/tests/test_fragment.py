"""Reading, checking, rewriting and running stage fragments."""

import datetime
import decimal
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from substrait import plan_pb2  # noqa: E402

from arbalest_worker._proto import plan_pb2 as apb  # noqa: E402
from arbalest_worker.engine import avg_merge_final  # noqa: E402
from arbalest_worker.fragment import Fragment, ScanLeaf, UdfSpec, missing  # noqa: E402
from arbalest_worker.hashing import partition_ids  # noqa: E402
from arbalest_worker.scan import ScanItem, file_split, list_files, parquet_split, read_split, DataFile  # noqa: E402
from arbalest_worker.shuffle import FlightClients, ShuffleWriter  # noqa: E402
from arbalest_worker.task import TaskEnv, TaskSpec, run_task  # noqa: E402
from arbalest_worker.ticket import task_dir  # noqa: E402
from arbalest_worker.contract import UnsupportedPlan  # noqa: E402

from plans import URN_AGG, URN_ARB, URN_CMP, URN_DEC, URN_DT, PlanBuilder, T, hash_write, single_write  # noqa: E402

D = decimal.Decimal
EPOCH = datetime.date(1970, 1, 1)


def days(y, m, d):
    return (datetime.date(y, m, d) - EPOCH).days


def read_all(paths):
    ts = []
    for p in paths:
        with pa.OSFile(p, "rb") as f:
            ts.append(pa.ipc.open_stream(f).read_all())
    return pa.concat_tables(ts)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.work = os.path.join(self.tmp.name, "work")
        self.clients = FlightClients()

    def tearDown(self):
        self.clients.close()
        self.tmp.cleanup()

    def run_fragment(self, data, partition=0, tasks=1, stage=1):
        frag = Fragment(data)
        self.assertIsNone(missing(frag.requirements()))
        frag.check()
        spec = TaskSpec("job-t", stage, partition, 1, tasks, frag)
        res = run_task(spec, TaskEnv("me", self.work, self.clients), threading.Event())
        return frag, res


class SalesTable(Base):
    """A Parquet table of sales with several row groups."""

    NAMES = ["id", "region", "day", "amount"]

    def setUp(self):
        super().setUp()
        n = 1000
        self.rows = [(i, f"r{i % 3}", days(2020 + i % 4, 1 + i % 12, 1 + i % 28), D(i * 7 % 1000) / 100 - D(3))
                     for i in range(n)]
        t = pa.table({
            "id": pa.array([r[0] for r in self.rows], pa.int64()),
            "region": pa.array([r[1] for r in self.rows]),
            "day": pa.array([r[2] for r in self.rows], pa.int32()).cast(pa.date32()),
            "amount": pa.array([r[3] for r in self.rows], pa.decimal128(15, 2)),
            "extra": pa.array([0.5] * n),
        })
        self.path = os.path.join(self.tmp.name, "sales.parquet")
        pq.write_table(t, self.path, row_group_size=150)
        self.types = [T.i64(), T.string(), T.date(), T.dec(15, 2)]

    def test_requirements_and_reasons(self):
        b = PlanBuilder()
        read = b.read_files(self.path, self.NAMES, self.types, projection=[0, 3])
        agg = b.aggregate(read, [], [("sum:dec", [b.col(1)], T.dec(38, 2, True), URN_DEC),
                                     ("stddev:dec", [b.col(1)], T.fp64(True), URN_AGG)])
        frag = Fragment(b.finish(agg, ["s", "sd"], single_write()))
        req = frag.requirements()
        self.assertEqual(req.relations, ["aggregate", "read_local_files", "write_shuffle"])
        self.assertEqual(req.functions, ["stddev", "sum"])
        self.assertEqual(req.formats, ["parquet"])
        self.assertEqual(missing(req), "cannot run functions stddev")
        self.assertIn("relations window", missing(type(req)(["window", "filter"], ["sum"], ["csv"])))
        self.assertIn("file formats csv", missing(type(req)(["filter"], ["sum"], ["csv"])))

    def test_bad_fragments_are_rejected_with_a_reason(self):
        with self.assertRaisesRegex(UnsupportedPlan, "not a Substrait plan"):
            Fragment(b"\xff\xff\xff")
        b = PlanBuilder()
        p = plan_pb2.Plan()
        p.relations.add().root.input.CopyFrom(b.read_files(self.path, self.NAMES, self.types))
        with self.assertRaisesRegex(UnsupportedPlan, "not an ExtensionSingleRel with a ShuffleWrite"):
            Fragment(p.SerializeToString())
        b = PlanBuilder()
        read = b.read_files(self.path, self.NAMES, self.types)
        with self.assertRaisesRegex(UnsupportedPlan, "key column 9 out of range"):
            Fragment(b.finish(read, self.NAMES, hash_write([9], 4)))
        b = PlanBuilder()
        read = b.read_files(self.path, self.NAMES, self.types)
        with self.assertRaisesRegex(UnsupportedPlan, "4 columns"):
            Fragment(b.finish(read, ["only", "three", "names"], single_write()))

    def test_filter_group_hash_partitioned(self):
        # SELECT region, year(day), sum(amount), count(*) WHERE id >= 100
        # GROUP BY 1, 2, written hash-partitioned on region.
        b = PlanBuilder()
        cond = b.call("gte:any_any", [b.col(0), b.lit_i64(100)], T.bool())
        read = b.read_files(self.path, self.NAMES, self.types, projection=[0, 1, 2, 3], best_effort=cond)
        filt = b.filter(read, cond)
        year = b.call("extract:req_date", [b.col(2)], T.i64(), urn=URN_DT, enum="YEAR")
        proj = b.project(filt, [year], emit=[1, 4, 3])
        agg = b.aggregate(proj, [b.col(0), b.col(1)], [("sum:dec", [b.col(2)], T.dec(38, 2, True), URN_DEC),
                                                       ("count:", [], T.i64(), URN_AGG)])
        data = b.finish(agg, ["region", "year", "total", "n"], hash_write([0], 3))
        out = []
        for p in range(4):  # four tasks, one Parquet file of 7 row groups
            frag, res = self.run_fragment(data, partition=p, tasks=4)
            self.assertEqual(len(res.outputs), 3)
            for o in res.outputs:
                t = read_all([o.path])
                self.assertEqual(t.schema.types, [pa.string(), pa.int64(), pa.decimal128(38, 2), pa.int64()])
                if t.num_rows:
                    self.assertTrue((partition_ids([t.column(0)], 3) == o.partition).all())
                out.append(t)
        got = {}
        for r in pa.concat_tables(out).to_pylist():
            k = (r["region"], r["year"])
            s, n = got.get(k, (D(0), 0))
            got[k] = (s + r["total"], n + r["n"])
        want = {}
        for i, region, day, amount in self.rows:
            if i >= 100:
                k = (region, (EPOCH + datetime.timedelta(days=day)).year)
                s, n = want.get(k, (D(0), 0))
                want[k] = (s + amount, n + 1)
        self.assertEqual(got, want)

    def test_scan_splits_cover_every_row_once(self):
        b = PlanBuilder()
        read = b.read_files(self.path, self.NAMES, self.types, projection=[0])
        data = b.finish(read, ["id"], single_write())
        for tasks in (1, 2, 3, 7, 10):
            ids = []
            for p in range(tasks):
                _, res = self.run_fragment(data, partition=p, tasks=tasks, stage=tasks)
                ids += read_all([res.outputs[0].path]).column(0).to_pylist()
            self.assertEqual(sorted(ids), list(range(1000)), f"{tasks} tasks")

    def test_scan_filter_outside_projection(self):
        # ReadRel.filter on a column the scan does not output.
        b = PlanBuilder()
        cond = b.call("equal:any_any", [b.col(1), b.lit_str("r1")], T.bool())
        read = b.read_files(self.path, self.NAMES, self.types, projection=[0], filter_=cond)
        data = b.finish(read, ["id"], single_write())
        _, res = self.run_fragment(data)
        got = sorted(read_all([res.outputs[0].path]).column(0).to_pylist())
        self.assertEqual(got, [r[0] for r in self.rows if r[1] == "r1"])

    def test_pruning_after_the_split(self):
        # ids are sorted: "id > 700" proves the row groups up to id 599
        # hold no match. The split deals all 7 row groups (it does not
        # depend on pruning); each task then skips its pruned ones.
        b = PlanBuilder()
        cond = b.call("gt:any_any", [b.col(0), b.lit_i64(700)], T.bool())
        read = b.read_files(self.path, self.NAMES, self.types, projection=[0], best_effort=cond)
        frag = Fragment(b.finish(read, ["id"], single_write()))
        leaf = [lf for lf in frag.leaves() if isinstance(lf, ScanLeaf)][0]
        item = leaf.items[0]
        self.assertTrue(item.prune)
        pf = pq.ParquetFile(self.path)
        from arbalest_worker import prune
        kept = [rg for rg in range(pf.metadata.num_row_groups)
                if prune.may_match(item.prune, pf, pf.metadata.row_group(rg), item.schema, ["id"])]
        self.assertEqual(kept, [4, 5, 6])  # row groups of 150 rows: 600-749, 750-899, 900-999
        # 3 tasks: row groups 0-1, 2-3, 4-6 (midpoint rule over 1000 rows).
        self.assertEqual(read_split(item, 3, 0).num_rows, 0)
        self.assertEqual(read_split(item, 3, 1).num_rows, 0)
        self.assertEqual(read_split(item, 3, 2).column(0).to_pylist(), list(range(600, 1000)))
        # 4 tasks: 0-1, 2, 3-4, 5-6.
        self.assertEqual(read_split(item, 4, 2).column(0).to_pylist(), list(range(600, 750)))
        self.assertEqual(read_split(item, 4, 3).column(0).to_pylist(), list(range(750, 1000)))
        # Literals of another scale or kind are not comparable: no pruning.
        b = PlanBuilder()
        cond = b.call("lt:any_any", [b.col(3), b.lit_dec(-29999, 15, 4)], T.bool())
        read = b.read_files(self.path, self.NAMES, self.types, best_effort=cond)
        item = Fragment(b.finish(read, self.NAMES, single_write())).leaves()[0].items[0]
        self.assertTrue(all(prune.may_match(item.prune, pf, pf.metadata.row_group(rg), item.schema, self.NAMES)
                            for rg in range(pf.metadata.num_row_groups)))
        # A NULL literal matches nothing.
        b = PlanBuilder()
        null = b.lit_i64(0)
        null.literal.null.i64.nullability = 1
        cond = b.call("equal:any_any", [b.col(0), null], T.bool(True))
        read = b.read_files(self.path, self.NAMES, self.types, best_effort=cond)
        item = Fragment(b.finish(read, self.NAMES, single_write())).leaves()[0].items[0]
        self.assertFalse(prune.may_match(item.prune, pf, pf.metadata.row_group(0), item.schema, self.NAMES))


class ArrowFilesTest(Base):
    def test_folder_of_ipc_files_and_streams(self):
        d = os.path.join(self.tmp.name, "arrows")
        os.makedirs(d)
        schema = pa.schema([("k", pa.int64()), ("name", pa.large_string()), ("dec", pa.decimal128(10, 2))])
        want = []
        for n in range(5):
            rows = [(n * 100 + i, f"n{i}", D(i) / 4) for i in range(n * 10)]
            want += rows
            t = pa.table([pa.array([r[0] for r in rows], pa.int64()), pa.array([r[1] for r in rows], pa.large_string()),
                          pa.array([r[2] for r in rows], pa.decimal128(10, 2))], schema=schema)
            path = os.path.join(d, f"part-{n}.arrow")
            if n % 2:
                with pa.ipc.new_file(path, schema) as w:
                    w.write_table(t)
            else:
                with pa.OSFile(path, "wb") as f, pa.ipc.new_stream(f, schema) as w:
                    w.write_table(t)
        b = PlanBuilder()
        read = b.read_files(d, ["k", "name", "dec"], [T.i64(), T.string(), T.dec(10, 2)], fmt="arrow")
        data = b.finish(read, ["k", "name", "dec"], single_write())
        got = []
        for p in range(3):
            _, res = self.run_fragment(data, partition=p, tasks=3)
            t = read_all([res.outputs[0].path])
            self.assertEqual(t.schema.types, [pa.int64(), pa.string(), pa.decimal64(10, 2)])
            got += [(r["k"], r["name"], r["dec"]) for r in t.to_pylist()]
        self.assertEqual(sorted(got), sorted(want))


class AvgMergeTest(Base):
    def test_final_division_rounds_half_away_from_zero(self):
        spec = UdfSpec("f", pa.decimal128(38, 2), pa.decimal128(19, 6), 4)
        sums = pa.array([D("1.00"), D("-1.00"), D("2.00"), None, D("5.00"), D("0.01")], pa.decimal128(38, 2))
        counts = pa.array([3, 3, 0, 4, 2, 8], pa.int64())
        got = avg_merge_final(sums, counts, spec).to_pylist()
        self.assertEqual(got, [D("0.333333"), D("-0.333333"), None, None, D("2.500000"), D("0.001250")])
        ties = avg_merge_final(pa.array([D("0.01"), D("-0.01")], pa.decimal128(38, 2)), pa.array([16, 16]),
                               UdfSpec("f", pa.decimal128(38, 2), pa.decimal128(19, 5), 3)).to_pylist()
        self.assertEqual(ties, [D("0.00063"), D("-0.00063")])  # 0.000625 rounds away from zero
        floats = avg_merge_final(pa.array([1.0, 2.0]), pa.array([4, 0]), UdfSpec("f", pa.float64(), pa.float64(), 0))
        self.assertEqual(floats.to_pylist(), [0.25, None])

    def test_in_a_fragment(self):
        # The final phase of SELECT g, avg(x): partial sums and counts come
        # from a shuffle of the first stage.
        part = pa.schema([pa.field("g", pa.string()), pa.field("s", pa.decimal128(38, 2)), pa.field("c", pa.int64())])
        rows = [("a", D("10.00"), 3), ("b", D("-1.00"), 2), ("a", D("0.01"), 1), ("c", None, 0)]
        for m in range(2):
            w = ShuffleWriter(part, single_write(), task_dir(self.work, "job-t", 0, m))
            mine = rows[m::2]
            w.add(pa.record_batch([pa.array([r[0] for r in mine]), pa.array([r[1] for r in mine], pa.decimal128(38, 2)),
                                   pa.array([r[2] for r in mine], pa.int64())], schema=part))
            w.finish()
        b = PlanBuilder()
        read = b.read_shuffle(apb.ShuffleRead(job_id="job-t", stage_id=0, partitions=[0], locations=[
            apb.ShuffleLocation(map_partition=m, executor_id="me") for m in range(2)]),
            ["g", "avg.sum", "avg.count"], [T.string(), T.dec(38, 2, True), T.i64()])
        agg = b.aggregate(read, [b.col(0)], [("avg_merge:dec_i64", [b.col(1), b.col(2)], T.dec(19, 6, True), URN_ARB)])
        srt = b.sort(agg, [0])
        _, res = self.run_fragment(b.finish(srt, ["g", "avg"], single_write()))
        t = read_all([res.outputs[0].path])
        self.assertEqual(t.schema.field(1).type, pa.decimal128(19, 6))
        self.assertEqual(t.to_pylist(), [{"g": "a", "avg": D("2.502500")}, {"g": "b", "avg": D("-0.500000")},
                                         {"g": "c", "avg": None}])


class ValuesTest(Base):
    def test_values_in_task_zero_only(self):
        b = PlanBuilder()
        vals = b.values(["x", "y"], [T.i64(), T.string()], [[b.lit_i64(1), b.lit_str("a")], [b.lit_i64(2), b.lit_str("b")]])
        data = b.finish(vals, ["x", "y"], single_write())
        _, res0 = self.run_fragment(data, partition=0, tasks=2)
        _, res1 = self.run_fragment(data, partition=1, tasks=2)
        self.assertEqual(read_all([res0.outputs[0].path]).to_pylist(), [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}])
        self.assertEqual(read_all([res1.outputs[0].path]).num_rows, 0)


class SplitTest(unittest.TestCase):
    def test_parquet_split_matches_the_go_rule(self):
        rg = lambda sizes: [(0, i, n) for i, n in enumerate(sizes)]  # noqa: E731
        self.assertEqual([parquet_split(rg([100] * 4), 2, p) for p in range(2)], [[(0, 0), (0, 1)], [(0, 2), (0, 3)]])
        self.assertEqual([parquet_split(rg([10, 1000, 10, 10]), 2, p) for p in range(2)],
                         [[(0, 0), (0, 1)], [(0, 2), (0, 3)]])
        self.assertEqual([parquet_split(rg([5, 5]), 4, p) for p in range(4)], [[(0, 0)], [(0, 1)], [], []])
        self.assertEqual(parquet_split([], 3, 0), [])
        # Every row group exactly once, in order, whatever the sizes.
        for sizes in ([1] * 17, [1000, 1, 1, 1, 1000], [3, 9, 27, 81, 243]):
            for n in range(1, 9):
                parts = [parquet_split(rg(sizes), n, p) for p in range(n)]
                self.assertEqual([x for part in parts for x in part], [(0, i) for i in range(len(sizes))])

    def test_file_split_balances_bytes(self):
        files = [DataFile(f"/d/{c}", s) for c, s in zip("abcde", [50, 10, 40, 30, 20])]
        parts = [file_split(files, 2, p) for p in range(2)]
        # Largest first to the lightest part (ties to the first): a | c, d | e | b.
        self.assertEqual(parts, [[0, 1, 4], [2, 3]])
        self.assertEqual(sorted(i for p in parts for i in p), list(range(5)))
        self.assertEqual(file_split(files, 9, 7), [])

    def test_list_files(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ("b.parquet", "a.parquet", "_meta.parquet", ".hidden.parquet", "c.csv", "sub/z.pq"):
                os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                open(os.path.join(d, name), "w").close()
            got = [os.path.relpath(f.path, d) for f in list_files("parquet", d)]
            self.assertEqual(got, ["a.parquet", "b.parquet", "sub/z.pq"])
            got = [os.path.relpath(f.path, d) for f in list_files("parquet", os.path.join(d, "*.parquet"))]
            # A glob takes hidden names too (as Go's filepath.Glob does).
            self.assertEqual(got, [".hidden.parquet", "_meta.parquet", "a.parquet", "b.parquet"])
            with self.assertRaises(Exception):
                list_files("json", d)


if __name__ == "__main__":
    unittest.main()
