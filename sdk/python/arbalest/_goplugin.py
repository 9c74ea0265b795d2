"""The server side of hashicorp/go-plugin's protocol, in Python.

The host (an Arbalest scheduler or executor, a go-plugin client) starts the
plugin with, in its environment, the magic cookie (ARBALEST_PLUGIN), the
port range (PLUGIN_MIN_PORT, PLUGIN_MAX_PORT), the app protocol versions it
speaks (PLUGIN_PROTOCOL_VERSIONS) and, with AutoMTLS, its client
certificate (PLUGIN_CLIENT_CERT, PEM). The plugin then:

1. listens on 127.0.0.1 at a port in the range; with a client certificate,
   over TLS with a fresh self-signed certificate, requiring and verifying
   the host's certificate;
2. registers the services go-plugin's client uses: grpc.health.v1.Health
   with "plugin" SERVING, plugin.GRPCController (Shutdown stops the
   plugin), plugin.GRPCStdio and plugin.GRPCBroker;
3. prints the handshake line on stdout,
   ``1|1|tcp|127.0.0.1:PORT|grpc|<server certificate, DER, base64 without padding>``
   (the certificate only with AutoMTLS), which is all go-plugin reads from
   stdout. Afterwards stdout is pointed at stderr, so stray prints end up
   in the host's log instead of a pipe nobody reads;
4. runs until the host calls Shutdown, sends SIGTERM, or goes away (the
   parent process is polled every second, so a killed host leaves no
   orphan). SIGINT is ignored, as go-plugin's own plugins do: a Ctrl-C at
   the host's terminal reaches the whole process group, and the host
   decides when its plugins stop.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import random
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
from concurrent import futures
from dataclasses import dataclass
from typing import Callable, Optional

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from . import _tlsproxy
from ._proto import (grpc_broker_pb2_grpc, grpc_controller_pb2, grpc_controller_pb2_grpc, grpc_stdio_pb2_grpc)

log = logging.getLogger("arbalest")

MAGIC_COOKIE_KEY = "ARBALEST_PLUGIN"
MAGIC_COOKIE_VALUE = "arbalest-plugin-v1"
CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 1
HEALTH_SERVICE = "plugin"

# gRPC messages both ways (schemas, plans, record batches).
MAX_MESSAGE_BYTES = 256 << 20

# How often the parent process is checked.
PARENT_POLL_SECONDS = 1.0
# How long Shutdown waits for running calls before the process exits.
SHUTDOWN_GRACE_SECONDS = 2.0

ENV_THREADS = "ARBALEST_PLUGIN_THREADS"
ENV_LOG_LEVEL = "ARBALEST_PLUGIN_LOG_LEVEL"
_ENV_MULTIPLEX = "PLUGIN_MULTIPLEX_GRPC"


class HandshakeError(Exception):
    """The process was not started the way go-plugin starts plugins."""


@dataclass
class Environment:
    min_port: int
    max_port: int
    client_cert_pem: Optional[bytes]
    host_versions: list[int]
    multiplex: bool


def read_environment(env: Optional[dict] = None) -> Environment:
    """Reads what the host put in the environment; raises HandshakeError."""
    env = os.environ if env is None else env
    if env.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise HandshakeError(
            "This is an Arbalest plugin: the Arbalest host starts it (configure it with "
            "--plugin NAME=... or in the config file); it is not meant to be run by hand.")

    def port(name: str) -> int:
        v = env.get(name, "")
        if v == "":
            return 0
        try:
            p = int(v)
        except ValueError:
            raise HandshakeError(f"{name}={v!r} is not a port number") from None
        if not 0 <= p <= 65535:
            raise HandshakeError(f"{name}={p} is not a port number")
        return p

    lo, hi = port("PLUGIN_MIN_PORT"), port("PLUGIN_MAX_PORT")
    if lo > hi:
        raise HandshakeError(f"PLUGIN_MIN_PORT value of {lo} is greater than PLUGIN_MAX_PORT value of {hi}")
    versions = []
    for s in env.get("PLUGIN_PROTOCOL_VERSIONS", "").split(","):
        s = s.strip()
        if s:
            try:
                versions.append(int(s))
            except ValueError:
                log.warning("ignoring invalid plugin protocol version %r from the host", s)
    cert = env.get("PLUGIN_CLIENT_CERT") or None
    return Environment(lo, hi, cert.encode() if cert else None, versions, bool(env.get(_ENV_MULTIPLEX)))


# --- TLS --------------------------------------------------------------------


def generate_certificate() -> tuple[bytes, bytes, bytes]:
    """A fresh self-signed certificate for "localhost", valid for both TLS
    ends like go-plugin's own: (certificate PEM, private key PEM,
    certificate DER). ECDSA P-256."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Arbalest plugin"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        # The certificate lives as long as the process; a year is plenty.
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert_pem, key_pem, cert.public_bytes(serialization.Encoding.DER)


