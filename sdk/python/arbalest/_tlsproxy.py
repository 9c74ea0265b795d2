"""A TLS front for the plugin's gRPC server, for hosts with P-521 certificates.

go-plugin's AutoMTLS gives the host an ECDSA P-521 client certificate. The
TLS library inside grpcio (BoringSSL) does not list ecdsa_secp521r1_sha512
among the signature algorithms it accepts, so a Go client, finding no
certificate the server would accept, sends none and the handshake fails
(PEER_DID_NOT_RETURN_A_CERTIFICATE). grpcio has no setting for this.

So with such a certificate the plugin terminates TLS itself, with Python's
ssl module (OpenSSL, which accepts P-521): it listens on the host-facing
TCP port, requires and verifies the host's certificate, negotiates HTTP/2
(ALPN "h2", which gRPC clients require), and relays the decrypted bytes to
the gRPC server listening on a Unix socket in a private (0700) directory.
Each connection is one thread driving one TLS object through memory BIOs,
so no TLS object is ever used by two threads.
"""

from __future__ import annotations

import logging
import os
import random
import selectors
import socket
import ssl
import tempfile
import threading
from typing import Optional

log = logging.getLogger("arbalest")

_CHUNK = 256 * 1024
# A host that connects but never finishes the TLS handshake must not hold a
# thread forever.
HANDSHAKE_TIMEOUT_SECONDS = 10.0


def needs_proxy(client_cert_pem: bytes) -> bool:
    """Whether grpcio's TLS cannot verify this client certificate (an ECDSA
    key on P-521, which is what go-plugin's AutoMTLS makes)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    key = x509.load_pem_x509_certificate(client_cert_pem).public_key()
    return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP521R1)


def server_context(cert_pem: bytes, key_pem: bytes, client_cert_pem: bytes) -> ssl.SSLContext:
    """A TLS server context that requires and verifies the host's
    certificate and speaks HTTP/2."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain reads files: write them where only we can read them,
    # for as long as it takes to load them.
    with tempfile.TemporaryDirectory(prefix="arbalest-tls-") as d:
        cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        ctx.load_cert_chain(cert_path, key_path)
    ctx.load_verify_locations(cadata=client_cert_pem.decode("ascii"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols(["h2"])
    return ctx


class TLSProxy:
    """Accepts TLS connections on 127.0.0.1 and relays them to a Unix socket."""

    def __init__(self, context: ssl.SSLContext, target: str):
        self.context = context
        self.target = target
        self.sock: Optional[socket.socket] = None
        self._closed = threading.Event()

    def bind(self, lo: int, hi: int) -> int:
        """Listens at a port in [lo, hi] (any port when both are 0), starting
        at a random one. Returns the port; raises OSError when none is free."""
        if lo == 0 and hi == 0:
            ports = [0]
        else:
            ports = list(range(max(lo, 1), hi + 1))
            start = random.randrange(len(ports)) if ports else 0
            ports = ports[start:] + ports[:start]
        last: Optional[OSError] = None
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(64)
            except OSError as e:
                s.close()
                last = e
                continue
            self.sock = s
            return s.getsockname()[1]
        raise OSError(f"no free port in {lo}..{hi}: {last}")

    def start(self) -> None:
        threading.Thread(target=self._accept, name="arbalest-tls-accept", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        assert self.sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                if self._closed.is_set():
                    return
                continue
            threading.Thread(target=self._serve, args=(conn,), name="arbalest-tls-conn", daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        upstream: Optional[socket.socket] = None
        try:
            tls = self._handshake(raw)
            if tls is None:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            _relay(raw, upstream, tls)
        except OSError as e:
            if not self._closed.is_set():
                log.debug("TLS connection from the host ended: %s", e)
        finally:
            for s in (raw, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    def _handshake(self, raw: socket.socket) -> Optional["_TLS"]:
        tls = _TLS(self.context)
        raw.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            while True:
                try:
                    tls.obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    tls.flush(raw)
                    data = raw.recv(_CHUNK)
                    if not data:
                        return None
                    tls.incoming.write(data)
        except ssl.SSLError as e:
            log.warning("TLS handshake with the host failed: %s", e)
            try:
                tls.flush(raw)  # the alert, so the host sees why
            except OSError:
                pass
            return None
        except socket.timeout:
            log.warning("TLS handshake with the host timed out")
            return None
        tls.flush(raw)
        raw.settimeout(None)
        return tls


class _TLS:
    def __init__(self, context: ssl.SSLContext):
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    def flush(self, raw: socket.socket) -> None:
        data = self.outgoing.read()
        if data:
            raw.sendall(data)


def _relay(raw: socket.socket, upstream: socket.socket, tls: _TLS) -> None:
    """Moves bytes both ways until either side closes. Blocking sends are
    safe: both peers (gRPC in Go and in the plugin) read their sockets
    continuously and apply flow control at the HTTP/2 level."""
    sel = selectors.DefaultSelector()
    sel.register(raw, selectors.EVENT_READ, "host")
    sel.register(upstream, selectors.EVENT_READ, "server")
    try:
        while True:
            for key, _ in sel.select():
                if key.data == "host":
                    data = raw.recv(_CHUNK)
                    if not data:
                        return
                    tls.incoming.write(data)
                    while True:
                        try:
                            plain = tls.obj.read(_CHUNK)
                        except ssl.SSLWantReadError:
                            break
                        except ssl.SSLZeroReturnError:
                            return
                        if not plain:
                            break
                        upstream.sendall(plain)
                    tls.flush(raw)  # e.g. answers to key updates
                else:
                    data = upstream.recv(_CHUNK)
                    if not data:
                        try:
                            tls.obj.unwrap()
                        except ssl.SSLError:
                            pass
                        tls.flush(raw)
                        return
                    tls.obj.write(data)
                    tls.flush(raw)
    except ssl.SSLError as e:
        log.warning("TLS connection with the host failed: %s", e)
    finally:
        sel.close()
