#!/usr/bin/env python3
"""Differential check of berth against runc main.

Every config case (configs.py) is run by both runtimes (`run` in the
foreground, its probe's output captured); every command case (commands.py)
is run by both against running containers of their own. A case differs
when one runtime succeeds and the other fails, or when both succeed with
different output. Differences listed in expected-differences.txt (with
their reason) are reported but do not fail; any other fails the run.

Run by run.sh, inside a private mount namespace, as root. Usage:
  diff.py BERTH RUNC WORKDIR [NAME-SUBSTRING...]
DIFF_VERBOSE=1 prints every case's result for both runtimes.
"""
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Ctx:
    def __init__(self, berth, runc, work):
        self.berth, self.runc, self.work = berth, runc, work
        self.rootfs = os.path.join(work, "rootfs")
        self.src = os.path.join(work, "src")

    def runtime(self, tag):
        return self.berth if tag == "b" else self.runc


def prepare(ctx):
    """A private copy of the busybox rootfs (cases write into it) and the
    host-side sources the mount cases bind."""
    shutil.rmtree(ctx.work, ignore_errors=True)
    os.makedirs(ctx.src)
    shutil.copytree(os.path.join(REPO, "tests/rootfs/busybox"), ctx.rootfs, symlinks=True)
    os.symlink("/proc/sys", os.path.join(ctx.rootfs, "psys"))
    with open(os.path.join(ctx.src, "file"), "w") as f:
        f.write("fake\n")
    os.symlink(ctx.src, os.path.join(ctx.work, "srclink"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(ctx.work, "sock"))
    s.close()
    base = os.path.join(ctx.work, "base")
    os.makedirs(base)
    subprocess.run([ctx.runc, "spec"], cwd=base, check=True)
    with open(os.path.join(base, "config.json")) as f:
        return json.load(f)


def run_config_case(ctx, base, name, probe, muts):
    cfg = copy.deepcopy(base)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sh", "-c", probe]
    cfg["root"]["path"] = ctx.rootfs
    for m in muts:
        m(cfg, ctx)
    cfg = json.loads(json.dumps(cfg).replace("@SRC@", ctx.src).replace("@WORK@", ctx.work))
    d = os.path.join(ctx.work, "bundles", name)
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    res = {}
    for tag in ("b", "r"):
        rt = ctx.runtime(tag)
        root = os.path.join(ctx.work, "root-" + tag)
        cid = f"df{tag}-{name}"[:60]
        try:
            p = subprocess.run([rt, "--root", root, "run", "--bundle", d, cid], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=30, text=True)
            res[tag] = (p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired:
            res[tag] = ("timeout", "", "")
        subprocess.run([rt, "--root", root, "delete", "-f", cid], capture_output=True)
    return res


def start_container(ctx, base, tag, cid):
    d = os.path.join(ctx.work, "bundles2", cid)
    os.makedirs(d)
    cfg = copy.deepcopy(base)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sleep", "1000"]
    cfg["root"]["path"] = ctx.rootfs
    cfg["linux"]["cgroupsPath"] = f"/berth-differential/{cid}"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    err = os.path.join(ctx.work, "start.err")
    with open(err, "w") as ef:
        # The container's stdio must not be a pipe of ours: run -d returns
        # while it lives.
        p = subprocess.run([ctx.runtime(tag), "--root", os.path.join(ctx.work, "root2-" + tag), "run", "-d",
                            "--bundle", d, cid], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef,
                           timeout=30)
    if p.returncode != 0:
        sys.exit(f"differential: could not start {cid} with {ctx.runtime(tag)}: {open(err).read()}")


def make_fresh_bundle(ctx, base, tag):
    """The bundle of the containers a command case makes itself (FRESH):
    `true`, in a cgroup of its own under the check's parent (one such
    container lives at a time: the case's leftovers are deleted after it)."""
    d = os.path.join(ctx.work, "bundles2", "fresh-" + tag)
    os.makedirs(d)
    os.makedirs(os.path.join(ctx.work, "specdir-" + tag))
    cfg = copy.deepcopy(base)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["true"]
    cfg["root"]["path"] = ctx.rootfs
    cfg["linux"]["cgroupsPath"] = f"/berth-differential/fresh-{tag}"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)


def wait_stopped(ctx, tag, cid):
    """Polls `state` until the container is stopped (10 s deadline): a
    killed init takes a moment to die, and a zombie counts as stopped."""
    root = os.path.join(ctx.work, "root2-" + tag)
    deadline = time.monotonic() + 10
    while True:
        p = subprocess.run([ctx.runtime(tag), "--root", root, "state", cid], capture_output=True, text=True)
        st = json.loads(p.stdout).get("status") if p.returncode == 0 else None
        if st == "stopped" or time.monotonic() > deadline:
            return (0 if st == "stopped" else 1), "", f"status {st}"
        time.sleep(0.05)


def run_step(ctx, tag, args, inp, norm):
    a = [x.replace("ID3", f"c{tag}3").replace("ID2", f"c{tag}2").replace("ID", f"c{tag}1")
         .replace("FRESH", os.path.join(ctx.work, "bundles2", "fresh-" + tag))
         .replace("BUNDLES", os.path.join(ctx.work, "bundles2")).replace("@WORK@", ctx.work)
         .replace("@TAG@", tag) for x in args]
    if a[0] == "@wait-stopped":
        return wait_stopped(ctx, tag, a[1])
    if inp is not None and a[:2] == ["exec", "--process"]:
        path = os.path.join(ctx.work, "process.json")
        with open(path, "w") as f:
            f.write(inp)
        a[2], stdin = path, None
    else:
        stdin = inp
    # Output to files, not pipes: a container that create or run -d leaves
    # behind holds its stdio open, and a pipe would not end while it lives.
    outp, errp = os.path.join(ctx.work, "step.out"), os.path.join(ctx.work, "step.err")
    try:
        with open(outp, "w") as of, open(errp, "w") as ef:
            # In the work directory: a relative --pid-file lands there.
            p = subprocess.run([ctx.runtime(tag), "--root", os.path.join(ctx.work, "root2-" + tag), *a],
                               input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                               stdout=of, stderr=ef, timeout=30, text=True, cwd=ctx.work)
    except subprocess.TimeoutExpired:
        return "timeout", "", ""
    with open(outp) as of, open(errp) as ef:
        out, err = of.read(), ef.read()
    if norm:
        try:
            out = norm(out)
        except Exception as e:  # noqa: BLE001 - a probe that cannot be read is a difference
            out = f"unreadable ({e}): {out}"
    return p.returncode, out, err


def run_command_case(ctx, name, args, inp, norm):
    """One command, or a sequence of them (a list of argvs: the result is
    the last one's status, the output every step's success and output;
    the normaliser applies to each step)."""
    res = {}
    seq = bool(args) and isinstance(args[0], list)
    for tag in ("b", "r"):
        if not seq:
            res[tag] = run_step(ctx, tag, args, inp, norm)
        else:
            outs, last = [], None
            for st in args:
                last = run_step(ctx, tag, st, inp, norm)
                outs.append(("ok" if last[0] == 0 else "fail") + ": " + last[1].strip())
            res[tag] = (last[0], "\n".join(outs), last[2])
        remove_fresh(ctx, tag)
    return res


def remove_fresh(ctx, tag):
    """Deletes every container of tag's root but the three long-lived ones."""
    root = os.path.join(ctx.work, "root2-" + tag)
    p = subprocess.run([ctx.runtime(tag), "--root", root, "list", "-q"], capture_output=True, text=True)
    for cid in p.stdout.split():
        if cid not in (f"c{tag}1", f"c{tag}2", f"c{tag}3"):
            subprocess.run([ctx.runtime(tag), "--root", root, "delete", "-f", cid], capture_output=True)


def differs(res):
    b, r = res["b"], res["r"]
    return (b[0] == 0) != (r[0] == 0) or (b[0] == 0 and b[1] != r[1])


def one_line(s, n):
    return s.strip().replace("\n", " | ")[-n:]


def load_expected():
    exp = {}
    with open(os.path.join(HERE, "expected-differences.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, reason = line.rstrip("\n").split("\t", 1)
            exp[name] = reason
    return exp


def main():
    berth, runc, work = sys.argv[1:4]
    only = sys.argv[4:]
    ctx = Ctx(berth, runc, work)
    base = prepare(ctx)
    sys.path.insert(0, HERE)
    import configs
    import commands
    expected = load_expected()
    seen, unexpected, n = set(), [], 0

    def report(name, res):
        nonlocal n
        n += 1
        if os.environ.get("DIFF_VERBOSE"):
            for t in ("b", "r"):
                print(f"  {name} [{t}] exit {res[t][0]}: {one_line(res[t][1], 200)} / {one_line(res[t][2], 200)}")
        if not differs(res):
            return
        b, r = res["b"], res["r"]
        seen.add(name)
        tag = "expected" if name in expected else "DIFFERS"
        print(f"{tag}: {name}: berth exit {b[0]}, runc exit {r[0]}")
        if b[0] == 0 and r[0] == 0:
            print(f"  berth: {one_line(b[1], 300)}\n  runc:  {one_line(r[1], 300)}")
        else:
            print(f"  berth: {one_line(b[2] or b[1], 300)}\n  runc:  {one_line(r[2] or r[1], 300)}")
        if name not in expected:
            unexpected.append(name)

    for name, probe, muts in configs.CASES:
        if not only or any(o in name for o in only):
            report(name, run_config_case(ctx, base, name, probe, muts))
    cmds = [c for c in commands.CASES if not only or any(o in c[0] for o in only)]
    if cmds:
        for tag in ("b", "r"):
            make_fresh_bundle(ctx, base, tag)
            for i in (1, 2, 3):
                start_container(ctx, base, tag, f"c{tag}{i}")
        try:
            for name, args, inp, norm in cmds:
                report(name, run_command_case(ctx, name, args, inp, norm))
        finally:
            for tag in ("b", "r"):
                remove_fresh(ctx, tag)
                for i in (1, 2, 3):
                    subprocess.run([ctx.runtime(tag), "--root", os.path.join(ctx.work, "root2-" + tag), "delete",
                                    "-f", f"c{tag}{i}"], capture_output=True)
    gone = [e for e in expected if e not in seen and (not only or any(o in e for o in only))]
    print(f"differential: {n} cases, {len(seen)} differ ({len(seen) - len(unexpected)} expected), "
          f"{len(unexpected)} unexpected; {len(gone)} listed but the same now: {' '.join(gone)}")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
