"""Metrics: the swsgi-metrics Prometheus endpoint adds up what was sent across Apache
children and daemon processes, keeps the counts of recycled children, shows a killed daemon
with its signal; WSGISlowRequests logs the slow requests only."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import APACHE_MODULES, make_venv, pid_alive, wait_until
from daemon_support import SOCKET_DIRECTIVE

pytestmark = pytest.mark.swsgi_only  # mod_wsgi 4.9.4 exports no metrics

ENDPOINT = "<Location /metrics>\n    SetHandler swsgi-metrics\n    Require all granted\n</Location>\n"
APPS = ("WSGIScriptAlias /d {apps}/metrics.wsgi process-group=d\n"
        "WSGIScriptAlias /e {apps}/metrics.wsgi\n")
OPENMETRICS = "application/openmetrics-text; version=1.0.0"

# Reads an exposition on stdin with prometheus_client's parser (argv[1]: text or openmetrics)
# and prints its samples as JSON: [name, labels, value].
PARSE = r"""
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
samples = [[s.name, s.labels, s.value] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]
print(json.dumps(samples))
"""


@pytest.fixture(scope="session")
def prometheus_python():
    """The python of a venv with prometheus_client from PyPI; cached per session."""
    root = tempfile.mkdtemp(prefix="swsgi-it-prometheus-")
    venv = os.path.join(root, "venv")
    try:
        make_venv(venv, with_pip=True)
        p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--disable-pip-version-check", "-q",
                            "prometheus-client"], capture_output=True, text=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip("could not build a venv for prometheus_client: %s" % e)
    if p.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip("pip install prometheus-client failed (offline?): %s" % (p.stderr or p.stdout)[-500:])
    try:
        yield os.path.join(venv, "bin", "python")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def scrape(a, python, openmetrics=False):
    """The samples of one scrape, parsed by prometheus_client: {(name, labels): value}."""
    r = a.get("/metrics", headers={"Accept": OPENMETRICS} if openmetrics else {})
    assert r.status == 200, r
    kind = "openmetrics" if openmetrics else "text"
    assert r.header("Content-Type").startswith("application/openmetrics-text" if openmetrics else "text/plain; version=0.0.4")
    p = subprocess.run([python, "-c", PARSE, kind], input=r.body, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in json.loads(p.stdout)}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_counts_add_up_over_children_and_daemons(apache_factory, prometheus_python):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d processes=2 threads=4\n" + APPS + ENDPOINT,
                       mpm=dict(StartServers=2, ServerLimit=2, ThreadsPerChild=10, ThreadLimit=10,
                                MaxRequestWorkers=20, MinSpareThreads=20, MaxSpareThreads=40))
    paths = ["/d/ok", "/d/missing", "/d/fail", "/d/slow?0.05", "/e/ok", "/e/missing", "/e/fail"] * 30
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda p: (p.split("/")[1], a.get(p, timeout=30).status), paths))
    sent = Counter((group, "%dxx" % (status // 100)) for group, status in statuses)
    assert sent[("d", "2xx")] == 60 and sent[("d", "5xx")] == 30 and sent[("e", "4xx")] == 30

    def counted():
        samples = scrape(a, prometheus_python)
        return sum(v for (name, _), v in samples.items() if name == "swsgi_requests_total")
    # A request is counted just after its last block reached the client (PEP 3333), so the
    # last ones may come just after the scrape.
    assert wait_until(lambda: counted() >= len(paths), 10)
    for samples in (scrape(a, prometheus_python), scrape(a, prometheus_python, openmetrics=True)):
        for group, label in (("d", "d"), ("e", "(embedded)")):
            total = 0
            for status_class in ("1xx", "2xx", "3xx", "4xx", "5xx", "other"):
                got = value(samples, "swsgi_requests_total", group=label, status_class=status_class)
                assert got == sent[(group, status_class)], (group, status_class)
                total += got
            assert value(samples, "swsgi_request_duration_seconds_count", group=label) == total
            # Every one of them reached its app.
            assert value(samples, "swsgi_application_duration_seconds_count", group=label) == total
            assert value(samples, "swsgi_request_duration_seconds_bucket", group=label, le="+Inf") == total
        served = sum(value(samples, "swsgi_process_requests_total", group="d", process=n) for n in ("0", "1"))
        assert served == 120
        # The Apache children: each a process of its own, with its CPU time and memory.
        children = {dict(labels)["process"] for name, labels in samples
                    if name == "swsgi_process_resident_memory_bytes" and dict(labels)["group"] == "(embedded)"}
        assert len(children) == 2, children
        assert sum(value(samples, "swsgi_process_requests_total", group="(embedded)", process=n) for n in children) == 90
        for n in children:
            assert value(samples, "swsgi_process_resident_memory_bytes", group="(embedded)", process=n) > 1 << 20
            assert value(samples, "swsgi_process_cpu_seconds_total", group="(embedded)", process=n) > 0
        # Every request the gateway ran waited for the GIL once or more, 0 s or longer.
        assert value(samples, "swsgi_gil_wait_seconds_count", group="d") == 120
        assert value(samples, "swsgi_gil_wait_seconds_count", group="(embedded)") == 90
        # By application group: the default, %{RESOURCE}, is the host and the script's URL.
        for group, prefix in (("d", "/d"), ("(embedded)", "/e")):
            by_app = Counter()
            for (name, labels), got in samples.items():
                labels = dict(labels)
                if name == "swsgi_application_group_requests_total" and labels["group"] == group:
                    assert labels["application_group"].endswith("|" + prefix), labels
                    by_app[labels["status_class"]] += got
            assert by_app == {"2xx": 60 if group == "d" else 30, "4xx": 30, "5xx": 30}, (group, by_app)
        assert value(samples, "swsgi_queue_wait_seconds_count", group="d") == 120
        assert value(samples, "swsgi_daemon_handoff_seconds_count", group="d") == 120
        assert value(samples, "swsgi_threads", group="d") == 8
        assert value(samples, "swsgi_process_starts_total", group="d") == 2
        assert value(samples, "swsgi_requests_in_flight") == 0
        assert value(samples, "swsgi_daemon_queued_requests", group="d") == 0
        assert value(samples, "swsgi_daemon_handoff_requests", group="d") == 0
        assert value(samples, "swsgi_process_resident_memory_bytes", group="d", process="0") > 1 << 20
        # 30 requests slept 0.05 s each in the app of group d.
        assert value(samples, "swsgi_application_duration_seconds_sum", group="d") >= 1.5
        assert value(samples, "swsgi_response_body_bytes_total", group="d") > 0


def test_promtool_accepts_the_exposition(apache_factory):
    # `make test` fetches it into build/; or the one on PATH.
    promtool = os.environ.get("PROMTOOL")
    promtool = promtool if promtool and os.path.exists(promtool) else shutil.which("promtool")
    if not promtool:
        pytest.skip("no promtool (`make test` fetches it; or Debian's prometheus package)")
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d\n" + APPS + ENDPOINT)
    assert a.get("/d/ok").status == 200 and a.get("/e/ok").status == 200
    r = a.get("/metrics")
    p = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True, timeout=60)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()


def test_a_recycled_child_loses_no_counts(apache_factory, prometheus_python):
    a = apache_factory(APPS.split("\n")[1] + "\n" + ENDPOINT + "MaxConnectionsPerChild 3\n",
                       mpm=dict(ThreadsPerChild=2, ThreadLimit=2, MaxRequestWorkers=2, MinSpareThreads=1, MaxSpareThreads=2))
    pids, answered = set(), 0
    while answered < 24:
        try:
            r = a.get("/e/ok", timeout=30)
        except ConnectionResetError:
            continue  # a connection the exiting child had accepted but not read: sent again
        assert r.status == 200
        pids.add(int(r.body))
        answered += 1
    assert len(pids) > 2, pids  # the children were replaced on the way

    def counted():
        return value(scrape(a, prometheus_python), "swsgi_requests_total", group="(embedded)", status_class="2xx")
    # The last block reaches the client before its request is counted (PEP 3333: nothing is
    # held back), so the last count may come just after the scrape's request.
    assert wait_until(lambda: counted() >= 24, 10)
    assert counted() == 24


def test_a_killed_daemon_shows_as_an_exit_by_its_signal(apache_factory, prometheus_python):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d\n" + APPS + ENDPOINT)
    pid = int(a.get("/d/ok").body)
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not pid_alive(pid), 10)

    def replaced():
        r = a.get("/d/ok", timeout=30)
        return r.status == 200 and int(r.body) != pid
    assert wait_until(replaced, 30)
    samples = scrape(a, prometheus_python)
    assert value(samples, "swsgi_process_exits_total", group="d", reason="signal") == 1
    assert value(samples, "swsgi_process_signal_exits_total", group="d", signal="SIGKILL") == 1
    assert value(samples, "swsgi_process_starts_total", group="d") == 2
    assert value(samples, "swsgi_process_requests_total", group="d", process="0") == 2


def test_groups_past_the_fifteenth_share_one_series_not_a_groups_name(apache_factory, prometheus_python):
    names = ["g%02d" % i for i in range(17)]
    conf = SOCKET_DIRECTIVE + "".join(
        "WSGIDaemonProcess %s threads=1\nWSGIScriptAlias /%s {apps}/metrics.wsgi process-group=%s\n" % (n, n, n)
        for n in names) + ENDPOINT
    a = apache_factory(conf)
    for n in names:
        assert a.get("/%s/ok" % n).status == 200
    samples = scrape(a, prometheus_python)
    for n in names[:14]:
        assert value(samples, "swsgi_requests_total", group=n, status_class="2xx") == 1
    assert value(samples, "swsgi_requests_total", group="(other groups)", status_class="2xx") == 3
    assert not any(dict(labels).get("group") in names[14:] for _, labels in samples)


def test_slow_requests_are_logged_and_only_they(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d\n" + APPS + "WSGISlowRequests 0.3\n")
    assert a.get("/e/ok").status == 200 and a.get("/d/ok").status == 200  # the scripts loaded
    mark = a.log_mark()
    assert a.get("/e/slow?0.5").status == 200
    assert a.get("/e/ok?token=secret").status == 200
    assert a.get("/d/slow?0.6").status == 200
    text = a.wait_log(mark, "GET /d/slow status 200")
    lines = [line for line in text.splitlines() if "slow request" in line]
    assert len(lines) == 2, text
    took = [float(re.search(r"took (\d+\.\d+) s", line).group(1)) for line in lines]
    assert "GET /e/slow status 200 took" in lines[0] and "most in the application" in lines[0]
    assert "GET /d/slow status 200 took" in lines[1] and "most in the daemon process" in lines[1]
    assert 0.5 <= took[0] < 5 and 0.6 <= took[1] < 5, took
    assert "secret" not in text and "?" not in "".join(lines)


@pytest.mark.parametrize("argument", ["0", "-1", "soon", "1e9"])
def test_bad_slow_requests_fail_configtest(apache_factory, argument):
    a = apache_factory("WSGISlowRequests %s\n" % argument, start=False)
    rc, out = a.configtest()
    assert rc != 0 and "WSGISlowRequests" in out, out


def test_server_status_lists_the_daemon_processes(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "LoadModule status_module %s/mod_status.so\n" % APACHE_MODULES +
                       "ExtendedStatus On\n<Location /server-status>\n    SetHandler server-status\n"
                       "    Require all granted\n</Location>\n"
                       "WSGIDaemonProcess d processes=2 threads=2\n" + APPS)
    pids = {int(a.get("/d/ok").body) for _ in range(8)}
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(a.get, "/d/slow?1.5", timeout=30)
        assert wait_until(lambda: "/d/slow" in a.get("/server-status").text, 5)
        page = a.get("/server-status").text
        auto = a.get("/server-status?auto").text
        assert slow.result().status == 200
    assert "WSGI daemon processes" in page and "thread" in page and "GET /d/slow?1.5" in page
    listed = {int(pid) for pid in re.findall(r"SwsgiDaemon: group=d process=[01] pid=(\d+)", auto)}
    assert len(listed) == 2 and pids <= listed, (pids, auto)
    assert "state=busy busy=1" in auto


def test_mod_wsgi_functions_give_the_same_numbers(apache_factory, prometheus_python):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d processes=1 threads=2\n" + APPS + ENDPOINT +
                       "WSGIScriptAlias /api {apps}/metrics_api.wsgi process-group=d\n")
    assert a.get("/api/start").status == 200
    for path in ["/d/ok"] * 5 + ["/d/missing", "/d/slow?0.2"]:
        a.get(path)
    request = a.get_json("/api/request")
    # The 7 above and /api/start, which ended after the recording started.
    assert request["request_count"] == 8, request
    assert request["application_time"] > 0.2 / 8 and 0 < request["capacity_utilization"] <= 1
    assert request["request_threads_maximum"] == 2
    assert a.get_json("/api/request")["request_count"] == 1  # the previous call's own request
    server = a.get_json("/api/server")
    samples = scrape(a, prometheus_python)
    by_class = {labels["status_class"]: value for labels, value in server["requests"] if labels["group"] == "d"}
    for status_class, count in by_class.items():
        # The scrape came after /api/server, which counted on its way out.
        expected = value(samples, "swsgi_requests_total", group="d", status_class=status_class)
        assert count == expected - (1 if status_class == "2xx" else 0), (status_class, count, expected)
    assert by_class["4xx"] == 1 and by_class["2xx"] >= 8
    [process] = [p for p in server["processes"] if p["process_group"] == "d"]
    assert any(p["process_group"] == "(embedded)" for p in server["processes"])
    assert process["process_group"] == "d" and process["request_threads"] == 2
    assert process["request_count"] == value(samples, "swsgi_process_requests_total", group="d", process="0") - 1


def test_application_groups_past_the_fifteenth_share_one_series(apache_factory, prometheus_python):
    names = ["a%02d" % i for i in range(16)]
    conf = "".join("WSGIScriptAlias /%s {apps}/metrics.wsgi application-group=%s\n" % (n, n) for n in names) + ENDPOINT
    a = apache_factory(conf, mpm=dict(StartServers=1, ServerLimit=1))
    for n in names:
        assert a.get("/%s/ok" % n).status == 200
        assert a.get("/%s/missing" % n).status == 404
    samples = scrape(a, prometheus_python)
    # Entries are taken as groups first run: the main interpreter's (Python's start) first,
    # then a00 .. a13; a14 and a15 share "(other)".
    for n in names[:14]:
        for status_class in ("2xx", "4xx"):
            assert value(samples, "swsgi_application_group_requests_total", group="(embedded)", application_group=n,
                         status_class=status_class) == 1, (n, status_class)
        assert value(samples, "swsgi_application_group_duration_seconds_count", group="(embedded)", application_group=n) == 2
    assert value(samples, "swsgi_application_group_requests_total", group="(embedded)", application_group="(other)",
                 status_class="2xx") == 2
    assert not any(dict(labels).get("application_group") in names[14:] for _, labels in samples)


def test_gil_wait_is_counted_where_threads_contend(apache_factory, prometheus_python):
    a = apache_factory(APPS.split("\n")[1] + "\n" + ENDPOINT + "WSGIApplicationGroup %{GLOBAL}\n",
                       mpm=dict(StartServers=1, ServerLimit=1, ThreadsPerChild=8, ThreadLimit=8, MaxRequestWorkers=8,
                                MinSpareThreads=1, MaxSpareThreads=8))
    assert a.get("/e/ok").status == 200
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: a.get("/e/spin?0.3", timeout=30).status, range(4)))
    assert statuses == [200] * 4
    samples = scrape(a, prometheus_python)
    assert value(samples, "swsgi_gil_wait_seconds_count", group="(embedded)") == 5
    # Four threads running Python in one interpreter: each one that came later waited.
    assert value(samples, "swsgi_gil_wait_seconds_sum", group="(embedded)") > 0


def test_requests_waiting_for_a_busy_daemon_show_as_handed_off(apache_factory, prometheus_python):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d threads=1\n" + APPS + ENDPOINT)
    assert a.get("/d/ok").status == 200
    with ThreadPoolExecutor(max_workers=4) as pool:
        slow = pool.submit(a.get, "/d/slow?3", timeout=30)
        assert wait_until(lambda: value(scrape(a, prometheus_python), "swsgi_busy_threads", group="d") == 1, 10)
        waiting = [pool.submit(a.get, "/d/ok", timeout=30) for _ in range(3)]
        # The one worker is busy: the daemon reads none of them, they wait at its socket.
        assert wait_until(lambda: value(scrape(a, prometheus_python), "swsgi_daemon_handoff_requests", group="d") == 3, 10)
        samples = scrape(a, prometheus_python)
        assert value(samples, "swsgi_daemon_queued_requests", group="d") == 0
        assert slow.result().status == 200 and all(w.result().status == 200 for w in waiting)
    samples = scrape(a, prometheus_python)
    assert value(samples, "swsgi_daemon_handoff_requests", group="d") == 0
    assert value(samples, "swsgi_daemon_queued_requests", group="d") == 0
    assert value(samples, "swsgi_requests_total", group="d", status_class="2xx") == 5


def test_exits_by_maximum_requests_and_restart_have_their_reasons(apache_factory, prometheus_python):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess d maximum-requests=3\n" + APPS + ENDPOINT)
    pids = [int(a.get("/d/ok", timeout=30).body) for _ in range(7)]
    assert len(set(pids)) == 3, pids

    def exits(reason):
        return value(scrape(a, prometheus_python), "swsgi_process_exits_total", group="d", reason=reason)
    assert wait_until(lambda: exits("maximum_requests") == 2, 10)
    os.kill(pids[-1], signal.SIGUSR1)
    assert wait_until(lambda: exits("restart") == 1, 20)
    samples = scrape(a, prometheus_python)
    assert value(samples, "swsgi_process_starts_total", group="d") == 4
    assert value(samples, "swsgi_process_exits_total", group="d", reason="signal") == 0
    assert value(samples, "swsgi_process_exits_total", group="d", reason="other") == 0


def test_metrics_off_counts_nothing_and_serves_no_endpoint(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIMetrics Off\nWSGIDaemonProcess d\n" + APPS + ENDPOINT +
                       "WSGIScriptAlias /api {apps}/metrics_api.wsgi process-group=d\n")
    assert a.get("/d/ok").status == 200 and a.get("/e/ok").status == 200
    mark = a.log_mark()
    assert a.get("/metrics").status == 404
    a.wait_log(mark, "WSGIMetrics is Off")
    assert a.get_json("/api/server") is None
    assert a.get_json("/api/request") is None


@pytest.mark.parametrize("argument", ["maybe", "1"])
def test_bad_metrics_switch_fails_configtest(apache_factory, argument):
    a = apache_factory("WSGIMetrics %s\n" % argument, start=False)
    rc, out = a.configtest()
    assert rc != 0 and "WSGIMetrics" in out, out
