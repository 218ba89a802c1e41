"""`apache2 -t` (configtest) with WSGIDaemonProcess / WSGIProcessGroup."""
import pytest

from conftest import BASE_PREFIX, TARGET
from daemon_support import SOCKET_DIRECTIVE


def configtest(apache_factory, directives):
    a = apache_factory(SOCKET_DIRECTIVE + directives, start=False)
    return a.configtest()


def test_every_option_passes(apache_factory):
    rc, out = configtest(apache_factory, (
        "WSGIDaemonProcess all processes=2 threads=3 python-home=%s python-path={data}:{apps} "
        "user=%s group=%s home={data} display-name=%%{GROUP} lang=C.UTF-8 locale=C.UTF-8 "
        "umask=0022 maximum-requests=100 inactivity-timeout=60 request-timeout=30 "
        "socket-timeout=20 queue-timeout=10 graceful-timeout=5 shutdown-timeout=3 "
        "restart-interval=3600 startup-timeout=15 listen-backlog=50 header-buffer-size=32768 "
        "response-buffer-size=65536 stack-size=524288 connect-timeout=5\n"
        "WSGIDaemonProcess other\n"
        "WSGIScriptAlias /a {apps}/hello.wsgi process-group=all application-group=%%{GLOBAL}\n"
        "WSGIScriptAlias /b {apps}/hello.wsgi\n"
        '<Directory "{apps}">\n    WSGIProcessGroup other\n</Directory>\n'
        % ((BASE_PREFIX,) + ("www-data",) * 2)))
    assert rc == 0, out
    assert "Syntax OK" in out


SWSGI_ONLY = pytest.mark.swsgi_only
CASES = [
    # directives, text the swsgi message must contain
    pytest.param("WSGIDaemonProcess g bogus-option=1\n", "bogus-option", id="unknown-option"),
    pytest.param("WSGIDaemonProcess g processes=0\n", "processes", id="processes-0"),
    # mod_wsgi: atoi("2x") == 2, atoi("1.5") == 1
    pytest.param("WSGIDaemonProcess g processes=2x\n", "processes", id="processes-2x",
                 marks=SWSGI_ONLY),
    pytest.param("WSGIDaemonProcess g threads=1.5\n", "threads", id="threads-1.5",
                 marks=SWSGI_ONLY),
    pytest.param("WSGIDaemonProcess g user=no-such-user-swsgi\n", "no-such-user-swsgi",
                 id="unknown-user"),
    pytest.param("WSGIDaemonProcess dupgroup\nWSGIDaemonProcess dupgroup threads=2\n",
                 "dupgroup", id="duplicate-group"),
    pytest.param("WSGIDaemonProcess known\n"
                 "WSGIScriptAlias / {apps}/hello.wsgi process-group=undefinedgrp\n",
                 "undefinedgrp", id="undefined-process-group-option", marks=SWSGI_ONLY),
    # mod_wsgi checks the group only per request (500 at run time)
    pytest.param("WSGIDaemonProcess known\nWSGIProcessGroup undefinedgrp\n"
                 "WSGIScriptAlias / {apps}/hello.wsgi\n",
                 "undefinedgrp", id="undefined-WSGIProcessGroup-server", marks=SWSGI_ONLY),
    pytest.param("WSGIScriptAlias / {apps}/hello.wsgi\n"
                 '<Directory "{apps}">\n    WSGIProcessGroup undefinedgrp\n</Directory>\n',
                 "undefinedgrp", id="undefined-WSGIProcessGroup-directory", marks=SWSGI_ONLY),
    pytest.param("WSGIDaemonProcess known\n"
                 "<VirtualHost 127.0.0.1:{port}>\n    WSGIProcessGroup undefinedgrp\n"
                 "    WSGIScriptAlias / {apps}/hello.wsgi\n</VirtualHost>\n",
                 "undefinedgrp", id="undefined-WSGIProcessGroup-vhost", marks=SWSGI_ONLY),
]


@pytest.mark.parametrize("directives,needle", CASES)
def test_bad_daemon_configuration_fails_configtest(apache_factory, directives, needle):
    rc, out = configtest(apache_factory, directives)
    assert rc != 0, out
    assert "Syntax OK" not in out, out
    if TARGET == "swsgi":
        assert needle in out, out
