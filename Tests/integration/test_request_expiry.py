"""Request objects kept (or copied) past their request, and swsgi's native module called
with made-up arguments: a Python exception every time, never a crashed process."""
import pytest

from conftest import PY_VERSION, TARGET

MODES = {
    "embedded": "WSGIScriptAlias / {apps}/kept.wsgi\n",
    "daemon": ("WSGISocketPrefix {root}/run/w\nWSGIDaemonProcess k threads=4\n"
               "WSGIScriptAlias / {apps}/kept.wsgi process-group=k\n"),
}


CRASHES = ("Segmentation fault", "exit signal", "Bus error", "killed by signal", "Fatal Python error")


def no_crash(a, mark, responses=(), absent=()):
    """No process crashed since mark, every response is a 200, no line of absent was logged."""
    log = a.log_since(mark)
    for needle in CRASHES + absent:
        assert needle not in log, log
    assert [r.status for r in responses] == [200] * len(responses), (responses, log)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_request_objects_kept_after_their_request_raise(apache_factory, mode):
    a = apache_factory(MODES[mode])
    mark = a.log_mark()
    kept = a.get_json("/keep")
    # swsgi's copies are the objects' own; mod_wsgi refuses to copy some of its C objects.
    if TARGET == "swsgi":
        assert set(kept.values()) == {"kept"}, kept
    responses = [a.get("/use?%d" % round) for round in range(3)] + [a.get("/ping") for _ in range(3)]
    no_crash(a, mark, responses, absent=("LATE-WRITE",))
    for r in responses[:3]:
        uses = r.json()
        assert uses, kept
        for name, outcome in uses.items():
            assert outcome.startswith("raised "), (name, outcome)
            if TARGET == "swsgi":
                assert outcome.startswith("raised RuntimeError: ") and "expired" in outcome, (name, outcome)


# mod_wsgi 4.9.4 crashes (signal 11) in about one run in three here, in both modes.
@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_thread_of_the_app_using_a_finished_request_gets_an_exception(apache_factory, mode):
    a = apache_factory(MODES[mode])
    mark = a.log_mark()
    results = []
    for _ in range(5):
        r = a.post("/thread", b"x" * 100000)
        assert r.status == 200, (r, a.log_since(mark))
        results.append(a.get_json("/thread-result"))
    no_crash(a, mark)
    for result in results:
        assert result.get("ended", "").startswith("raised "), result
        if TARGET == "swsgi":
            assert "expired" in result["ended"], result


@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", sorted(MODES))
def test_native_module_called_with_made_up_arguments_raises(apache_factory, mode):
    a = apache_factory(MODES[mode])
    mark = a.log_mark()
    responses = [a.get("/forge") for _ in range(3)] + [a.get("/ping")]
    no_crash(a, mark, responses, absent=("FORGED-LOG",))
    for r in responses[:3]:
        calls = r.json()
        for name, outcome in calls.items():
            if name == "copy is same":
                assert outcome == "returned: True", outcome
            else:
                assert outcome.startswith("raised "), (name, outcome)
        assert calls["read(12345678)"].startswith("raised TypeError"), calls
        assert calls["disguise"].startswith("raised TypeError"), calls


@pytest.mark.swsgi_only
@pytest.mark.skipif(tuple(map(int, PY_VERSION.split("."))) < (3, 12), reason="a GIL per interpreter needs Python 3.12")
@pytest.mark.parametrize("mode", sorted(MODES))
def test_native_module_loads_in_a_subinterpreter_with_its_own_gil(apache_factory, mode):
    a = apache_factory(MODES[mode])
    mark = a.log_mark()
    r = a.get("/isolated")
    assert (r.status, r.text) == (200, "ok"), (r, a.log_since(mark))
    log = a.wait_log(mark, "swsgi-isolated-log")
    assert "swsgi-isolated-log" in log, log
