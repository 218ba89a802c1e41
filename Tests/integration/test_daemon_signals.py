"""A daemon under load flooded with the signals it handles: none is lost, none crashes it,
and it stops gracefully (its requests answered, exit status 0) within its timeouts."""
import os
import signal
import time

import pytest

from conftest import TARGET, pid_alive, wait_until
from daemon_support import SOCKET_DIRECTIVE, Load, get_json

FLOOD = (signal.SIGUSR1, signal.SIGHUP, signal.SIGINT)


# mod_wsgi 4.9.4 answers requests with 500s while its daemon restarts.
@pytest.mark.swsgi_only
def test_signals_in_a_tight_loop_under_load(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s threads=8 graceful-timeout=5 shutdown-timeout=5\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=s\n")
    for round in range(3):
        pid = get_json(a, "/")["pid"]
        load = Load(a, "/?sleep=0.3", clients=6).start()
        time.sleep(0.3)
        mark = a.log_mark()
        flooded_at = time.monotonic()
        sent = 0
        try:
            while sent < 30000:
                os.kill(pid, FLOOD[sent % len(FLOOD)] if sent < 29999 else signal.SIGTERM)
                sent += 1
        except ProcessLookupError:
            pass  # gone already: it stopped on the first of them
        assert wait_until(lambda: not pid_alive(pid), 10), "daemon %d still runs %.1f s after %d signals" % (
            pid, time.monotonic() - flooded_at, sent)
        time.sleep(0.3)
        load.stop()
        assert load.join(20)
        log = a.log_since(mark)
        assert not load.failures, (load.failures[:5], log)
        assert get_json(a, "/")["pid"] != pid
        for needle in ("Segmentation fault", "exit signal", "killed by signal", "Simultaneous accesses", "Fatal error"):
            assert needle not in log, log
        if TARGET == "swsgi":
            assert "daemon process %d of group 's' exited with status 0" % pid in log, log
