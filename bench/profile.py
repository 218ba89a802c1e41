"""Where one request's instructions go, counted by callgrind (reproducible on a noisy machine).

Runs Apache as a single process (-X) under valgrind with the benchmark's own configuration
for a scenario in embedded mode (bench.py's Bench.config), counting only inside Apache's
ap_read_request and ap_process_async_request (the event MPM's reading and running of one
request: everything it costs but the connection's own reads and writes), once with
a few requests and once with N more over one keep-alive connection: the difference over N
is one warm request, without start-up, Python's initialisation and the first imports. It is
split by the object the instructions ran in: Apache and APR, the swsgi module (shim and Swift core) or
mod_wsgi, libpython (the interpreter running the gateway's and the app's Python), libc and
the rest. The same for mod_wsgi, side by side.

    /usr/bin/python3 bench/profile.py --scenarios hello,flask,django [--requests 300]
"""
import argparse
import collections
import http.client
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

GROUPS = (  # (label, pattern on the object path or, where callgrind names none, the source), first match wins
    ("swsgi module", re.compile(r"mod_swsgi\.so|/Sources/|/shim/|<compiler-generated>|/usr/include/python|swift")),
    ("mod_wsgi module", re.compile(r"mod_wsgi\.so")),
    ("libpython", re.compile(r"libpython")),
    ("Python extensions", re.compile(r"lib-dynload|site-packages|dist-packages")),
    ("Apache + APR", re.compile(r"apache2|libapr|mod_mpm|mod_authz")),
    ("libc", re.compile(r"libc\.so|libc-|ld-linux|^\./")),  # glibc's sources are named ./dir/file
)


def split_by_object(out_file):
    """{group: instructions} from a callgrind output file (self cost per function)."""
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", "--inclusive=no", out_file],
                          capture_output=True, text=True, check=True).stdout
    groups = collections.Counter()
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$", line)
        if not m or ":" not in m.group(2):
            continue
        count = int(m.group(1).replace(",", ""))
        where = m.group(2)
        obj = re.search(r"\[(.*)\]\s*$", where)
        path = obj.group(1) if obj else where
        label = next((name for name, pattern in GROUPS if pattern.search(path)), "other")
        groups[label] += count
    return groups


def count(b, target, scenario, requests):
    """{group: instructions} of `requests` requests, counted inside Apache's request functions."""
    conf = b.conf_path(target)
    with open(conf, "w") as f:
        f.write(b.config(target, scenario, "embedded"))
    out_file = os.path.join(b.root, "callgrind.%s.%s.%d" % (target, scenario, requests))
    open(out_file, "w").close()
    if bench.IS_ROOT:  # Apache drops to User www-data before valgrind writes it
        subprocess.run(["chown", "www-data", out_file], check=True)
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                             "--toggle-collect=ap_read_request", "--toggle-collect=ap_process_async_request",
                             "--callgrind-out-file=" + out_file,
                             bench.APACHE2, "-X", "-d", b.root, "-f", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not bench.wait_until(b.port_answers, 120):
            raise RuntimeError("Apache under valgrind did not answer")
        send_requests(b, scenario, requests)
    finally:
        stop_apache(b, conf, proc)
    return split_by_object(out_file)


def send_requests(b, scenario, requests):
    """The scenario's request, `requests` times over one keep-alive connection, each answered 200."""
    sc = bench.SCENARIOS[scenario]
    body = b"x" * sc["post"] if sc.get("post") else None
    conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=300)
    for _ in range(requests):
        conn.request("POST" if body else "GET", sc["url"], body=body)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
    conn.close()


def stop_apache(b, conf, proc):
    subprocess.run([bench.APACHE2, "-d", b.root, "-f", conf, "-k", "stop"], capture_output=True)
    proc.wait(timeout=300)


def profile(b, target, scenario, requests, base=20):
    few, many = count(b, target, scenario, base), count(b, target, scenario, base + requests)
    return {k: (many[k] - few.get(k, 0)) / requests for k in many}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default="hello,flask,django")
    p.add_argument("--targets", default="swsgi,mod_wsgi")
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--keep", help="a directory to copy the callgrind files into, for callgrind_annotate")
    a = p.parse_args()
    scenarios = a.scenarios.split(",")
    venv = bench.bench_venv() if any(bench.SCENARIOS[s].get("venv") for s in scenarios) else None
    args = argparse.Namespace(threads=1, connections=1, duration=1, warmup=0)
    b = bench.Bench(args, venv)
    try:
        rows = {(t, s): profile(b, t, s, a.requests) for s in scenarios for t in a.targets.split(",")}
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for name in os.listdir(b.root):
                if name.startswith("callgrind."):
                    shutil.copy(os.path.join(b.root, name), a.keep)
    finally:
        b.cleanup()
    labels = [name for name, _ in GROUPS] + ["other"]
    print("| scenario | target | total | " + " | ".join(labels) + " |")
    print("|---|---|---:|" + "---:|" * len(labels))
    for (t, s), g in rows.items():
        print("| %s | %s | %.0f | %s |" % (s, t, sum(g.values()), " | ".join("%.0f" % g.get(l, 0) for l in labels)))
    print("\nInstructions per warm request (callgrind inside ap_read_request and ap_process_async_request: %d requests after 20, "
          "one keep-alive connection, Apache -X, embedded mode)." % a.requests)


if __name__ == "__main__":
    main()
