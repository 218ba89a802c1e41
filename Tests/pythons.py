"""Prints the Pythons `make test` covers, one path a line: Debian's, then readable copies of
the pyenv builds of the versions given (those this machine has).

pyenv's root is in root's home directory (mode 0700), where Apache's User cannot read a
Python; so each is copied, as a user would install it, under a world-readable prefix
(without its own test suite). A copy is made once and reused.
"""
import glob
import os
import shutil
import subprocess
import sys

DEBIAN = "/usr/bin/python3"
COPIES = os.environ.get("SWSGI_PYTHON_COPIES", "/opt/swsgi-pythons")


def pyenv_root():
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    try:
        return subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


def newest_build(version):
    """The prefix of pyenv's newest X.Y.Z build of version X.Y, or None."""
    def patch(prefix):
        tail = os.path.basename(prefix)[len(version) + 1:]
        return int(tail) if tail.isdigit() else -1
    builds = [p for p in glob.glob(os.path.join(pyenv_root(), "versions", version + ".*")) if patch(p) >= 0]
    return max(builds, key=patch, default=None)


def readable_copy(prefix, version):
    """The python of a copy of prefix under COPIES, made the first time."""
    target = os.path.join(COPIES, os.path.basename(prefix))
    python = os.path.join(target, "bin", "python" + version)
    if not os.path.exists(python):
        partial = target + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(COPIES, mode=0o755, exist_ok=True)
        os.chmod(COPIES, 0o755)
        subprocess.run(["cp", "-a", prefix, partial], check=True)
        shutil.rmtree(os.path.join(partial, "lib", "python" + version, "test"), ignore_errors=True)
        subprocess.run(["chmod", "-R", "a+rX", partial], check=True)
        os.rename(partial, target)
    return python


def main(versions):
    print(DEBIAN)
    for version in versions:
        prefix = newest_build(version)
        if prefix is None:
            print("pythons.py: no pyenv build of Python %s here; not tested" % version, file=sys.stderr)
            continue
        print(readable_copy(prefix, version))


main(sys.argv[1:])
