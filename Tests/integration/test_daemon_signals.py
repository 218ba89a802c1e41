"""A daemon under load flooded with the signals it handles: none is lost, none crashes it,
and it stops gracefully (its requests answered, exit status 0) within its timeouts."""
import os
import signal
import time

import pytest

from conftest import TARGET, pid_alive, wait_until
from daemon_support import SOCKET_DIRECTIVE, Load, get_json

# What each round's flood repeats: the daemon reads a restart first (stops follow it), a
# stop first (restarts follow it, in the same batch or later), or stops only.
FLOODS = ((signal.SIGUSR1, signal.SIGHUP, signal.SIGINT),
          (signal.SIGHUP, signal.SIGUSR1, signal.SIGINT),
          (signal.SIGHUP, signal.SIGINT, signal.SIGTERM))


# mod_wsgi 4.9.4 answers requests with 500s while its daemon restarts.
@pytest.mark.swsgi_only
def test_signals_in_a_tight_loop_under_load(apache_factory):
    # The clients keep every pooled connection of the Apache child busy: a stopping daemon
    # that served the requests they send next would never be idle, and would exit only at
    # its shutdown-timeout (a minute here), cutting the requests running then. It must take
    # no new one, so that it exits as soon as those running at the stop have ended.
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s threads=8 graceful-timeout=5 shutdown-timeout=60\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=s\n")
    for flood in FLOODS:
        pid = get_json(a, "/")["pid"]
        load = Load(a, "/?sleep=1", clients=6).start()
        mark = a.log_mark()
        try:
            assert wait_until(lambda: load.ok >= 6, 30), (load.ok, load.failures[:5])
            flooded_at = time.monotonic()
            sent = 0
            try:
                while sent < 30000:
                    os.kill(pid, flood[sent % len(flood)] if sent < 29999 else signal.SIGTERM)
                    sent += 1
            except ProcessLookupError:
                pass  # gone already: it stopped on the first of them
            assert wait_until(lambda: not pid_alive(pid), 20), "daemon %d still runs %.1f s after %d signals of %s" % (
                pid, time.monotonic() - flooded_at, sent, flood)
            # the requests it turned away reach its replacement
            assert wait_until(lambda: load.seen_pids() - {pid}, 30), (load.ok, load.failures[:5])
        finally:
            load.stop()
            finished = load.join(30)
        assert finished
        exited = "daemon process %d of group 's' exited with status 0" % pid
        log = wait_until(lambda: exited in a.log_since(mark) and a.log_since(mark), 10) or a.log_since(mark)
        assert not load.failures, (flood, load.failures[:5], log)
        assert get_json(a, "/")["pid"] != pid
        for needle in ("Segmentation fault", "exit signal", "killed by signal", "Simultaneous accesses", "Fatal error"):
            assert needle not in log, log
        if TARGET == "swsgi":
            assert exited in log, log
