#!/usr/bin/python3
"""db_env: the database under hostile environments, with the real binary (needs root).

    tests/env/db_env.py BUILD

Each case builds its own world in a temporary directory (a small tmpfs for a full disk,
a read-only remount, a truncated, garbage or damaged file, a user in the database's group
and one outside it) and checks that every command says what is really wrong (not
"schema version -1"), that a writer never writes into a damaged file, and that a full disk
leaves the previous state intact. No network: the resolver is a closed port on loopback,
so every domain ends UNKNOWN at once and the runs are quick. Python 3 standard library.
"""
import hashlib
import os
import pwd
import grp
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SW = os.path.join(BUILD, "stswatch")
errors = []
count = 0


def expect(cond, msg):
    global count
    count += 1
    if not cond:
        errors.append(msg)
    return cond


def sh(*argv, user=None, check=False):
    if user:
        argv = ["setpriv", "--reuid=%d" % user[0], "--regid=%d" % user[1],
                "--groups=%s" % ",".join(str(g) for g in user[2])] + list(argv)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s %s" % (" ".join(argv), p.stdout, p.stderr))
    return p


def conf(d, db, n=5):
    path = os.path.join(d, "stswatch.conf")
    with open(path, "w") as f:
        f.write('resolver = "127.0.0.1:9";\ndatabase = "%s";\n' % db)
        f.write('timeouts = { dns = "300ms"; dns_tries = 1; };\n')
        f.write("domains = (%s);\n" % ", ".join('"d%d.example"' % i for i in range(n)))
    return path


def run_once(c, **kw):
    return sh(SW, "run", "--once", "--all", "-q", "-c", c, **kw)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def said(p, *words):
    text = (p.stdout + p.stderr).lower()
    return all(w.lower() in text for w in words) and "schema version -1" not in text


def fresh_db(d, n=5, confdir=None):
    db = os.path.join(d, "state", "stswatch.db")
    c = conf(confdir or d, db, n)
    p = run_once(c)
    if p.returncode != 0:
        raise RuntimeError("setting up: %s %s" % (p.stdout, p.stderr))
    return db, c