def check_client_certificate(pem: bytes) -> None:
    """Raises HandshakeError when PLUGIN_CLIENT_CERT is not a PEM certificate
    (go-plugin's own servers go on and fail every connection instead)."""
    from cryptography import x509
    try:
        x509.load_pem_x509_certificate(pem)
    except ValueError as e:
        raise HandshakeError(f"PLUGIN_CLIENT_CERT is not a PEM certificate: {e}") from None


def handshake_line(port: int, cert_der: Optional[bytes], multiplex: bool = False) -> str:
    """go-plugin's handshake line. The server certificate is base64 (standard
    alphabet, no padding) of its DER, as go-plugin's client decodes it."""
    cert = base64.b64encode(cert_der).decode().rstrip("=") if cert_der else ""
    line = f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc|{cert}"
    if multiplex:
        # A host that asks for gRPC broker multiplexing gets a clear "not
        # supported" from go-plugin: this plugin has no broker services.
        line += "|false"
    return line


ENV_TLS = "ARBALEST_PLUGIN_TLS"


def tls_mode(client_cert_pem: bytes) -> str:
    """"grpc" (grpcio's own TLS) or "proxy" (the OpenSSL front, see
    _tlsproxy): the front only for P-521 host certificates, which grpcio
    cannot verify, unless ARBALEST_PLUGIN_TLS says otherwise."""
    forced = os.environ.get(ENV_TLS, "").lower()
    if forced in ("grpc", "proxy"):
        return forced
    return "proxy" if _tlsproxy.needs_proxy(client_cert_pem) else "grpc"


# --- binding ----------------------------------------------------------------


def _port_free(port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def bind(server: grpc.Server, lo: int, hi: int, credentials: Optional[grpc.ServerCredentials]) -> int:
    """Binds the server to 127.0.0.1 at a port in [lo, hi] (any port when
    both are 0), starting at a random one so plugins starting together do
    not race for the same ports. Returns the port."""

    def add(port: int) -> int:
        addr = f"127.0.0.1:{port}"
        try:
            got = server.add_secure_port(addr, credentials) if credentials else server.add_insecure_port(addr)
        except RuntimeError:
            return 0
        return got

    if lo == 0 and hi == 0:
        port = add(0)
        if port:
            return port
        raise HandshakeError("couldn't bind plugin TCP listener on 127.0.0.1")
    ports = list(range(max(lo, 1), hi + 1))
    if not ports:
        raise HandshakeError(f"no port in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT ({lo}..{hi})")
    start = random.randrange(len(ports))
    for port in ports[start:] + ports[:start]:
        # A plain bind first: failing binds in gRPC log errors.
        if not _port_free(port):
            continue
        got = add(port)
        if got:
            return got
    raise HandshakeError(f"couldn't bind plugin TCP listener on 127.0.0.1 at a port in {lo}..{hi}")


# --- go-plugin's services ---------------------------------------------------


class Lifetime:
    """When the plugin stops: Shutdown, SIGTERM, or the host going away."""

    def __init__(self):
        self.stopping = threading.Event()
        self.reason = ""
        self._lock = threading.Lock()
        self._waiters: set[threading.Event] = set()

    def stop(self, reason: str) -> None:
        with self._lock:
            if self.stopping.is_set():
                return
            self.reason = reason
            self.stopping.set()
            waiters = list(self._waiters)
        for w in waiters:
            w.set()

    def wait_stream(self, context: grpc.ServicerContext) -> None:
        """Blocks until the RPC of context ends or the plugin stops."""
        done = threading.Event()
        if not context.add_callback(done.set):
            return  # the RPC has already ended
        with self._lock:
            if self.stopping.is_set():
                return
            self._waiters.add(done)
        try:
            done.wait()
        finally:
            with self._lock:
                self._waiters.discard(done)


class _Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, lifetime: Lifetime):
        self.lifetime = lifetime

    def Shutdown(self, request, context):
        # Answer first: go-plugin's client treats an error here as "kill it".
        # The server stops right after the reply is on its way.
        threading.Timer(0.05, self.lifetime.stop, args=("the host asked to shut down",)).start()
        return grpc_controller_pb2.Empty()


