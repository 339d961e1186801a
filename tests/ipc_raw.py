#!/usr/bin/env python3
# ipc_raw.py SOCKET TYPE [TAG=u64:VALUE | TAG=u32:VALUE | TAG=str:TEXT]...
# Sends one raw request to zonemfa-tokend (common/ipc.h framing) and prints
# "status N" from the first RESULT: lets tests speak the protocol directly,
# as a caller that does not go through our own clients would.
import socket, struct, sys

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


s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
body = b"".join(field(a) for a in sys.argv[3:])
s.sendall(struct.pack(">IHHI", MAGIC, VERSION, int(sys.argv[2], 0), len(body)) + body)
while True:
    magic, ver, typ, blen = struct.unpack(">IHHI", full(s, 12))
    body, i = full(s, blen), 0
    if typ != 0x100:            # INFO / ROW: skip to the RESULT
        continue
    while i < len(body):
        tag, ln = struct.unpack(">HI", body[i:i + 6])
        if tag == T_STATUS:
            print("status %d" % struct.unpack(">I", body[i + 6:i + 10])[0])
        i += 6 + ln
    break
