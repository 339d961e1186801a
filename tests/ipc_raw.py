#!/usr/bin/env python3
# ipc_raw.py SOCKET TYPE [FIELD]... [--then PATH TYPE [FIELD]...]...
# FIELD: TAG=u64:VALUE | TAG=u32:VALUE | TAG=str:TEXT
# Sends raw requests to zonemfa-tokend (common/ipc.h framing) on one
# connection and prints "status N" from the RESULT of each: lets tests
# speak the protocol directly, as a caller that does not go through our
# own clients would.  "--then PATH" waits until PATH exists before the
# next request (the same connection: state that must not be cached on it).
import os, socket, struct, sys, time

MAGIC, VERSION, T_STATUS = 0x5A4D4631, 1, 8


def field(spec):
    tag, val = spec.split("=", 1)
    kind, val = val.split(":", 1)
    data = {"u64": lambda v: struct.pack(">Q", int(v)),
            "u32": lambda v: struct.pack(">I", int(v)),
            "str": lambda v: v.encode()}[kind](val)
    return struct.pack(">HI", int(tag), len(data)) + data


def full(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("ipc_raw: short reply")
        b += c
    return b


def request(s, typ, fields):
    body = b"".join(field(a) for a in fields)
    s.sendall(struct.pack(">IHHI", MAGIC, VERSION, typ, len(body)) + body)
    while True:
        magic, ver, rtyp, blen = struct.unpack(">IHHI", full(s, 12))
        body, i = full(s, blen), 0
        if rtyp != 0x100:           # INFO / ROW: skip to the RESULT
            continue
        while i < len(body):
            tag, ln = struct.unpack(">HI", body[i:i + 6])
            if tag == T_STATUS:
                print("status %d" % struct.unpack(">I", body[i + 6:i + 10])[0],
                      flush=True)
            i += 6 + ln
        return


s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
args = sys.argv[2:]
while args:
    if args[0] == "--then":
        deadline = time.time() + 20
        while not os.path.exists(args[1]):
            if time.time() > deadline:
                sys.exit("ipc_raw: %s did not appear" % args[1])
            time.sleep(0.02)
        args = args[2:]
        continue
    n = args.index("--then") if "--then" in args else len(args)
    request(s, int(args[0], 0), args[1:n])
    args = args[n:]
