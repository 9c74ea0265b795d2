"""go-plugin's side of the protocol: the handshake, TLS, the process's life.

The subprocess tests start plugins the way go-plugin's client does (the
environment, reading one line of stdout) and talk to them with grpcio."""

import base64
import datetime
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import helpers
import grpc
import pyarrow as pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from arbalest import _goplugin, _tlsproxy
from arbalest._proto import grpc_broker_pb2_grpc, grpc_controller_pb2, grpc_controller_pb2_grpc
from arbalest._proto import grpc_stdio_pb2_grpc
from arbalest._proto import plugin_pb2, plugin_pb2_grpc
from google.protobuf import empty_pb2

PYTHON = sys.executable
UDFS = helpers.example("udfs.py")


def client_cert(curve=ec.SECP256R1()):
    """A client certificate like go-plugin's AutoMTLS makes (PEM cert, PEM key)."""
    key = ec.generate_private_key(curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256() if isinstance(curve, ec.SECP256R1) else hashes.SHA512()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class Plugin:
    """A plugin process started like go-plugin starts one."""

    def __init__(self, args, client=None, extra_env=None, min_port=10000, max_port=25000):
        env = helpers.plugin_env(ARBALEST_PLUGIN="arbalest-plugin-v1", PLUGIN_MIN_PORT=str(min_port),
                                 PLUGIN_MAX_PORT=str(max_port), PLUGIN_PROTOCOL_VERSIONS="1")
        if client is not None:
            env["PLUGIN_CLIENT_CERT"] = client[0].decode()
        env.update(extra_env or {})
        self.proc = subprocess.Popen([PYTHON] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.stderr_lines = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            self.line = lines.get(timeout=60).decode().strip()
        except queue.Empty:
            self.kill()
            raise AssertionError("no handshake line in 60s")
        self.channel = None
        if self.line:
            parts = self.line.split("|")
            self.parts = parts
            self.port = int(parts[3].rsplit(":", 1)[1])
            opts = [("grpc.max_receive_message_length", 64 << 20)]
            if client is not None:
                der = base64.b64decode(parts[5] + "=" * (-len(parts[5]) % 4))
                server_pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
                creds = grpc.ssl_channel_credentials(root_certificates=server_pem, private_key=client[1],
                                                     certificate_chain=client[0])
                self.channel = grpc.secure_channel(parts[3], creds, options=opts + [
                    ("grpc.ssl_target_name_override", "localhost")])
            else:
                self.channel = grpc.insecure_channel(parts[3], options=opts)

    def _drain_stderr(self):
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.stderr_lines.append(line.decode(errors="replace").rstrip("\n"))

    def stderr(self):
        return "\n".join(self.stderr_lines)

    def kill(self):
        if self.channel is not None:
            self.channel.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"plugin still running after {timeout}s:\n{self.stderr()}")


class Handshake(unittest.TestCase):
    def test_line(self):
        _, _, der = _goplugin.generate_certificate()
        line = _goplugin.handshake_line(1234, der)
        parts = line.split("|")
        self.assertEqual(parts[:5], ["1", "1", "tcp", "127.0.0.1:1234", "grpc"])
        self.assertNotIn("=", parts[5])
        # go-plugin decodes with base64.RawStdEncoding: standard alphabet, no padding.
        self.assertEqual(base64.b64decode(parts[5] + "=" * (-len(parts[5]) % 4), validate=True), der)
        self.assertEqual(_goplugin.handshake_line(5, None), "1|1|tcp|127.0.0.1:5|grpc|")
        self.assertTrue(_goplugin.handshake_line(5, None, multiplex=True).endswith("|grpc||false"))

    def test_certificate(self):
        pem, key_pem, der = _goplugin.generate_certificate()
        cert = x509.load_pem_x509_certificate(pem)
        self.assertEqual(cert.public_bytes(serialization.Encoding.DER), der)
        self.assertEqual(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                         .get_values_for_type(x509.DNSName), ["localhost"])
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        self.assertIn(ExtendedKeyUsageOID.SERVER_AUTH, eku)
        self.assertTrue(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        self.assertIsInstance(cert.public_key().curve, ec.SECP256R1)
        serialization.load_pem_private_key(key_pem, None)

    def test_environment(self):
        ok = {"ARBALEST_PLUGIN": "arbalest-plugin-v1", "PLUGIN_MIN_PORT": "10", "PLUGIN_MAX_PORT": "20",
              "PLUGIN_PROTOCOL_VERSIONS": "1,2"}
        env = _goplugin.read_environment(ok)
        self.assertEqual((env.min_port, env.max_port, env.host_versions, env.client_cert_pem), (10, 20, [1, 2], None))
        for bad, msg in [({"ARBALEST_PLUGIN": "x"}, "not meant to be run by hand"),
                         ({"PLUGIN_MIN_PORT": "ten"}, "PLUGIN_MIN_PORT='ten' is not a port number"),
                         ({"PLUGIN_MAX_PORT": "70000"}, "PLUGIN_MAX_PORT=70000 is not a port number"),
                         ({"PLUGIN_MIN_PORT": "30"}, "PLUGIN_MIN_PORT value of 30 is greater than PLUGIN_MAX_PORT")]:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(_goplugin.HandshakeError, msg):
                    _goplugin.read_environment({**ok, **bad})
        with self.assertRaisesRegex(_goplugin.HandshakeError, "PLUGIN_CLIENT_CERT is not a PEM certificate"):
            _goplugin.check_client_certificate(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")

    def test_tls_mode(self):
        self.assertTrue(_tlsproxy.needs_proxy(client_cert(ec.SECP521R1())[0]))
        self.assertFalse(_tlsproxy.needs_proxy(client_cert(ec.SECP256R1())[0]))

    def test_log_format(self):
        rec = logging.LogRecord("arbalest", logging.WARNING, __file__, 1, "careful %s", ("now",), None)
        entry = json.loads(_goplugin.HclogFormatter().format(rec))
        self.assertEqual((entry["@level"], entry["@message"], entry["@module"]), ("warn", "careful now", "arbalest"))
        # The timestamp layout go-plugin's client parses.
        datetime.datetime.strptime(entry["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")


class Process(unittest.TestCase):
    def start(self, args=("-m", "arbalest.plugin", UDFS), **kw):
        p = Plugin(list(args), **kw)
        self.addCleanup(p.kill)
        return p

    def check_serving(self, p):
        self.assertEqual(p.parts[:3], ["1", "1", "tcp"])
        health = health_pb2_grpc.HealthStub(p.channel)
        resp = health.Check(health_pb2.HealthCheckRequest(service="plugin"), timeout=10)
        self.assertEqual(resp.status, health_pb2.HealthCheckResponse.SERVING)
        info = plugin_pb2_grpc.PluginServiceStub(p.channel).GetInfo(plugin_pb2.GetInfoRequest(protocol_version=1),
                                                                    timeout=10)
        self.assertEqual(info.name, "udfs")

    def shutdown(self, p):
        # Like go-plugin's client: stdio and broker streams open, then Shutdown.
        stdio = grpc_stdio_pb2_grpc.GRPCStdioStub(p.channel).StreamStdio(empty_pb2.Empty(), timeout=30)
        reqs = queue.Queue()
        broker = grpc_broker_pb2_grpc.GRPCBrokerStub(p.channel).StartStream(iter(reqs.get, None), timeout=30)
        time.sleep(0.2)
        grpc_controller_pb2_grpc.GRPCControllerStub(p.channel).Shutdown(grpc_controller_pb2.Empty(), timeout=10)
        t0 = time.monotonic()
        self.assertEqual(p.wait(10), 0, p.stderr())
        self.assertLess(time.monotonic() - t0, 5)
        # The streams ended with the plugin, without sending anything.
        self.assertEqual(list(_ended(stdio)), [])
        reqs.put(None)
        self.assertEqual(list(_ended(broker)), [])
        self.assertIn("stopping: the host asked to shut down", p.stderr())

    def test_plaintext(self):
        p = self.start()
        self.assertEqual(p.parts[5], "")
        self.check_serving(p)
        self.shutdown(p)

    def test_mtls_grpc(self):
        client = client_cert()
        p = self.start(client=client)
        self.assertGreater(len(p.parts[5]), 50)
        self.check_serving(p)
        self.assertIn("(mTLS)", p.stderr())
        self.assert_rejects_strangers(p)
        self.shutdown(p)

    def test_mtls_proxy(self):
        # The OpenSSL front (what go-plugin's P-521 certificates get),
        # forced for a P-256 certificate that grpcio's client can present.
        client = client_cert()
        p = self.start(client=client, extra_env={"ARBALEST_PLUGIN_TLS": "proxy"})
        self.check_serving(p)
        self.assertIn("(mTLS (OpenSSL front))", p.stderr())
        # A big exchange through the front.
        b = pa.record_batch([pa.array(["Hello World"] * 200000)], names=["t"])
        _, out = _exchange(p.channel, "slug", b)
        self.assertEqual(sum(x.num_rows for x in out), 200000)
        self.assertEqual(out[0].column(0)[0].as_py(), "hello-world")
        self.assert_rejects_strangers(p)
        self.shutdown(p)

    def assert_rejects_strangers(self, p):
        der = base64.b64decode(p.parts[5] + "=" * (-len(p.parts[5]) % 4))
        server_pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        other = client_cert()
        for creds in (grpc.ssl_channel_credentials(root_certificates=server_pem),
                      grpc.ssl_channel_credentials(root_certificates=server_pem, private_key=other[1],
                                                   certificate_chain=other[0])):
            ch = grpc.secure_channel(p.parts[3], creds, options=[("grpc.ssl_target_name_override", "localhost")])
            with self.assertRaises(grpc.RpcError):
                plugin_pb2_grpc.PluginServiceStub(ch).GetInfo(plugin_pb2.GetInfoRequest(), timeout=5)
            ch.close()
        with self.assertRaises(grpc.RpcError):
            ch = grpc.insecure_channel(p.parts[3])
            try:
                plugin_pb2_grpc.PluginServiceStub(ch).GetInfo(plugin_pb2.GetInfoRequest(), timeout=5)
            finally:
                ch.close()

    def test_serve_from_main(self):
        p = self.start(args=(UDFS,))
        self.check_serving(p)
        self.shutdown(p)

    def test_port_range(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        p = self.start(min_port=port, max_port=port)
        self.assertEqual(p.port, port)
        # A second plugin cannot take the same port.
        q = Plugin(["-m", "arbalest.plugin", UDFS], min_port=port, max_port=port)
        self.addCleanup(q.kill)
        self.assertEqual(q.line, "")
        self.assertEqual(q.wait(10), 1)
        self.assertIn("couldn't bind plugin TCP listener", q.stderr())

    def test_run_by_hand(self):
        env = helpers.plugin_env()
        r = subprocess.run([PYTHON, "-m", "arbalest.plugin", UDFS], env=env, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"not meant to be run by hand", r.stderr)

    def test_bad_file(self):
        env = helpers.plugin_env(ARBALEST_PLUGIN="arbalest-plugin-v1")
        r = subprocess.run([PYTHON, "-m", "arbalest.plugin", "/nonexistent/x.py"], env=env, capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"arbalest: /nonexistent/x.py: no such file", r.stderr)

    def test_sigterm_and_sigint(self):
        p = self.start()
        self.check_serving(p)
        p.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        self.assertIsNone(p.proc.poll(), "SIGINT stopped the plugin")
        p.proc.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        self.assertIn("stopping: SIGTERM", p.stderr())

    def test_parent_death(self):
        # A stand-in host starts the plugin and is killed: no orphan.
        host = subprocess.Popen([PYTHON, "-c", (
            "import subprocess, sys\n"
            f"p = subprocess.Popen([sys.executable, '-m', 'arbalest.plugin', {UDFS!r}], stdout=subprocess.PIPE,"
            " stderr=subprocess.DEVNULL)\n"
            "p.stdout.readline()\n"
            "print(p.pid, flush=True)\n"
            "import time; time.sleep(60)\n")],
            stdout=subprocess.PIPE, env=helpers.plugin_env(ARBALEST_PLUGIN="arbalest-plugin-v1"))
        self.addCleanup(host.stdout.close)
        self.addCleanup(lambda: host.poll() is None and host.kill())
        pid = int(host.stdout.readline())
        self.assertTrue(_alive(pid))
        host.kill()
        host.wait(10)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            self.fail("the plugin outlived its host by 10s")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _ended(stream):
    try:
        for item in stream:
            yield item
    except grpc.RpcError as e:
        if e.code() not in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE):
            raise


def _exchange(channel, function, batch):
    from arbalest import _flight
    from arbalest._proto import flight_subset_pb2 as fpb
    call = plugin_pb2.FunctionCall(function=function, phase=plugin_pb2.FUNCTION_PHASE_SCALAR)
    desc = fpb.FlightDescriptor(type=fpb.FlightDescriptor.CMD, cmd=call.SerializeToString())
    header = _flight._split_encapsulated(batch.schema.serialize())[0]
    frames = [_flight.encode_flight_data(data_header=header, descriptor=desc), _flight.encode_batch(batch)]
    rpc = channel.stream_stream("/arrow.flight.protocol.FlightService/DoExchange", request_serializer=lambda b: b,
                                response_deserializer=_flight.decode_flight_data)
    reader = _flight.FlightBatchReader(iter(rpc(iter(frames), timeout=60)))
    return reader.start(), list(reader)


if __name__ == "__main__":
    unittest.main()
