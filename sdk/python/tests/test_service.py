"""The plugin protocol's services over a real gRPC server in this process."""

import unittest
from concurrent import futures
from unittest import mock

import helpers
import grpc
import pyarrow as pa

import arbalest
from arbalest import _flight, _service, _types
from arbalest._proto import flight_subset_pb2 as fpb
from arbalest._proto import plugin_pb2 as ppb
from arbalest._proto import plugin_pb2_grpc
from arbalest.plugin import load_plugin

import test_filters as tf
import test_flight

P = ppb


class Server:
    def __init__(self, plugin):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        _service.add_to_server(_service.PluginServices(plugin), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.plugin = plugin_pb2_grpc.PluginServiceStub(self.channel)
        self.scan = plugin_pb2_grpc.ScanServiceStub(self.channel)
        self._do_get = self.channel.unary_stream(
            "/arrow.flight.protocol.FlightService/DoGet", request_serializer=fpb.Ticket.SerializeToString,
            response_deserializer=_flight.decode_flight_data)
        self._do_exchange = self.channel.stream_stream(
            "/arrow.flight.protocol.FlightService/DoExchange", request_serializer=lambda b: b,
            response_deserializer=_flight.decode_flight_data)

    def close(self):
        self.channel.close()
        self.server.stop(None)

    def do_get(self, ticket):
        reader = _flight.FlightBatchReader(iter(self._do_get(fpb.Ticket(ticket=ticket), timeout=30)))
        schema = reader.start()
        return schema, list(reader)

    def exchange(self, function, phase, batches, schema=None, send_schema=True, ipc=None):
        call = P.FunctionCall(function=function, phase=phase).SerializeToString()
        desc = fpb.FlightDescriptor(type=fpb.FlightDescriptor.CMD, cmd=call)
        if ipc is not None:
            # Messages as another IPC writer made them (dictionaries too).
            frames = [_flight.encode_flight_data(descriptor=desc)]
            frames += [_flight.encode_flight_data(data_header=m, data_body=body) for m, body in ipc]
            reader = _flight.FlightBatchReader(iter(self._do_exchange(iter(frames), timeout=30)))
            return reader.start(), list(reader)
        frames = []
        schema = schema or (batches[0].schema if batches else None)
        if send_schema and schema is not None:
            frames.append(_flight.encode_flight_data(data_header=_flight._split_encapsulated(schema.serialize())[0],
                                                     descriptor=desc))
        else:
            frames.append(_flight.encode_flight_data(descriptor=desc))
        frames += [_flight.encode_batch(b) for b in batches]
        reader = _flight.FlightBatchReader(iter(self._do_exchange(iter(frames), timeout=30)))
        out_schema = reader.start()
        return out_schema, list(reader)


def f64(*v):
    return pa.array(v, pa.float64())


class Functions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(load_plugin(helpers.example("udfs.py")))

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_get_info(self):
        info = self.srv.plugin.GetInfo(P.GetInfoRequest(protocol_version=1))
        self.assertEqual((info.name, info.protocol_version, info.scan), ("udfs", 1, False))
        self.assertEqual(info.extension_urn, "extension:plugin:udfs")
        self.assertIn('urn: "extension:plugin:udfs"', info.extension_yaml)
        sigs = {f.name: f for f in info.functions}
        self.assertEqual(sorted(sigs), ["geo_mean", "haversine_km", "repeat_word", "slug"])
        h = sigs["haversine_km"]
        self.assertEqual(h.kind, P.FUNCTION_KIND_SCALAR)
        self.assertEqual(_types.schema_from_bytes(h.arguments, "a").types, [pa.float64()] * 4)
        self.assertEqual(_types.schema_from_bytes(h.result, "r").types, [pa.float64()])
        self.assertEqual(h.volatility, P.VOLATILITY_IMMUTABLE)
        self.assertTrue(sigs["repeat_word"].null_on_null)
        g = sigs["geo_mean"]
        self.assertEqual(g.kind, P.FUNCTION_KIND_AGGREGATE)
        self.assertEqual(_types.schema_from_bytes(g.state, "s").names, ["log_sum", "count"])

    def test_scalar(self):
        b = pa.record_batch([f64(48.8566, 0.0), f64(2.3522, 0.0), f64(51.5074, 0.0), f64(-0.1278, 1.0)],
                            names=["a", "b", "c", "d"])
        schema, out = self.srv.exchange("haversine_km", P.FUNCTION_PHASE_SCALAR, [b, b.slice(1)])
        self.assertEqual(schema, pa.schema([("result", pa.float64())]))
        self.assertEqual([x.num_rows for x in out], [2, 1])
        self.assertAlmostEqual(out[0].column(0)[0].as_py(), 343.56, places=1)
        self.assertAlmostEqual(out[1].column(0)[0].as_py(), 111.2, places=1)

    def test_scalar_strings(self):
        b = pa.record_batch([pa.array(["Hello, World!", None, "Ça va? Très bien"])], names=["t"])
        _, out = self.srv.exchange("slug", P.FUNCTION_PHASE_SCALAR, [b])
        self.assertEqual(out[0].column(0).to_pylist(), ["hello-world", None, "ça-va-très-bien"])

    def test_dictionary_arguments_are_decoded(self):
        b = pa.record_batch([pa.array(["A b", "A b"]).dictionary_encode()], names=["t"])
        _, out = self.srv.exchange("slug", P.FUNCTION_PHASE_SCALAR, [], ipc=test_flight.ipc_messages([b]))
        self.assertEqual(out[0].column(0).to_pylist(), ["a-b", "a-b"])

    def test_no_input(self):
        schema, out = self.srv.exchange("slug", P.FUNCTION_PHASE_SCALAR, [], send_schema=False)
        self.assertEqual(schema, pa.schema([("result", pa.string())]))
        self.assertEqual(out, [])
        schema, out = self.srv.exchange("geo_mean", P.FUNCTION_PHASE_COMPLETE, [],
                                        schema=pa.schema([("group", pa.uint32()), ("x", pa.float64())]))
        self.assertEqual(schema.names, ["group", "result"])
        self.assertEqual(out, [])

    def test_aggregate_phases(self):
        b = pa.record_batch([pa.array([0, 1, 0, 3, 1], pa.uint32()), f64(2, 1, 8, 5, 100)], names=["group", "x"])
        _, out = self.srv.exchange("geo_mean", P.FUNCTION_PHASE_COMPLETE, [b])
        rows = pa.Table.from_batches(out).to_pylist()
        self.assertEqual([r["group"] for r in rows], [0, 1, 2, 3])
        self.assertAlmostEqual(rows[0]["result"], 4.0)
        self.assertAlmostEqual(rows[1]["result"], 10.0)
        self.assertIsNone(rows[2]["result"])
        schema, p1 = self.srv.exchange("geo_mean", P.FUNCTION_PHASE_PARTIAL, [b.slice(0, 2)])
        _, p2 = self.srv.exchange("geo_mean", P.FUNCTION_PHASE_PARTIAL, [b.slice(2)])
        self.assertEqual(schema.names, ["group", "log_sum", "count"])
        _, final = self.srv.exchange("geo_mean", P.FUNCTION_PHASE_FINAL, p1 + p2)
        frows = pa.Table.from_batches(final).to_pylist()
        for r, fr in zip(rows, frows):
            self.assertEqual(r["group"], fr["group"])
            if r["result"] is None:
                self.assertIsNone(fr["result"])
            else:
                self.assertAlmostEqual(r["result"], fr["result"])

    def test_errors(self):
        b = pa.record_batch([f64(1.0)], names=["x"])
        cases = [
            (lambda: self.srv.exchange("nope", P.FUNCTION_PHASE_SCALAR, [b]), grpc.StatusCode.NOT_FOUND,
             "plugin udfs has no function 'nope' (it has: geo_mean, haversine_km, repeat_word, slug)"),
            (lambda: self.srv.exchange("slug", P.FUNCTION_PHASE_SCALAR, [b]), grpc.StatusCode.INVALID_ARGUMENT,
             "function slug: arguments are (double), declared (string)"),
            (lambda: self.srv.exchange("slug", P.FUNCTION_PHASE_COMPLETE, [b]), grpc.StatusCode.INVALID_ARGUMENT,
             "function slug is scalar; called in phase FUNCTION_PHASE_COMPLETE"),
            (lambda: self.srv.exchange("geo_mean", P.FUNCTION_PHASE_SCALAR, [b]), grpc.StatusCode.INVALID_ARGUMENT,
             "function geo_mean is an aggregate; called in phase FUNCTION_PHASE_SCALAR"),
            (lambda: self.srv.exchange("geo_mean", P.FUNCTION_PHASE_COMPLETE, [b]), grpc.StatusCode.INVALID_ARGUMENT,
             "aggregate geo_mean: input has 1 columns, want 'group' and 1 arguments (double)"),
            (lambda: self.srv.scan.GetSchema(P.GetSchemaRequest()), grpc.StatusCode.UNIMPLEMENTED,
             "plugin udfs has no data source"),
            (lambda: self.srv.do_get(b"x"), grpc.StatusCode.UNIMPLEMENTED, "plugin udfs has no data source"),
        ]
        for call, code, msg in cases:
            with self.subTest(msg=msg):
                with self.assertLogs("arbalest", "WARNING"):
                    with self.assertRaises(grpc.RpcError) as cm:
                        call()
                self.assertEqual(cm.exception.code(), code)
                self.assertEqual(cm.exception.details(), msg)

    def test_no_descriptor(self):
        frames = iter([_flight.encode_flight_data(data_header=b"x")])
        with self.assertLogs("arbalest", "WARNING"), self.assertRaises(grpc.RpcError) as cm:
            list(self.srv._do_exchange(frames, timeout=10))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("first message must carry a CMD descriptor", cm.exception.details())


@arbalest.udf(args=[pa.int64()], returns=pa.int64(), name="boom")
def _boom(x):
    raise RuntimeError("kaput")


@arbalest.udf(args=[pa.int64()], returns=pa.int64(), name="short")
def _short(x):
    return x.slice(1)


class UserErrors(unittest.TestCase):
    def test_statuses(self):
        srv = Server(arbalest.Plugin("bad", functions=[_boom, _short]))
        self.addCleanup(srv.close)
        b = pa.record_batch([pa.array([1, 2])], names=["x"])
        with self.assertLogs("arbalest", "ERROR"):
            with self.assertRaises(grpc.RpcError) as cm:
                srv.exchange("boom", P.FUNCTION_PHASE_SCALAR, [b])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNKNOWN)
        self.assertRegex(cm.exception.details(),
                         r"^function boom raised RuntimeError: kaput \(at .*test_service.py:\d+ in _boom\)$")
        with self.assertLogs("arbalest", "ERROR"):
            with self.assertRaises(grpc.RpcError) as cm:
                srv.exchange("short", P.FUNCTION_PHASE_SCALAR, [b])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual(cm.exception.details(), "function short returned 1 rows for a batch of 2 rows")