def case_files(d):
    db, c = fresh_db(d, 30)
    # fold the WAL into the file so the damage below hits the real pages
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    good = open(db, "rb").read()

    # a truncated file
    with open(db, "wb") as f:
        f.write(good[:len(good) // 2 + 100])
    for cmd in (["status"], ["history", "d1.example"], ["db", "check"]):
        p = sh(SW, *cmd, "-c", c)
        expect(p.returncode != 0 and said(p, "damaged"),
               "truncated file: %s says %r" % (cmd[0], (p.stdout + p.stderr)[:300]))
    before = sha(db)
    p = run_once(c)
    expect(p.returncode == 1 and said(p, "damaged", "keep the file"),
           "truncated file: run --once: exit %d %r" % (p.returncode, p.stderr[:300]))
    expect(sha(db) == before, "truncated file: run --once changed the file")

    # garbage where the header is
    with open(db, "wb") as f:
        f.write(b"GARBAGE!" * 64 + good[512:])
    for cmd in (["status"], ["db", "check"], ["run", "--once"]):
        p = sh(SW, *cmd, "-c", c)
        expect(p.returncode != 0 and said(p, "not an sqlite database"),
               "garbage header: %s says %r" % (cmd[0], (p.stdout + p.stderr)[:300]))

    # garbage in the middle: db check fails, and a run refuses instead of writing on
    middle = (len(good) // 4096 // 2) * 4096
    with open(db, "wb") as f:
        f.write(good[:middle] + b"\xa5" * 4096 + good[middle + 4096:])
    before = sha(db)
    p = sh(SW, "db", "check", "-c", c)
    expect(p.returncode == 1, "damaged middle: db check exit %d" % p.returncode)
    p = run_once(c)
    expect(p.returncode == 1 and said(p, "damaged"),
           "damaged middle: run --once: exit %d %r" % (p.returncode, p.stderr[:300]))
    expect(sha(db) == before, "damaged middle: run --once wrote into the damaged file")


def mount_tmpfs(d, size):
    os.makedirs(d, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", d, check=True)


def fill(path):
    """Write zeros until the file system refuses one more byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)


def case_full_disk(d):
    m = os.path.join(d, "small")
    mount_tmpfs(m, "600k")
    try:
        db, c = fresh_db(m, 5, confdir=d)
        before = sh(SW, "status", "-c", c).stdout
        filler = os.path.join(m, "filler")
        fill(filler)
        # a run: every domain fails to record, each says "disk full"; nothing half-written
        with open(c) as f:
            text = f.read()
        with open(c, "w") as f:
            f.write(text.replace('"d4.example"', '"d4.example", ' + ", ".join(
                '"n%d.example"' % i for i in range(60))))
        p = run_once(c)
        expect(p.returncode == 1 and said(p, "disk full"),
               "full disk: run --once: exit %d %r" % (p.returncode, p.stderr[-400:]))
        expect("disk i/o error" not in p.stderr.lower(),
               "full disk: said disk I/O error: %r" % p.stderr[-300:])
        # readers when the -shm file cannot be made (gone, as after a copy): "disk full",
        # not "schema version -1"; the WAL's frames stay, the next open rebuilds the index
        shm = db + "-shm"
        if os.path.exists(shm):
            os.unlink(shm)
        fill(filler + "2")  # the space the -shm file held
        for cmd in (["status"], ["history", "d0.example"], ["db", "check"]):
            p = sh(SW, *cmd, "-c", c)
            expect(p.returncode != 0 and said(p, "disk full"),
                   "full disk, no -shm: %s: exit %d %r" % (cmd[0], p.returncode,
                                                          (p.stdout + p.stderr)[-300:]))
        os.unlink(filler + "2")
        os.unlink(filler)
        p = sh(SW, "db", "check", "-c", c)
        expect(p.returncode == 0, "full disk: db check after: %s" % p.stdout)
        after = sh(SW, "status", "-c", c, "d0.example", "d1.example", "d2.example",
                   "d3.example", "d4.example").stdout
        expect(after.split("\n")[:5] == before.split("\n")[:5] or "never" not in after,
               "full disk: the previous state changed: %r vs %r" % (before, after))
    finally:
        sh("umount", "-l", m)

    # a disk full before the database exists: the open itself says so
    mount_tmpfs(m, "64k")
    try:
        fill(os.path.join(m, "filler"))
        c = conf(d, os.path.join(m, "new.db"))
        p = run_once(c)
        expect(p.returncode == 1 and said(p, "disk full"),
               "full disk at open: exit %d %r" % (p.returncode, p.stderr[-300:]))
    finally:
        sh("umount", "-l", m)


def case_read_only(d):
    m = os.path.join(d, "ro")
    mount_tmpfs(m, "4m")
    try:
        db, c = fresh_db(m, 3)
        sh("mount", "-o", "remount,ro", m, check=True)
        p = run_once(c)
        expect(p.returncode == 1 and said(p, "read-only file system"),
               "read-only fs: run --once: exit %d %r" % (p.returncode, p.stderr[-300:]))
        p = sh(SW, "status", "-c", c)
        expect(p.returncode in (0, 1, 2, 3) and "d0.example" in p.stdout and
               "schema version" not in p.stderr,
               "read-only fs: status: exit %d %r %r" % (p.returncode, p.stdout[:200],
                                                       p.stderr[:300]))
    finally:
        sh("umount", "-l", m)


def case_group_reader(d):
    group, member, outsider = "stswtestgrp", "stswtestmem", "stswtestout"
    for u in (member, outsider):
        sh("userdel", u)
    sh("groupdel", group)
    sh("groupadd", group, check=True)
    sh("useradd", "-M", "-N", "-g", "nogroup", "-G", group, member, check=True)
    sh("useradd", "-M", "-N", "-g", "nogroup", outsider, check=True)
    try:
        base = os.path.join(d, "grp")
        os.makedirs(base)
        os.chmod(d, 0o755)
        os.chmod(base, 0o755)
        db, c = fresh_db(base, 3)
        state = os.path.dirname(db)
        gid = grp.getgrnam(group).gr_gid
        # the shipped layout: the state directory 0750 and the database 0640, group stswatch
        for path in [state] + [os.path.join(state, f) for f in os.listdir(state)]:
            os.chown(path, 0, gid)
        os.chmod(state, 0o750)
        os.chmod(c, 0o644)
        m = pwd.getpwnam(member)
        p = sh(SW, "status", "-c", c, user=(m.pw_uid, m.pw_gid, [gid]))
        expect(p.returncode in (0, 1, 2, 3) and "d0.example" in p.stdout,
               "group member: status: exit %d %r" % (p.returncode, p.stderr[:300]))
        p = sh(SW, "db", "check", "-c", c, user=(m.pw_uid, m.pw_gid, [gid]))
        expect(p.returncode == 0, "group member: db check: %r %r" % (p.stdout, p.stderr[:300]))
        o = pwd.getpwnam(outsider)
        p = sh(SW, "status", "-c", c, user=(o.pw_uid, o.pw_gid, [o.pw_gid]))
        expect(p.returncode != 0 and said(p, "permission denied"),
               "outsider: status: exit %d %r" % (p.returncode, p.stderr[:300]))
        # the daemon's user after a writer has run: the files it left are group-readable
        for f in os.listdir(state):
            mode = os.stat(os.path.join(state, f)).st_mode & 0o777
            expect(mode & 0o007 == 0, "%s is world-accessible (%o)" % (f, mode))
    finally:
        for u in (member, outsider):
            sh("userdel", u)
        sh("groupdel", group)


def main():
    if os.geteuid() != 0:
        print("db_env: needs root (tmpfs mounts, users); skipped is not passed", file=sys.stderr)
        return 1
    cases = [("files", case_files), ("full-disk", case_full_disk),
             ("read-only", case_read_only), ("group-reader", case_group_reader)]
    failed = 0
    for name, fn in cases:
        d = tempfile.mkdtemp(prefix="stswatch-env-")
        before = len(errors)
        try:
            fn(d)
        except Exception as e:  # a broken set-up is a failure, never a skip
            errors.append("%s: %s" % (name, e))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        bad = errors[before:]
        print("%s  %-13s %s" % ("FAIL" if bad else "ok  ", name, "; ".join(bad)[:2000]))
        failed += bool(bad)
    print("db_env: %d expectations, %d failed" % (count, len(errors)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
