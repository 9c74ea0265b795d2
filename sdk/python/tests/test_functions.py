import math
import random
import unittest

import helpers  # noqa: F401
import pyarrow as pa
import pyarrow.compute as pc

import arbalest
from arbalest import functions as F


@arbalest.udf(args=[pa.int64(), pa.float64()], returns=pa.float64())
def scaled(n, x):
    """Multiplies.

    More text that is not the description."""
    return pc.multiply(pc.cast(n, pa.float64()), x)


@arbalest.udaf(args=[pa.float64()], returns=pa.float64(),
               state=[pa.field("sum", pa.float64()), pa.field("n", pa.int64())])
class MeanOf:
    """Mean of the non-null values."""

    def __init__(self):
        self.sum, self.n = 0.0, 0

    def update(self, xs):
        self.sum += pc.sum(xs).as_py() or 0.0
        self.n += len(xs) - xs.null_count

    def merge(self, sums, ns):
        self.sum += pc.sum(sums).as_py() or 0.0
        self.n += pc.sum(ns).as_py() or 0

    def state(self):
        return [self.sum, self.n]

    def evaluate(self):
        return self.sum / self.n if self.n else None


class Declarations(unittest.TestCase):
    def test_udf(self):
        self.assertIsInstance(scaled, F.ScalarFunction)
        self.assertEqual(scaled.name, "scaled")
        self.assertEqual([f.name for f in scaled.arg_fields], ["n", "x"])
        self.assertEqual(scaled.arg_types, [pa.int64(), pa.float64()])
        self.assertEqual(scaled.result_type, pa.float64())
        self.assertEqual(scaled.volatility, "immutable")
        self.assertEqual(scaled.description, "Multiplies.")
        # Still callable as the Python function.
        self.assertEqual(scaled(pa.array([2]), pa.array([1.5])).to_pylist(), [3.0])
        self.assertIn(scaled, F.registered_functions(__name__))

    def test_udaf(self):
        self.assertIsInstance(MeanOf, F.AggregateFunction)
        self.assertEqual(MeanOf.name, "mean_of")
        self.assertEqual([f.name for f in MeanOf.state_fields], ["sum", "n"])
        self.assertIsInstance(MeanOf(), MeanOf.cls)

    def test_errors(self):
        cases = [
            (lambda: arbalest.udf(args=[pa.int64()], returns=pa.int64(), name="bad name")(lambda x: x),
             "function name 'bad name' is not an identifier"),
            (lambda: arbalest.udf(args=[pa.uint32()], returns=pa.int64(), name="u")(lambda x: x),
             "function u: argument 1: uint32 has no Substrait equivalent"),
            (lambda: arbalest.udf(args=[pa.int64()], name="r")(lambda x: x),
             r"function r: returns= \(the result type\) is required"),
            (lambda: arbalest.udf(args=pa.int64(), returns=pa.int64(), name="s")(lambda x: x),
             "args must be a list of types"),
            (lambda: arbalest.udf(args=["int99"], returns=pa.int64(), name="t")(lambda x: x),
             "function t: argument 1: unknown Arrow type name 'int99'"),
            (lambda: arbalest.udf(args=[], returns=pa.int64(), volatility="sometimes", name="v")(lambda: 1),
             "function v: volatility 'sometimes' is not one of immutable, stable, volatile"),
            (lambda: arbalest.udf(lambda x: x),
             r"@udf needs arguments"),
            (lambda: arbalest.udaf(args=[pa.int64()], returns=pa.int64(), state=[pa.field("s", pa.int64())])(
                type("NoMerge", (), {"update": lambda s: 0, "state": lambda s: 0, "evaluate": lambda s: 0})),
             "aggregate no_merge: class NoMerge has no merge"),
            (lambda: arbalest.udaf(args=[pa.int64()], returns=pa.int64(), state=[])(MeanOf.cls),
             "state= must list the state columns"),
            (lambda: arbalest.udaf(args=[pa.int64()], returns=pa.int64(),
                                   state=[pa.field("group", pa.int64())], name="g")(MeanOf.cls),
             "state column names must be distinct and not 'group'"),
        ]
        for make, msg in cases:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(F.FunctionError, msg):
                    make()


