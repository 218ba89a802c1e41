"""Where `make` puts the module built for a Python: the tests' and the benchmark's default.
The tag comes from python_build_config.py, as the Makefile's PY_TAG does."""
import os
import subprocess

TOOLS = os.path.dirname(os.path.abspath(__file__))


def module_path(python):
    """<repo>/build/<PY_TAG>/mod_swsgi.so for python."""
    out = subprocess.run([python, os.path.join(TOOLS, "python_build_config.py")],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    settings = dict(word.split("=", 1) for word in out.split() if "=" in word)
    if "PY_TAG" not in settings:
        raise RuntimeError("no module can be built for %s: %s" % (python, out.strip()))
    return os.path.join(os.path.dirname(TOOLS), "build", settings["PY_TAG"], "mod_swsgi.so")
