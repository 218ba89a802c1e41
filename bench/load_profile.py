"""System calls, context switches and CPU per request of targets under wrk, counted by the
kernel (perf stat's software events and syscall tracepoints on every thread of the target's
processes), not by instrumenting them: what callgrind does not see, the kernel's share and
the hand-overs between threads.

The targets run one after another, each round in the same order, with bench.py's
configuration (its Apache configs and peers); give several rounds on a shared machine.

    /usr/bin/python3 bench/load_profile.py --scenario flask --targets swsgi,granian,mod_wsgi,floor
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

# The system calls worth naming; the rest count in "syscalls" only.
NAMED = ["futex", "epoll_wait", "epoll_pwait", "epoll_ctl", "read", "readv", "write", "writev", "sendfile64",
         "recvfrom", "sendto", "recvmsg", "sendmsg", "poll", "newfstatat", "openat", "close",
         "getpid", "accept4", "shutdown", "setsockopt", "sched_yield", "mmap", "munmap"]
EVENTS = (["task-clock", "context-switches", "cpu-migrations", "raw_syscalls:sys_enter"]
          + ["syscalls:sys_enter_" + n for n in NAMED])


def voluntary_switches(pids):
    """(voluntary, nonvoluntary) context switches of every thread of pids."""
    vol = nonvol = 0
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            vol += int(line.split()[1])
                        elif line.startswith("nonvoluntary_ctxt_switches:"):
                            nonvol += int(line.split()[1])
            except OSError:
                pass
    return vol, nonvol


def shares(data):
    """{"cpu% <object>": share} of perf record's samples, by shared object ([kernel] included)."""
    p = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "dso"],
                       capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
        if m and float(m.group(1)) >= 1:
            out["cpu% " + m.group(2)] = float(m.group(1))
    return out


def measure(b, target, scenario, mode, duration, record):
    """{counter: per request} over one wrk run of duration seconds, after a warm-up; with
    record, also where the CPU went (perf record's cpu-clock samples)."""
    pid = b.start(target, scenario, mode)
    try:
        problem = b.check(scenario)
        if problem:
            raise RuntimeError("%s: wrong response: %s" % (target, problem))
        b.wrk(scenario, 1)
        pids = sorted(b.instance(pid))
        out = os.path.join(b.root, "perf.%s" % target)
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-e", ",".join(EVENTS),
                                 "-p", ",".join(map(str, pids))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recorder = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", out + ".data",
                                     "-p", ",".join(map(str, pids))],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if record else None
        switches = voluntary_switches(pids)
        w = b.wrk(scenario, duration)
        after = voluntary_switches(pids)
        perf.send_signal(2)
        if recorder:
            recorder.send_signal(2)
            recorder.wait(timeout=60)
        if perf.wait(timeout=30) not in (0, -2) or not os.path.exists(out):
            raise RuntimeError("perf stat failed (rc=%s)" % perf.returncode)
    finally:
        b.stop(target, pid)
    n = w["requests"]
    counts = dict(rps=n * 1e6 / w["duration_us"], voluntary=(after[0] - switches[0]) / n,
                  nonvoluntary=(after[1] - switches[1]) / n)
    for line in open(out):
        fields = line.strip().split(",")
        if len(fields) < 3 or not re.match(r"[\d.]+$", fields[0]):
            continue
        name = fields[2].replace("syscalls:sys_enter_", "").replace("raw_syscalls:sys_enter", "syscalls")
        value = float(fields[0])
        counts[name] = value * 1000 / n if name == "task-clock" else value / n  # task-clock: ms → µs
    if record:
        counts.update(shares(out + ".data"))
    return counts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="hello")
    p.add_argument("--mode", default="embedded")
    p.add_argument("--targets", default="swsgi,granian,mod_wsgi,floor")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--record", action="store_true", help="also perf record: CPU shares by shared object")
    p.add_argument("--module", help="another mod_swsgi.so, as target swsgi-other")
    a = p.parse_args()
    targets = a.targets.split(",")
    if a.module:
        bench.MODULE_LINES["swsgi-other"] = "LoadModule wsgi_module %s" % a.module
        targets.append("swsgi-other")
    venv = bench.bench_venv() if bench.SCENARIOS[a.scenario].get("venv") or set(targets) & set(bench.PEERS) else None
    b = bench.Bench(argparse.Namespace(threads=2, connections=a.connections, duration=a.duration, warmup=1), venv)
    rows = {t: [] for t in targets}
    try:
        for rnd in range(a.rounds):
            for t in targets:
                rows[t].append(measure(b, t, a.scenario, a.mode, a.duration, a.record))
                print("round %d %-12s %s" % (rnd + 1, t, " ".join(
                    "%s=%.2f" % kv for kv in sorted(rows[t][-1].items()) if kv[1])), flush=True)
    finally:
        b.cleanup()
    keys = ["rps", "task-clock", "syscalls", "context-switches", "voluntary", "nonvoluntary",
            "cpu-migrations"] + NAMED
    keys += sorted({k for rs in rows.values() for r in rs for k in r if k.startswith("cpu% ")})
    keys = [k for k in keys if any(r.get(k, 0) >= 0.05 for rs in rows.values() for r in rs)]
    print("\nper request, %s %s, wrk -c%d %ds, medians of %d rounds (min-max); load %s"
          % (a.scenario, a.mode, a.connections, a.duration, a.rounds, bench.fmt_load()))
    print("| counter | " + " | ".join(targets) + " |")
    print("|---|" + "---:|" * len(targets))
    for k in keys:
        cells = []
        for t in targets:
            vals = sorted(r.get(k, 0) for r in rows[t])
            cells.append("%.2f (%.2f–%.2f)" % (bench.median(vals), vals[0], vals[-1]) if k != "rps"
                         else "%.0f (%.0f–%.0f)" % (bench.median(vals), vals[0], vals[-1]))
        print("| %s | %s |" % (k, " | ".join(cells)))


if __name__ == "__main__":
    main()
