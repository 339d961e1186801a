#!/usr/bin/env python3
# flood.py - a hostile local caller of zonemfa-tokend, for it_flood.sh and
# scripts/bench --flood (run it as an unprivileged uid).
#
#   flood.py flood SOCKET SECONDS NCONN
#       prints "pid N", opens NCONN connections and keeps each full of
#       requests the daemon refuses (ENROLL_TOTP from a non-staff caller),
#       reading the replies, for SECONDS or until SIGTERM; then reads the
#       replies in flight for 2 s and prints one line of counts:
#       "sent N replies N perm N served_conns N refused_conns N"
#       (sent: written into the socket, where a request the daemon
#       delays waits; served_conns: connections that got a reply;
#       refused_conns: closed by the daemon before any reply).
#   flood.py dribble SOCKET INTERVAL LIMIT
#       sends a request one byte every INTERVAL seconds and prints
#       "closed after S" when the daemon closes the connection, or
#       "open after S" when LIMIT seconds have passed.
import os, selectors, signal, socket, struct, sys, time

MAGIC, VERSION = 0x5A4D4631, 1
REQ_ENROLL_TOTP, REP_RESULT, T_USER, T_STATUS = 0x20, 0x100, 1, 8
BATCH = 64


def request(user=b"alice"):
    body = struct.pack(">HI", T_USER, len(user)) + user
    return struct.pack(">IHHI", MAGIC, VERSION, REQ_ENROLL_TOTP,
                       len(body)) + body


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.setblocking(False)
        self.out = b""
        self.inp = b""
        self.replies = 0
        self.closed = False


def parse(c, stats):
    while len(c.inp) >= 12:
        magic, ver, typ, blen = struct.unpack(">IHHI", c.inp[:12])
        if len(c.inp) < 12 + blen:
            return
        body, c.inp = c.inp[12:12 + blen], c.inp[12 + blen:]
        if typ != REP_RESULT:
            continue
        c.replies += 1
        stats["replies"] += 1
        i = 0
        while i + 6 <= len(body):
            tag, ln = struct.unpack(">HI", body[i:i + 6])
            if tag == T_STATUS and ln == 4 and \
                    struct.unpack(">I", body[i + 6:i + 10])[0] == 7:
                stats["perm"] += 1
            i += 6 + ln


def flood(path, seconds, nconn):
    print("pid %d" % os.getpid(), flush=True)
    stats = {"sent": 0, "replies": 0, "perm": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(nconn):
        try:
            c = Conn(path)
        except OSError:
            continue
        conns.append(c)
        sel.register(c.s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    one = request()
    end = time.monotonic() + seconds
    drain_end = end + 2.0
    while True:
        now = time.monotonic()
        if stop and now < end:
            end, drain_end = now, now + 2.0
        if now >= drain_end or not sel.get_map():
            break
        sending = now < end
        for key, ev in sel.select(timeout=0.2):
            c = key.data
            try:
                if ev & selectors.EVENT_READ:
                    data = c.s.recv(65536)
                    if not data:
                        raise ConnectionResetError()
                    c.inp += data
                    parse(c, stats)
                if ev & selectors.EVENT_WRITE and sending:
                    if not c.out:
                        c.out = one * BATCH
                    n = c.s.send(c.out)
                    stats["sent"] += (len(c.out) - len(c.out[n:])) // len(one)
                    c.out = c.out[n:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                c.closed = True
                sel.unregister(c.s)
                c.s.close()
        if not sending:
            # Stop writing; let the replies in flight arrive.
            for key in list(sel.get_map().values()):
                sel.modify(key.fileobj, selectors.EVENT_READ, key.data)
    served = sum(1 for c in conns if c.replies > 0)
    refused = sum(1 for c in conns if c.replies == 0 and c.closed)
    print("sent %d replies %d perm %d served_conns %d refused_conns %d" % (
        stats["sent"], stats["replies"], stats["perm"], served, refused))


def dribble(path, interval, limit):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    msg = request()
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < limit:
        try:
            if i < len(msg) - 1:       # never complete the message
                s.send(msg[i:i + 1])
                i += 1
        except OSError:
            break
        s.settimeout(interval)
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    else:
        print("open after %.1f" % (time.monotonic() - start))
        return
    print("closed after %.1f" % (time.monotonic() - start))


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "dribble":
        dribble(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: flood.py flood SOCKET SECONDS NCONN | "
                 "dribble SOCKET INTERVAL LIMIT")
