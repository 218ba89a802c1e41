"""swsgi answers to mod_wsgi's names: <IfModule mod_wsgi.c>, <IfModule wsgi_module>, the
[wsgi:...] tag of its log lines; and refuses to run alongside mod_wsgi."""
import pytest

from conftest import APACHE_MODULES, MODULE_PATH, TARGET

# Each form as found in Debian's wsgi.conf and deployment roles; the negated block must not apply.
IF_MODULE_CONF = """
<IfModule mod_wsgi.c>
    WSGIScriptAlias /by-file {apps}/hello.wsgi
</IfModule>
<IfModule wsgi_module>
    WSGIScriptAlias /by-id {apps}/hello.wsgi
</IfModule>
<IfModule !mod_wsgi.c>
    ErrorDocument 404 "module-not-seen"
</IfModule>
<IfModule !wsgi_module>
    ErrorDocument 404 "module-not-seen"
</IfModule>
"""

LOAD_WORDS = ["wsgi_module", "swsgi_module"] if TARGET == "swsgi" else ["wsgi_module"]


@pytest.mark.parametrize("word", LOAD_WORDS)
def test_if_module_blocks_take_effect(apache_factory, word):
    a = apache_factory(IF_MODULE_CONF, modules=[(word, MODULE_PATH)])
    # A graceful restart reads the configuration again, with the modules loaded anew.
    for restart in (False, True):
        if restart:
            mark = a.log_mark()
            a.graceful()
            a.wait_log(mark, "resuming normal operations")
        for path in ("/by-file", "/by-id"):
            r = a.get(path)
            assert r.status == 200 and r.body == b"Hello, World!\n", (path, restart, r)
        r = a.get("/nothing-here")
        assert r.status == 404 and b"module-not-seen" not in r.body, r


@pytest.mark.swsgi_only
@pytest.mark.parametrize("mod_wsgi_first", [False, True])
def test_both_loaded_fails_configtest(apache_factory, mod_wsgi_first):
    modules = [("swsgi_module", MODULE_PATH), ("wsgi_module", APACHE_MODULES + "/mod_wsgi.so")]
    a = apache_factory("WSGIScriptAlias / {apps}/hello.wsgi\n", start=False,
                       modules=modules[::-1] if mod_wsgi_first else modules)
    rc, out = a.configtest()
    assert rc != 0 and "Syntax OK" not in out, out
    assert ("swsgi and mod_wsgi are both loaded, and one Apache can run only one of them: "
            "remove one of their LoadModule lines") in out, out


@pytest.mark.swsgi_only
def test_swsgi_module_word_answers_both_names(apache_factory):
    a = apache_factory("<IfModule swsgi_module>\n    WSGIScriptAlias /old {apps}/hello.wsgi\n</IfModule>\n")
    assert a.get("/old").status == 200
