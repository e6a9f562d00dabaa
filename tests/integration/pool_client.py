# SPDX-License-Identifier: MIT
"""The client side of test_memory.py's empty-pool test, against
portcullis's echo app with a pool of three buffers (the last kept for
sending): ADDR PORT. Runs step by step, printing what it did and waiting
for a "go" line on stdin before the next step, so the test can read
portcullis's counters in between:

  filling   D connected (idle); A (a tiny receive buffer) sends A_BYTES
            without reading what comes back, so portcullis's send and
            receive buffers for A fill: two of the three, none left to
            receive into
  c-refused a new connection C was refused
  d-sent    D sent a first piece (dropped: no buffer; the kernel sends it
            again)
  done      A's client reads; then A and D each finish a hashed echo
            transfer, and C connects and does one; a JSON line follows:
            {"A": ok, "D": ok, "C": ok}

Every socket call has a 60 s limit: a stall fails instead of hanging."""
import hashlib
import json
import os
import socket
import sys
import threading

A_BYTES = 1 << 20
PIECE = 1000
REST = 200 * 1024


def connect(addr, port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(60)
    s.connect((addr, port))
    return s


def recv_exactly(s, n):
    h = hashlib.sha256()
    got = 0
    while got < n:
        b = s.recv(min(1 << 16, n - got))
        if not b:
            break
        h.update(b)
        got += len(b)
    return got, h.hexdigest()


def sender(s, data):
    t = threading.Thread(target=s.sendall, args=(data,), daemon=True)
    t.start()
    return t


def finish(s, sent, rest):
    """Send rest after what was already sent, read everything back and
    compare the digests."""
    t = sender(s, rest)
    got, digest = recv_exactly(s, len(sent) + len(rest))
    t.join(60)
    s.close()
    return got == len(sent) + len(rest) and digest == hashlib.sha256(sent + rest).hexdigest()


def step(name):
    print(name, flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    d = connect(addr, port)
    a = connect(addr, port, rcvbuf=4096)
    a_data = os.urandom(A_BYTES)
    a_send = sender(a, a_data)
    step("filling")
    try:
        connect(addr, port).close()
        print("c-connected", flush=True)
        sys.exit(1)
    except ConnectionRefusedError:
        print("c-refused", flush=True)
    d_first = os.urandom(PIECE)
    d.sendall(d_first)
    step("d-sent")
    got, digest = recv_exactly(a, A_BYTES)
    a_send.join(60)
    a.close()
    result = {"A": got == A_BYTES and digest == hashlib.sha256(a_data).hexdigest()}
    result["D"] = finish(d, d_first, os.urandom(REST))
    result["C"] = finish(connect(addr, port), b"", os.urandom(REST))
    print("done", flush=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