class ScalarEvaluation(unittest.TestCase):
    def make(self, func, returns=pa.int64(), args=(pa.int64(),)):
        return F.ScalarFunction(func, list(args), returns, name="f")

    def test_ok_and_conversions(self):
        a = pa.array([1, 2, None])
        self.assertEqual(self.make(lambda x: pc.add(x, 1)).evaluate([a], 3).to_pylist(), [2, 3, None])
        # Lists and chunked arrays are accepted.
        self.assertEqual(self.make(lambda x: [5, 6, 7]).evaluate([a], 3).to_pylist(), [5, 6, 7])
        self.assertEqual(self.make(lambda x: pa.chunked_array([[1], [2, 3]])).evaluate([a], 3).to_pylist(), [1, 2, 3])
        # A safe cast within a family: int32 to the declared int64.
        out = self.make(lambda x: pc.cast(x, pa.int32())).evaluate([a], 3)
        self.assertEqual(out.type, pa.int64())
        # Dictionary results are decoded.
        f = self.make(lambda x: pa.array(["a", "b", "a"]).dictionary_encode(), returns=pa.string())
        self.assertEqual(f.evaluate([a], 3).type, pa.string())

    def test_zero_arguments_broadcast(self):
        f = F.ScalarFunction(lambda: 42, [], pa.int64(), name="answer")
        self.assertEqual(f.evaluate([], 3).to_pylist(), [42, 42, 42])
        f = F.ScalarFunction(lambda: pa.scalar("x"), [], pa.string(), name="x")
        self.assertEqual(f.evaluate([], 2).to_pylist(), ["x", "x"])

    def test_errors_name_the_function(self):
        a = pa.array([1, 2, 3])
        cases = [
            (lambda x: pa.array([1, 2]), "function f returned 2 rows for a batch of 3 rows"),
            (lambda x: pa.array(["a", "b", "c"]), "function f returned string, declared int64"),
            (lambda x: pa.array([1.5, 2.0, 3.0]), "function f returned double, declared int64, and the values do not fit"),
            (lambda x: 7, "function f returned int 7; it must return an array of 3 rows"),
            (lambda x: None, "function f returned NoneType None"),
            (lambda x: pa.scalar(1), "function f returned a single Int64Scalar"),
            (lambda x: ["a", "b", "c"], "function f returned a list that is not an array of int64"),
            (lambda x: 1 / 0, "function f raised ZeroDivisionError: division by zero"),
        ]
        for func, msg in cases:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(F.FunctionError, msg):
                    self.make(func).evaluate([a], 3)


def naive_groups(groups):
    out = {}
    for i, g in enumerate(groups):
        out.setdefault(g, []).append(i)
    return out


class GroupSplitting(unittest.TestCase):
    def test_matches_naive(self):
        rnd = random.Random(7)
        for n, k in [(1, 1), (10, 1), (100, 5), (1000, 37), (5000, 1000)]:
            groups = [rnd.randrange(k) for _ in range(n)]
            values = pa.array(range(n))
            got = {}
            for g, order, start, length in F.split_groups(pa.array(groups, pa.uint32())):
                rows = values if order is None else values.take(order)
                got[g] = rows.slice(start, length).to_pylist()
            want = naive_groups(groups)
            self.assertEqual(sorted(got), sorted(want))
            for g in want:
                # Stable within a group: rows keep their order.
                self.assertEqual(got[g], want[g])

    def test_single_group_is_not_sorted(self):
        (g, order, start, length), = F.split_groups(pa.array([4, 4, 4], pa.uint32()))
        self.assertEqual((g, order, start, length), (4, None, 0, 3))

    def test_empty_and_nulls(self):
        self.assertEqual(list(F.split_groups(pa.array([], pa.uint32()))), [])
        with self.assertRaisesRegex(F.FunctionError, "'group' column has 1 NULLs"):
            list(F.split_groups(pa.array([1, None], pa.uint32())))


def batch(groups, values, names=("group", "x")):
    return pa.record_batch([pa.array(groups, pa.uint32()), pa.array(values, pa.float64())], names=list(names))


def collect(run):
    out = {}
    for b in run.finish():
        for row in b.to_pylist():
            g = row.pop("group")
            out[g] = row
    return out


