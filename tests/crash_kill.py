#!/usr/bin/env python3
# tests/crash_kill.py - the SIGKILL of a crash trial (tests/crash_trials.sh).
#
#   crash_kill.py PID AUDIT_LOG GO_FILE DONE_FILE records K JITTER_US
#   crash_kill.py PID AUDIT_LOG GO_FILE DONE_FILE ms D
#   crash_kill.py PID AUDIT_LOG GO_FILE DONE_FILE revoked N JITTER_US DB
#
# Started ahead (its start-up costs nothing then), it waits for GO_FILE,
# then kills PID with SIGKILL:
#   records K: JITTER_US microseconds after the K-th new audit record
#              (K = 0: at once), so the kill lands in the middle of the
#              work whatever the machine's load;
#   ms D:      D milliseconds after GO_FILE;
#   revoked N: JITTER_US microseconds after the registry DB shows N more
#              revoked tokens (a revocation durable, its record and the
#              ending of its sessions perhaps not yet done);
# or as soon as DONE_FILE exists (every client has finished).  Prints
# what it waited for and the records seen.
import os
import signal
import sys
import time


def size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def main():
    pid = int(sys.argv[1])
    log, go, done, mode, arg = sys.argv[2:7]
    jitter = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    db = None
    if mode == "revoked":
        import sqlite3
        db = sqlite3.connect("file:" + sys.argv[8] + "?mode=ro", uri=True,
                             timeout=5, isolation_level=None)
        q = "SELECT count(*) FROM tokens WHERE state = 1"
    arg = int(arg)
    # Gone with its trial: no kill (the directory went, or 5 minutes).
    limit = time.monotonic() + 300
    while not os.path.exists(go):
        if os.path.exists(done) or not os.path.isdir(os.path.dirname(go)) \
                or time.monotonic() > limit:
            return
        time.sleep(0.001)
    pos = size(log)
    seen = 0
    if db is not None:
        base = db.execute(q).fetchone()[0]
    t0 = time.monotonic()
    why = "done"
    while True:
        if mode == "ms" and (time.monotonic() - t0) * 1000 >= arg:
            why = "time"
            break
        n = size(log)
        if n > pos:
            with open(log, "rb") as f:
                f.seek(pos)
                data = f.read(n - pos)
            # Whole lines only.
            cut = data.rfind(b"\n") + 1
            seen += data[:cut].count(b"\n")
            pos += cut
        if db is not None:
            try:
                if db.execute(q).fetchone()[0] >= base + arg:
                    if jitter:
                        time.sleep(jitter / 1e6)
                    why = "revoked"
                    break
            except Exception:
                pass
        if mode == "records" and seen >= arg:
            if jitter:
                time.sleep(jitter / 1e6)
            why = "records"
            break
        if os.path.exists(done) or time.monotonic() > limit:
            break
        time.sleep(0.0005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    print("%s %d %.0f" % (why, seen, (time.monotonic() - t0) * 1000))


if __name__ == "__main__":
    main()
