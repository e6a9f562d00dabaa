# SPDX-License-Identifier: MIT
"""TCP clients run inside the client namespace for the integration tests.
Each prints one JSON line with what it saw; it never decides pass/fail
itself beyond reporting mismatches.

  tcp_client.py echo-many HOST PORT N MAX_BYTES SEED
      N concurrent connections, each sends a random-length random payload,
      reads everything back and compares SHA-256 digests.
  tcp_client.py echo-one HOST PORT BYTES
      one connection, BYTES each way (sender and receiver run together).
  tcp_client.py source HOST PORT BYTES [HOLD_SECONDS]
      read the source app's stream (optionally holding the window closed
      first: a tiny receive buffer and no reads for HOLD_SECONDS) and
      compare it with the pattern it must follow.
  tcp_client.py discard HOST PORT BYTES
      send BYTES and expect a clean close.
  tcp_client.py hold HOST PORT N
      open N connections, report how many were accepted and refused, keep
      the accepted ones open until stdin closes.

Each socket call of echo-one, source and discard may block PC_IO_TIMEOUT
seconds (default 30): through heavy loss one segment can be lost several
times in a row while the retransmission timers double, so tests of that
give every call their whole deadline.
"""
import asyncio
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time

IO_TIMEOUT = float(os.environ.get("PC_IO_TIMEOUT", "30"))


def pattern_block(block):
    """Bytes 65536*block .. of the source app's stream (see
    dataplane/apps/apps.h: pc_app_pattern)."""
    base = bytes(((j * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for j in range(65536))
    key = block & 0xFF
    return bytes(b ^ key for b in base) if key else base


_BLOCKS = {}


def pattern(offset, n):
    out = bytearray()
    while n:
        block, off = divmod(offset, 65536)
        k = block & 0xFF
        if k not in _BLOCKS:
            _BLOCKS[k] = pattern_block(k)
        take = min(n, 65536 - off)
        out += _BLOCKS[k][off:off + take]
        offset += take
        n -= take
    return bytes(out)


async def echo_conn(host, port, size, rng):
    payload = rng.randbytes(size)
    reader, writer = await asyncio.open_connection(host, port)

    async def send():
        view = memoryview(payload)
        for i in range(0, len(view), 65536):
            writer.write(view[i:i + 65536])
            await writer.drain()
        writer.write_eof()

    sender = asyncio.create_task(send())
    got = hashlib.sha256()
    n = 0
    while True:
        b = await reader.read(1 << 16)
        if not b:
            break
        got.update(b)
        n += len(b)
    await sender
    writer.close()
    if n != size or got.digest() != hashlib.sha256(payload).digest():
        return f"got {n} of {size} bytes, digest {'ok' if got.digest() == hashlib.sha256(payload[:n]).digest() else 'differs'}"
    return True


async def echo_many(host, port, n, max_bytes, seed):
    rng = random.Random(seed)
    sizes = [rng.randint(1, max_bytes) for _ in range(n)]
    rngs = [random.Random(seed * 1000 + i) for i in range(n)]
    t0 = time.monotonic()
    results = await asyncio.gather(*(echo_conn(host, port, s, r) for s, r in zip(sizes, rngs)),
                                   return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    errors = [repr(r) for r in results if r is not True][:5]
    return {"ok": ok, "failed": n - ok, "bytes": sum(sizes), "errors": errors,
            "seconds": round(time.monotonic() - t0, 2)}


def echo_one(host, port, total):
    s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    chunk = os.urandom(1 << 20)
    sent_hash = hashlib.sha256()

    def sender():
        left = total
        while left:
            c = chunk[:min(left, len(chunk))]
            s.sendall(c)
            sent_hash.update(c)
            left -= len(c)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=sender)
    t0 = time.monotonic()
    t.start()
    got = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got.update(b)
        n += len(b)
    t.join()
    dt = time.monotonic() - t0
    s.close()
    return {"bytes": n, "match": n == total and got.digest() == sent_hash.digest(),
            "gbps": round(n * 8 / dt / 1e9, 3)}


def source(host, port, total, hold):
    s = socket.socket()
    if hold:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(IO_TIMEOUT)
    s.connect((host, port))
    if hold:
        time.sleep(hold)
    h = hashlib.sha256()
    n = 0
    expect = hashlib.sha256()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        expect.update(pattern(n, len(b)))
        n += len(b)
    s.close()
    return {"bytes": n, "match": n == total and h.digest() == expect.digest()}


def discard(host, port, total):
    s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    chunk = os.urandom(1 << 16)
    left = total
    while left:
        c = chunk[:min(left, len(chunk))]
        s.sendall(c)
        left -= len(c)
    s.shutdown(socket.SHUT_WR)
    clean = s.recv(1) == b""
    s.close()
    return {"bytes": total, "clean_close": clean}


def hold(host, port, n):
    socks, refused, other = [], 0, []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((host, port))
            # An accepted connection must also carry data.
            s.sendall(b"ping")
            if s.recv(4) != b"ping":
                other.append("no echo")
            socks.append(s)
        except ConnectionRefusedError:
            refused += 1
            s.close()
        except OSError as e:
            other.append(repr(e))
            s.close()
    print(json.dumps({"accepted": len(socks), "refused": refused, "errors": other[:5]}),
          flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()
    return None


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    if mode == "echo-many":
        out = asyncio.run(echo_many(host, port, *args))
    elif mode == "echo-one":
        out = echo_one(host, port, *args)
    elif mode == "source":
        out = source(host, port, args[0], args[1] if len(args) > 1 else 0)
    elif mode == "discard":
        out = discard(host, port, *args)
    elif mode == "hold":
        out = hold(host, port, *args)
    else:
        sys.exit(f"unknown mode {mode}")
    if out is not None:
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
