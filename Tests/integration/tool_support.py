"""Running the `swsgi` command (build/swsgi, or SWSGI_TOOL) with the module under test."""
import os
import subprocess

from conftest import MODULE_PATH, REPO, sanitized_env

TOOL = os.environ.get("SWSGI_TOOL", os.path.join(REPO, "build", "swsgi"))


def tool(*args, cwd=None, env=None, timeout=120):
    """Runs `swsgi ARGS --module MODULE_PATH`; returns the CompletedProcess."""
    return subprocess.run([TOOL] + list(args) + ["--module", MODULE_PATH], capture_output=True, text=True,
                          cwd=cwd, env=sanitized_env(dict(env or os.environ), "swsgi-tool"), timeout=timeout)
