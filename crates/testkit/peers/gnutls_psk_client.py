#!/usr/bin/env python3
"""A TLS-PSK client on the system's GnuTLS (libgnutls.so.30, through ctypes).

gnutls-cli 3.7 cannot be the client of a TLS 1.2 ECDHE-PSK handshake: once the handshake is
done it prints the session with gnutls_psk_server_get_username(), which dereferences a NULL
username on the client side of ECDHE-PSK and crashes (SIGSEGV, nothing sent). This is the same
library without that printout.

usage: gnutls_psk_client.py HOST PORT PRIORITY IDENTITY HEXKEY

Reads stdin to its end, sends it, then writes everything the server sends to stdout until the
server closes (close_notify, or a TCP close). What it negotiated goes to stderr as
`version: TLS1.2`, `suite: TLS_ECDHE_PSK_CHACHA20_POLY1305`, `description: ...`; a failure as
`error: <GnuTLS's words>` plus `alert received: <name> (<number>)` when the server sent one,
with exit status 1.
"""

import ctypes
import socket
import sys

GNUTLS_CLIENT = 1 << 1
GNUTLS_CRD_PSK = 4
GNUTLS_PSK_KEY_HEX = 1
GNUTLS_SHUT_WR = 1
GNUTLS_E_AGAIN = -28
GNUTLS_E_INTERRUPTED = -52
GNUTLS_E_WARNING_ALERT_RECEIVED = -16
GNUTLS_E_FATAL_ALERT_RECEIVED = -12
GNUTLS_E_PREMATURE_TERMINATION = -110


class Datum(ctypes.Structure):
    _fields_ = [("data", ctypes.c_char_p), ("size", ctypes.c_uint)]


def main():
    host, port, priority, identity, hexkey = sys.argv[1:6]
    lib = ctypes.CDLL("libgnutls.so.30")
    lib.gnutls_strerror.restype = ctypes.c_char_p
    lib.gnutls_alert_get_name.restype = ctypes.c_char_p
    lib.gnutls_protocol_get_name.restype = ctypes.c_char_p
    lib.gnutls_cipher_suite_get_name.restype = ctypes.c_char_p
    lib.gnutls_session_get_desc.restype = ctypes.c_void_p
    lib.gnutls_record_send.restype = ctypes.c_ssize_t
    lib.gnutls_record_recv.restype = ctypes.c_ssize_t
    lib.gnutls_record_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.gnutls_record_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]

    def fail(what, code):
        words = lib.gnutls_strerror(code).decode()
        print(f"error: {what}: {words}", file=sys.stderr)
        if code in (GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_E_WARNING_ALERT_RECEIVED):
            alert = lib.gnutls_alert_get(session)
            name = lib.gnutls_alert_get_name(alert).decode()
            print(f"alert received: {name} ({alert})", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(1)

    def check(what, code):
        if code < 0:
            fail(what, code)

    session = ctypes.c_void_p()
    check("gnutls_init", lib.gnutls_init(ctypes.byref(session), GNUTLS_CLIENT))
    err = ctypes.c_char_p()
    check(
        "priority " + priority,
        lib.gnutls_priority_set_direct(session, priority.encode(), ctypes.byref(err)),
    )
    cred = ctypes.c_void_p()
    check("credentials", lib.gnutls_psk_allocate_client_credentials(ctypes.byref(cred)))
    key = Datum(hexkey.encode(), len(hexkey))
    check(
        "PSK",
        lib.gnutls_psk_set_client_credentials(
            cred, identity.encode(), ctypes.byref(key), GNUTLS_PSK_KEY_HEX
        ),
    )
    check("credentials", lib.gnutls_credentials_set(session, GNUTLS_CRD_PSK, cred))

    sock = socket.create_connection((host, int(port)), timeout=20)
    # Blocking from here on: Python keeps a socket with a timeout non-blocking, which GnuTLS
    # would see as EAGAIN. The test that runs this kills it when it takes too long.
    sock.settimeout(None)
    lib.gnutls_transport_set_int2(session, sock.fileno(), sock.fileno())
    while True:
        code = lib.gnutls_handshake(session)
        if code >= 0:
            break
        if lib.gnutls_error_is_fatal(code):
            fail("handshake", code)

    version = lib.gnutls_protocol_get_version(session)
    print("version: " + lib.gnutls_protocol_get_name(version).decode(), file=sys.stderr)
    suite = lib.gnutls_cipher_suite_get_name(
        lib.gnutls_kx_get(session), lib.gnutls_cipher_get(session), lib.gnutls_mac_get(session)
    )
    print("suite: TLS_" + suite.decode(), file=sys.stderr)
    desc = lib.gnutls_session_get_desc(session)
    print("description: " + ctypes.string_at(desc).decode(), file=sys.stderr)
    sys.stderr.flush()

    data = sys.stdin.buffer.read()
    sent = 0
    while sent < len(data):
        chunk = data[sent : sent + 16384]
        n = lib.gnutls_record_send(session, chunk, len(chunk))
        if n in (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED):
            continue
        check("send", n)
        sent += n

    out = sys.stdout.buffer
    buf = ctypes.create_string_buffer(65536)
    while True:
        n = lib.gnutls_record_recv(session, buf, len(buf))
        if n in (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED):
            continue
        if n == 0:
            print("closed: close_notify", file=sys.stderr)
            break
        if n == GNUTLS_E_PREMATURE_TERMINATION:
            print("closed: without close_notify", file=sys.stderr)
            break
        check("receive", n)
        out.write(buf.raw[:n])
    out.flush()
    if n == 0:
        lib.gnutls_bye(session, GNUTLS_SHUT_WR)
    sock.close()


if __name__ == "__main__":
    main()