class _Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """Streams nothing: the plugin's stdout and stderr go to the host's log
    through stderr (go-plugin's client discards this stream's data unless
    the host sets SyncStdout/SyncStderr). The stream stays open until the
    host closes it or the plugin stops, as go-plugin's does."""

    def __init__(self, lifetime: Lifetime):
        self.lifetime = lifetime

    def StreamStdio(self, request, context):
        self.lifetime.wait_stream(context)
        return
        yield  # a generator: an empty response stream


class _Broker(grpc_broker_pb2_grpc.GRPCBrokerServicer):
    """Accepts the host's broker stream and idles: this plugin offers no
    brokered services, and the host dials none."""

    def __init__(self, lifetime: Lifetime):
        self.lifetime = lifetime

    def StartStream(self, request_iterator, context):
        # The host's messages (none are expected) are read and dropped until
        # it closes the stream; ending the iteration ends the RPC.
        try:
            for info in request_iterator:
                log.debug("ignoring broker message for service %d", info.service_id)
        except grpc.RpcError:
            pass
        return
        yield


# --- logging ----------------------------------------------------------------


class HclogFormatter(logging.Formatter):
    """Log records as hclog JSON lines, which go-plugin's client parses from
    a plugin's stderr and logs at their level."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        n = record.levelno
        level = ("error" if n >= logging.ERROR else "warn" if n >= logging.WARNING else
                 "info" if n >= logging.INFO else "debug" if n >= logging.DEBUG else "trace")
        entry = {
            "@level": level,
            "@message": record.getMessage(),
            "@module": record.name,
            "@timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging() -> None:
    """Logs (the SDK's, and the plugin's through the root logger when it has
    no handler) go to stderr as hclog JSON."""
    level_name = os.environ.get(ENV_LOG_LEVEL, "INFO").upper()
    level = getattr(logging, level_name, logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HclogFormatter())
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(level)
    else:
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level)


# --- running ----------------------------------------------------------------


def _redirect_stdout_to_stderr() -> None:
    sys.stdout.flush()
    try:
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        # No real file descriptors (embedded): redirect Python's stream only.
        sys.stdout = sys.stderr


def _watch_parent(lifetime: Lifetime, parent: int) -> None:
    while not lifetime.stopping.wait(PARENT_POLL_SECONDS):
        if os.getppid() != parent:
            lifetime.stop(f"the host (pid {parent}) went away")
            return


def _threads() -> int:
    v = os.environ.get(ENV_THREADS, "")
    if v:
        try:
            n = int(v)
            if n > 0:
                return n
        except ValueError:
            pass
        log.warning("ignoring %s=%r: not a positive integer", ENV_THREADS, v)
    return 32


def serve(register: Callable[[grpc.Server], None], name: str,
          max_workers: Optional[int] = None, exit_process: Callable[[int], None] = os._exit) -> None:
    """Runs a go-plugin server whose plugin services register adds, until
    the plugin is told to stop; then ends the process with exit_process."""
    setup_logging()
    cleanup: list[Callable[[], None]] = []
    try:
        env = read_environment()
        if env.host_versions and APP_PROTOCOL_VERSION not in env.host_versions:
            log.warning("the host speaks plugin protocol versions %s; this plugin speaks %d",
                        env.host_versions, APP_PROTOCOL_VERSION)
        cert_pem = key_pem = cert_der = None
        if env.client_cert_pem:
            check_client_certificate(env.client_cert_pem)
            cert_pem, key_pem, cert_der = generate_certificate()
    except HandshakeError as e:
        sys.stderr.write(f"{e}\n")
        sys.stderr.flush()
        exit_process(1)
        return

    lifetime = Lifetime()
    workers = max_workers or _threads()
    # Two workers are held for the life of the connection by the host's
    # stdio and broker streams.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers + 2, thread_name_prefix="arbalest-rpc"),
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # Without this a second plugin could bind the same port.
            ("grpc.so_reuseport", 0),
        ],
    )
    health_servicer = health.HealthServicer()
    health_servicer.set(HEALTH_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(_Controller(lifetime), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(_Stdio(lifetime), server)
    grpc_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(_Broker(lifetime), server)
    register(server)

    proxy = None
    try:
        if env.client_cert_pem is None:
            transport = "plaintext"
            port = bind(server, env.min_port, env.max_port, None)
        elif tls_mode(env.client_cert_pem) == "grpc":
            transport = "mTLS"
            credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=env.client_cert_pem,
                                                      require_client_auth=True)
            port = bind(server, env.min_port, env.max_port, credentials)
        else:
            transport = "mTLS (OpenSSL front)"
            sockdir = tempfile.mkdtemp(prefix="arbalest-plugin-")  # 0700
            cleanup.append(lambda: shutil.rmtree(sockdir, ignore_errors=True))
            path = os.path.join(sockdir, "grpc.sock")
            if not server.add_insecure_port("unix:" + path):
                raise HandshakeError(f"couldn't listen on the Unix socket {path}")
            proxy = _tlsproxy.TLSProxy(_tlsproxy.server_context(cert_pem, key_pem, env.client_cert_pem), path)
            try:
                port = proxy.bind(env.min_port, env.max_port)
            except OSError as e:
                raise HandshakeError(f"couldn't bind plugin TCP listener on 127.0.0.1: {e}") from None
    except (HandshakeError, ssl.SSLError, RuntimeError) as e:
        log.error("%s", e)
        for f in cleanup:
            f()
        exit_process(1)
        return
    server.start()
    if proxy is not None:
        proxy.start()

    parent = os.getppid()
    # The handler only records the signal: taking locks inside a signal
    # handler can deadlock with the code it interrupted.
    signals: list[str] = []
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: signals.append("SIGTERM"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(lifetime, parent), name="arbalest-parent", daemon=True).start()

    sys.stdout.write(handshake_line(port, cert_der, env.multiplex) + "\n")
    sys.stdout.flush()
    _redirect_stdout_to_stderr()
    log.info("plugin %s serving on 127.0.0.1:%d (%s)", name, port, transport)

    # Wait in short steps so a signal is acted on promptly.
    while not lifetime.stopping.wait(0.2):
        if signals:
            lifetime.stop(signals[0])
    log.info("plugin %s stopping: %s", name, lifetime.reason)
    health_servicer.enter_graceful_shutdown()
    if proxy is not None:
        proxy.close()
    server.stop(SHUTDOWN_GRACE_SECONDS).wait(SHUTDOWN_GRACE_SECONDS + 1)
    for f in cleanup:
        f()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    # os._exit: worker threads still inside user code must not keep the
    # process alive after the host is gone.
    exit_process(0)
