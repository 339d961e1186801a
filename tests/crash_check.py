#!/usr/bin/env python3
# tests/crash_check.py - the registry and audit-log side of the crash
# trials (tests/crash_trials.sh): after a kill -9 and a restart, count what
# an acknowledgement promised and the store or the log no longer holds.
#
#   crash_check.py DB AUDIT_LOG STATE_DIR TRIAL [WAIT_SECONDS]
#
# STATE_DIR holds the harness's cumulative record of acknowledgements:
#   enr       "TRIAL PHASE USER TOKEN"  an acknowledged enrolment
#             (PHASE setup: acknowledged before the trial's revocations
#             were started; chaos: during them)
#   rev       "TRIAL USER"              an acknowledged revoke --all of USER
#   revid     "TRIAL USER TOKEN"        a token an acknowledged revoke named
#   held      "PID TOKEN USER"          this trial's open sessions (zm-login
#             --hold that printed SESSION OPEN)
#   fail_user the user of the failing logins
#
# Prints one "key=value" a line:
#   integrity_fail  PRAGMA integrity_check did not say ok (0/1)
#   lost_rev        acknowledged revocations not in force (tokens still
#                   active: named by the revoke, or acknowledged-enrolled
#                   for that user before the revoke started)
#   lost_enr        acknowledged enrolments missing from the registry
#   norec           revoked tokens without a revoke record in the audit log
#   pending         tokens/users still marked audit-pending
#   surviving       sessions of revoked tokens still running or still open
#                   in the registry WAIT_SECONDS (default 10) after the call
#   held_revoked    this trial's held sessions whose token is revoked
#   failures / failures_since   the failing user's counters
#   revoked_tokens  number of revoked tokens in the registry
#   victims_revoked "USER:TOKEN ..." held sessions' tokens now revoked
# Diagnostics go to stderr ("# ..." lines).
import json
import os
import sqlite3
import sys
import time


def connect(db):
    c = sqlite3.connect("file:" + db + "?mode=ro", uri=True, timeout=10)
    return c


def lines(path):
    try:
        with open(path) as f:
            return [ln.split() for ln in f if ln.strip()]
    except FileNotFoundError:
        return []


def proc_alive(pid):
    """Running (not gone, not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    state = st[st.rindex(")") + 2:].split()[0]
    return state != "Z"


def audit_revoked_ids(path):
    """Token ids that have a revoke record (a first one, or the recovered
    one; an "already revoked" record is a repeat and does not count)."""
    ids = set()
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ids
    with f:
        for ln in f:
            try:
                r = json.loads(ln)
            except ValueError:
                continue
            if r.get("event") != "revoke" or r.get("result") != "ok":
                continue
            detail = r.get("detail", "") or ""
            if detail.startswith("already revoked"):
                continue
            tok = r.get("token", "") or ""
            if tok.isdigit():
                ids.add(int(tok))
            if detail.startswith("tokens "):
                for t in detail[7:].split(","):
                    t = t.strip()
                    if t.isdigit():
                        ids.add(int(t))
    return ids


def main():
    db, audit, state, trial = sys.argv[1:5]
    wait = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    trial = int(trial)
    out = {}
    c = connect(db)

    res = [r[0] for r in c.execute("PRAGMA integrity_check")]
    out["integrity_fail"] = 0 if res == ["ok"] else 1
    if res != ["ok"]:
        print("# integrity_check: %s" % "; ".join(map(str, res[:5])),
              file=sys.stderr)

    tokens = {r[0]: (r[1], r[2]) for r in
              c.execute("SELECT id, user, state FROM tokens")}

    # Acknowledged enrolments exist, with their user.
    enr = lines(os.path.join(state, "enr"))
    lost_enr = 0
    for t, phase, user, tok in enr:
        tok = int(tok)
        if tok not in tokens or tokens[tok][0] != user:
            lost_enr += 1
            print("# lost enrolment: trial %s %s token %d of %s"
                  % (t, phase, tok, user), file=sys.stderr)
    out["lost_enr"] = lost_enr

    # Acknowledged revocations are in force.
    must = {}
    for t, user, tok in lines(os.path.join(state, "revid")):
        must[int(tok)] = (int(t), user, "named by the revoke")
    for t, user in lines(os.path.join(state, "rev")):
        t = int(t)
        for et, phase, euser, tok in enr:
            et = int(et)
            if euser == user and (et < t or (et == t and phase == "setup")):
                must.setdefault(int(tok), (t, user, "enrolled before it"))
    lost_rev = 0
    for tok, (t, user, why) in sorted(must.items()):
        st = tokens.get(tok)
        if st is None or st[1] == 0:
            lost_rev += 1
            print("# lost revocation: trial %d revoke --all %s: token %d "
                  "(%s) is %s" % (t, user, tok, why,
                                  "missing" if st is None else "active"),
                  file=sys.stderr)
    out["lost_rev"] = lost_rev

    # Store and audit log agree.
    recorded = audit_revoked_ids(audit)
    norec = [t for t, (u, s) in tokens.items() if s == 1 and t not in recorded]
    out["norec"] = len(norec)
    for t in norec[:10]:
        print("# revoked without an audit record: token %d of %s"
              % (t, tokens[t][0]), file=sys.stderr)
    out["revoked_tokens"] = sum(1 for (u, s) in tokens.values() if s == 1)
    out["pending"] = (
        c.execute("SELECT count(*) FROM tokens WHERE audit_pending <> 0")
        .fetchone()[0] +
        c.execute("SELECT count(*) FROM users WHERE audit_pending <> 0")
        .fetchone()[0])

    fu = open(os.path.join(state, "fail_user")).read().strip()
    row = c.execute("SELECT failures, failures_since FROM users "
                    "WHERE name = ?", (fu,)).fetchone() or (0, 0)
    out["failures"], out["failures_since"] = row

    # Sessions of revoked tokens end: the process is gone and the registry
    # closed the session, within WAIT seconds.
    held = [(int(p), int(t), u) for p, t, u in lines(os.path.join(state, "held"))]
    victims = [(p, t, u) for p, t, u in held
               if t in tokens and tokens[t][1] != 0]
    out["held_revoked"] = len(victims)
    out["victims_revoked"] = " ".join("%s:%d" % (u, t) for p, t, u in victims)
    deadline = time.monotonic() + wait
    while True:
        left = []
        for p, t, u in victims:
            if proc_alive(p):
                left.append((p, t, u, "still running"))
                continue
            n = c.execute("SELECT count(*) FROM sessions WHERE pid = ? AND "
                          "token_id = ? AND closed = 0", (p, t)).fetchone()[0]
            if n:
                left.append((p, t, u, "open in the registry"))
        # Any registry session of a revoked token still open.
        stale = c.execute(
            "SELECT s.id, s.pid, s.token_id, s.user FROM sessions s JOIN "
            "tokens t ON t.id = s.token_id WHERE s.closed = 0 AND "
            "t.state <> 0").fetchall()
        if (not left and not stale) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
        c.close()
        c = connect(db)
    surv = {(p, t) for p, t, u, w in left} | {(s[1], s[2]) for s in stale}
    out["surviving"] = len(surv)
    for p, t, u, w in left:
        print("# surviving session: pid %d token %d of %s: %s"
              % (p, t, u, w), file=sys.stderr)
    for s in stale:
        print("# registry: session %d (pid %d) of revoked token %d of %s "
              "is open" % s, file=sys.stderr)

    for k, v in out.items():
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
