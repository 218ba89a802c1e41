"""Per-request instructions (callgrind) or system calls (strace -c -f) of a scenario in either
mode, every process counted: Apache (-X) and, in daemon mode, the daemon processes it forks.

The difference between 20 and 20+N requests over one keep-alive connection, divided by N,
so start-up cancels out; unlike bench/profile.py, the event MPM's connection handling counts
too. For the daemon hop: what the Apache child and the daemon each cost a request.

    /usr/bin/python3 bench/hop_profile.py --tool strace --scenario hello --mode daemon
"""
import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from profile import send_requests, split_by_object, stop_apache  # noqa: E402

BASE = 20


def run(b, a, requests):
    """{label: count} over `requests` requests."""
    conf = b.conf_path(a.target)
    with open(conf, "w") as f:
        f.write(b.config(a.target, a.scenario, a.mode))
    out = os.path.join(b.root, "out.%d" % requests)
    os.makedirs(out)
    os.chmod(out, 0o777)
    tool = (["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.%%p" % out] if a.tool == "callgrind"
            else ["strace", "-f", "-c", "-o", os.path.join(out, "strace")])
    proc = subprocess.Popen(tool + [bench.APACHE2, "-X", "-d", b.root, "-f", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not bench.wait_until(b.port_answers, 120):
            raise RuntimeError("Apache did not answer")
        if a.tool == "callgrind" and bench.IS_ROOT:  # Apache's own file, written as www-data at its end
            for f in glob.glob(out + "/cg.*"):
                subprocess.run(["chown", "www-data", f], check=True)
        send_requests(b, a.scenario, requests)
    finally:
        stop_apache(b, conf, proc)
    time.sleep(1)  # the daemons write their files as they go
    counts = collections.Counter()
    if a.tool == "callgrind":
        for f in glob.glob(out + "/cg.*"):
            if os.path.getsize(f) == 0:
                continue
            who = "apache" if f.endswith(".%d" % proc.pid) else "daemon"
            for group, n in split_by_object(f).items():
                counts["%s: %s" % (who, group)] += n
                counts[who] += n
        return counts
    for line in open(os.path.join(out, "strace")):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m and m.group(2) != "total":
            counts[m.group(2)] += int(m.group(1))
            counts["all"] += int(m.group(1))
    return counts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tool", choices=["callgrind", "strace"], default="callgrind")
    p.add_argument("--scenario", default="hello")
    p.add_argument("--mode", default="daemon")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--target", choices=["swsgi", bench.NOMETRICS], default="swsgi")
    p.add_argument("--module", help="another mod_swsgi.so (say, a build of an earlier commit)")
    p.add_argument("--keep", help="a directory to copy the tool's files into (out.20/, out.N/), for callgrind_annotate")
    a = p.parse_args()
    if a.module:
        bench.MODULE_LINES["swsgi"] = "LoadModule wsgi_module %s" % a.module
    venv = bench.bench_venv() if bench.SCENARIOS[a.scenario].get("venv") else None
    b = bench.Bench(argparse.Namespace(threads=1, connections=1, duration=1, warmup=0), venv)
    try:
        few, many = run(b, a, BASE), run(b, a, BASE + a.requests)
        if a.keep:
            for name in ("out.%d" % BASE, "out.%d" % (BASE + a.requests)):
                shutil.copytree(os.path.join(b.root, name), os.path.join(a.keep, name), dirs_exist_ok=True)
    finally:
        b.cleanup()
    per_request = {k: (many[k] - few.get(k, 0)) / a.requests for k in many}
    smallest = 0.05 if a.tool == "strace" else 50
    for label, n in sorted(per_request.items(), key=lambda kv: -kv[1]):
        if abs(n) >= smallest:
            print("%-36s %12.1f" % (label, n))
    what = "instructions" if a.tool == "callgrind" else "system calls"
    print("\n%s per warm request: %s %s, %d requests after %d, one keep-alive connection, Apache -X"
          % (what, a.scenario, a.mode, a.requests, BASE))


if __name__ == "__main__":
    main()