class Source(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(load_plugin(helpers.example("datasource.py")))

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    table = P.Table(options={"rows": "1000"})

    def test_info_and_schema(self):
        info = self.srv.plugin.GetInfo(P.GetInfoRequest(protocol_version=1))
        self.assertEqual((info.name, info.version, info.scan), ("numbers", "1.0.0", True))
        self.assertEqual(info.extension_yaml, "")
        caps = info.scan_capabilities
        self.assertTrue(caps.projection and caps.filters and caps.limit and caps.splits)
        resp = self.srv.scan.GetSchema(P.GetSchemaRequest(table=self.table))
        self.assertEqual(_types.schema_from_bytes(resp.schema, "s").names, ["id", "x", "label", "category"])
        self.assertEqual((resp.statistics.row_count, resp.statistics.total_bytes), (1000, -1))

    def test_scan_with_pushdown(self):
        b = tf.Builder()
        b.ee.base_schema.ClearField("names")
        b.ee.base_schema.ClearField("struct")
        b.ee.base_schema.names.extend(["id", "x", "label", "category"])
        b.ee.base_schema.struct.types.extend([tf.tpb.Type(i64=tf.tpb.Type.I64()), tf.tpb.Type(fp64=tf.tpb.Type.FP64()),
                                              tf.tpb.Type(string=tf.tpb.Type.String()),
                                              tf.tpb.Type(string=tf.tpb.Type.String())])
        filters = b.add(
            b.call(tf.CMP, "gte:any_any", tf.col(0), tf.lit(i64=100)),
            b.call(tf.CMP, "equal:any_any", tf.col(3), tf.lit(string="odd")),
            b.call(tf.CMP, "is_null:any", tf.col(2)),  # not taken
        )
        plan = self.srv.scan.PlanScan(P.PlanScanRequest(
            table=self.table, projection=P.Projection(columns=[2, 0]), filters=filters, filter_count=3,
            limit=-1, target_parallelism=4))
        self.assertEqual(list(plan.verdicts), [P.FILTER_VERDICT_EXACT, P.FILTER_VERDICT_EXACT,
                                               P.FILTER_VERDICT_UNSUPPORTED])
        self.assertEqual(len(plan.splits), 4)
        self.assertEqual(plan.statistics.row_count, 900)
        self.assertEqual(plan.explain, "ids [100, 1000) in 4 splits, filters: id >= 100 AND category = 'odd'")
        ids = []
        for s in plan.splits:
            self.assertGreater(s.statistics.row_count, 0)
            schema, batches = self.srv.do_get(s.ticket)
            self.assertEqual(schema.names, ["label", "id"])
            for batch in batches:
                ids += batch.column(1).to_pylist()
        self.assertEqual(sorted(ids), list(range(101, 1000, 2)))

    def test_limit(self):
        plan = self.srv.scan.PlanScan(P.PlanScanRequest(table=self.table, limit=5, target_parallelism=2))
        rows = sum(b.num_rows for s in plan.splits for b in self.srv.do_get(s.ticket)[1])
        self.assertEqual(rows, 10)  # at most the limit per split

    def test_errors(self):
        cases = [
            (lambda: self.srv.scan.PlanScan(P.PlanScanRequest(table=self.table, projection=P.Projection(columns=[9]))),
             grpc.StatusCode.INVALID_ARGUMENT, "data source numbers: projection column 9 is out of range for 4 columns"),
            (lambda: self.srv.scan.PlanScan(P.PlanScanRequest(table=self.table, filters=b"\xff", filter_count=1)),
             grpc.StatusCode.INVALID_ARGUMENT, "data source numbers: filters are not a Substrait ExtendedExpression"),
            (lambda: self.srv.do_get(b"nonsense"), grpc.StatusCode.INVALID_ARGUMENT,
             "data source numbers: bad ticket: not a split ticket of a Python plugin"),
            (lambda: self.srv.scan.GetSchema(P.GetSchemaRequest(table=P.Table(options={"rows": "x"}))),
             grpc.StatusCode.UNKNOWN, "data source numbers: schema() raised ValueError: numbers: option rows='x' is not an integer"),
        ]
        for call, code, msg in cases:
            with self.subTest(msg=msg):
                with self.assertLogs("arbalest", "WARNING"):
                    with self.assertRaises(grpc.RpcError) as cm:
                        call()
                self.assertEqual(cm.exception.code(), code)
                self.assertTrue(cm.exception.details().startswith(msg), cm.exception.details())


class Naive(arbalest.DataSource):
    """Returns every column whatever the projection, with a dictionary column."""

    projection = False
    name = "naive"

    def __init__(self, batch_rows=3, wrong=False, verdicts=()):
        self.batch_rows, self.wrong, self.verdicts = batch_rows, wrong, verdicts

    def schema(self, table):
        return pa.schema([("k", pa.dictionary(pa.int32(), pa.string())), ("v", pa.int64())])

    def plan(self, table, projection, filters, limit, parallelism):
        assert projection is None, projection
        return arbalest.Plan(splits=["a", arbalest.Split(b"b", row_count=3)], verdicts=self.verdicts)

    def read(self, split):
        if self.wrong:
            yield pa.record_batch([pa.array([1])], names=["k"])
            return
        k = pa.array([split.decode()] * self.batch_rows).dictionary_encode()
        yield pa.table([k, pa.array(range(self.batch_rows))], names=["k", "v"])


class SDKSide(unittest.TestCase):
    def serve(self, src):
        srv = Server(arbalest.Plugin("t", source=src))
        self.addCleanup(srv.close)
        return srv

    def test_projection_by_the_sdk_and_plain_columns(self):
        srv = self.serve(Naive())
        schema = _types.schema_from_bytes(srv.scan.GetSchema(P.GetSchemaRequest()).schema, "s")
        self.assertEqual(schema.types, [pa.string(), pa.int64()])
        plan = srv.scan.PlanScan(P.PlanScanRequest(projection=P.Projection(columns=[1, 0]), limit=-1))
        self.assertEqual([s.statistics.row_count for s in plan.splits], [-1, 3])
        schema, batches = srv.do_get(plan.splits[1].ticket)
        self.assertEqual(schema, pa.schema([("v", pa.int64()), ("k", pa.string())]))
        self.assertEqual(batches[0].to_pylist(), [{"v": i, "k": "b"} for i in range(3)])

    def test_big_batches_are_sliced(self):
        srv = self.serve(Naive(batch_rows=1000))
        plan = srv.scan.PlanScan(P.PlanScanRequest(limit=-1))
        with mock.patch.object(_service, "MAX_BATCH_BYTES", 1000):
            _, batches = srv.do_get(plan.splits[0].ticket)
        self.assertGreater(len(batches), 5)
        self.assertEqual(sum(b.num_rows for b in batches), 1000)

    def test_wrong_schema_names_the_source(self):
        srv = self.serve(Naive(wrong=True))
        plan = srv.scan.PlanScan(P.PlanScanRequest(limit=-1))
        with self.assertRaises(grpc.RpcError) as cm:
            srv.do_get(plan.splits[0].ticket)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual(cm.exception.details(),
                         "data source naive: read() returned a batch with the wrong schema: "
                         "1 columns (k: int64), want 2 (k: string, v: int64)")

    def test_too_many_verdicts(self):
        srv = self.serve(Naive(verdicts=["exact"]))
        with self.assertRaises(grpc.RpcError) as cm:
            srv.scan.PlanScan(P.PlanScanRequest(limit=-1))
        self.assertEqual(cm.exception.details(), "data source naive: plan() gave 1 verdicts for 0 filters")


class BadStatistics(Naive):
    def statistics(self, table):
        return 12

    def plan(self, table, projection, filters, limit, parallelism):
        return arbalest.Plan(splits=[arbalest.Split(b"x", row_count="many")])


class Answers(unittest.TestCase):
    def test_bad_statistics(self):
        srv = Server(arbalest.Plugin("t", source=BadStatistics()))
        self.addCleanup(srv.close)
        for call, msg in [
            (lambda: srv.scan.GetSchema(P.GetSchemaRequest()),
             "data source naive: statistics() returned int, not arbalest.Statistics or None"),
            (lambda: srv.scan.PlanScan(P.PlanScanRequest(limit=-1)),
             "data source naive: split 0: the row count 'many' is not a non-negative integer or None"),
        ]:
            with self.subTest(msg=msg):
                with self.assertRaises(grpc.RpcError) as cm:
                    call()
                self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
                self.assertEqual(cm.exception.details(), msg)


class Tickets(unittest.TestCase):
    def test_round_trip(self):
        s = pa.schema([("a", pa.int64())])
        for cols in (None, [], [0, 0]):
            got = _service.decode_ticket(_service.encode_ticket(s, cols, b"split\x00bytes"))
            self.assertEqual(got, (s, cols, b"split\x00bytes"))

    def test_garbage(self):
        good = _service.encode_ticket(pa.schema([("a", pa.int64())]), None, b"x")
        for t, msg in [(b"", "not a split ticket"), (b"ARBPY\x02\x00\x00\x00\x00\x00", "version 2"),
                       (good[:12], "truncated"), (b"ARBPY\x01\x00\x04\x00\x00\x00abcd\x00\x00\x00\x00",
                                                  "not an Arrow IPC schema")]:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(ValueError, msg):
                    _service.decode_ticket(t)


if __name__ == "__main__":
    unittest.main()