class AggregatePhases(unittest.TestCase):
    def test_complete(self):
        run = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        run.add(batch([0, 2, 0, 2], [1, 10, 3, None]))
        run.add(batch([2], [20]))
        self.assertEqual(collect(run), {0: {"result": 2.0}, 1: {"result": None}, 2: {"result": 15.0}})

    def test_partial_then_final_equals_complete(self):
        rnd = random.Random(1)
        rows = [(rnd.randrange(50), rnd.random() * 100) for _ in range(3000)]
        complete = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        partials = [F.AggregateRun(MeanOf, F.PHASE_PARTIAL) for _ in range(3)]
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            b = batch([g for g, _ in chunk], [v for _, v in chunk])
            complete.add(b)
            partials[(i // 500) % 3].add(b)
        final = F.AggregateRun(MeanOf, F.PHASE_FINAL)
        for p in partials:
            self.assertEqual(p.output_schema().names, ["group", "sum", "n"])
            for st in p.finish():
                self.assertIsNone(final.input_schema_error(st.schema))
                final.add(st)
        want, got = collect(complete), collect(final)
        self.assertEqual(sorted(want), sorted(got))
        for g in want:
            self.assertTrue(math.isclose(want[g]["result"], got[g]["result"]), g)

    def test_no_rows_no_output(self):
        run = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        run.add(batch([], []))
        self.assertEqual(list(run.finish()), [])

    def test_output_is_batched(self):
        run = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        n = F.OUTPUT_BATCH_ROWS + 10
        run.add(batch([n - 1], [1.0]))
        sizes = [b.num_rows for b in run.finish()]
        self.assertEqual(sizes, [F.OUTPUT_BATCH_ROWS, 10])

    def test_input_schema_errors(self):
        run = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        self.assertIn("want uint32 groups",
                      run.input_schema_error(pa.schema([("group", pa.int64()), ("x", pa.float64())])))
        self.assertIn("input column 1 (x) is int64, declared double",
                      run.input_schema_error(pa.schema([("group", pa.uint32()), ("x", pa.int64())])))
        self.assertIn("input has 1 columns",
                      run.input_schema_error(pa.schema([("group", pa.uint32())])))
        final = F.AggregateRun(MeanOf, F.PHASE_FINAL)
        self.assertIn("state columns", final.input_schema_error(pa.schema([("group", pa.uint32())])))

    def test_user_errors(self):
        def agg(**methods):
            base = dict(__init__=lambda s: None, update=lambda s, x: None, merge=lambda s, *a: None,
                        state=lambda s: [1.0], evaluate=lambda s: 1.0)
            base.update(methods)
            return F.AggregateFunction(type("A", (), base), [pa.float64()], pa.float64(),
                                       [pa.field("s", pa.float64())], name="agg")

        cases = [
            (agg(update=lambda s, x: 1 / 0), F.PHASE_COMPLETE, "aggregate agg: update\\(\\) raised ZeroDivisionError"),
            (agg(evaluate=lambda s: "nope"), F.PHASE_COMPLETE,
             "aggregate agg: evaluate\\(\\) returned 'nope' for group 0, not a double"),
            (agg(state=lambda s: [1.0, 2.0]), F.PHASE_PARTIAL,
             "aggregate agg: state\\(\\) returned \\[1.0, 2.0\\]; it must return a list of 1 values"),
            (agg(state=lambda s: ["x"]), F.PHASE_PARTIAL, "state\\(\\) column s returned 'x' for group 0"),
        ]
        for fn, phase, msg in cases:
            with self.subTest(msg=msg):
                run = F.AggregateRun(fn, phase)
                with self.assertRaisesRegex(F.FunctionError, msg):
                    run.add(batch([0], [1.0]))
                    list(run.finish())

    def test_group_limit(self):
        run = F.AggregateRun(MeanOf, F.PHASE_COMPLETE)
        with self.assertRaisesRegex(F.FunctionError, "beyond the limit"):
            run.add(batch([F.MAX_GROUPS], [1.0]))


class ExtensionYaml(unittest.TestCase):
    def test_text(self):
        vol = F.ScalarFunction(lambda: 1, [], pa.int64(), volatility="volatile", name="rnd", description="")
        text = F.extension_yaml("extension:acme:geo", [scaled, MeanOf, vol])
        self.assertEqual(text, '''%YAML 1.2
---
urn: "extension:acme:geo"
scalar_functions:
  - name: "scaled"
    description: "Multiplies."
    impls:
      - args:
          - name: "n"
            value: i64
          - name: "x"
            value: fp64
        nullability: DECLARED_OUTPUT
        return: fp64?
  - name: "rnd"
    impls:
      - args: []
        nullability: DECLARED_OUTPUT
        deterministic: false
        return: i64?
aggregate_functions:
  - name: "mean_of"
    description: "Mean of the non-null values."
    impls:
      - args:
          - name: "xs"
            value: fp64
        nullability: DECLARED_OUTPUT
        decomposable: MANY
        intermediate: "struct<fp64,i64>"
        return: fp64?
''')

    def test_quoting(self):
        f = F.ScalarFunction(lambda x: x, [pa.field("a: b", pa.string())], pa.decimal128(20, 4), name="q",
                             description='say "hi": #1\nnext')
        text = F.extension_yaml("extension:o:p", [f])
        self.assertIn('description: "say \\"hi\\": #1\\nnext"', text)
        self.assertIn('- name: "a: b"', text)
        self.assertIn("return: decimal<20,4>?", text)


if __name__ == "__main__":
    unittest.main()
