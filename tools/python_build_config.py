"""Prints, as make assignments, how to build swsgi for the Python that runs this script.

Everything comes from that interpreter's sysconfig, as mod_wsgi's configure does. Paths that
sysconfig recorded at build time are moved to the interpreter's real prefix, so that a Python
copied to another directory (e.g. out of an unreadable home) builds against the copy.
On a problem it prints only PY_ERROR=<one sentence> and exits 0, so that make can say it.
"""
import os
import subprocess
import sys
import sysconfig

MINIMUM = (3, 10)


def relocated(path):
    """path, moved from the prefix the build recorded to the one this Python runs from."""
    recorded = sysconfig.get_config_var("prefix") or sys.base_prefix
    if path and path.startswith(recorded + os.sep) and recorded != sys.base_prefix:
        return sys.base_prefix + path[len(recorded):]
    return path


def linker_finds(directory, soname):
    """Whether the dynamic linker finds soname in directory without an rpath."""
    try:
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return False
    wanted = os.path.realpath(os.path.join(directory, soname))
    return any(os.path.realpath(line.split("=> ", 1)[1].strip()) == wanted
               for line in cache.splitlines() if "=> " in line and soname in line)


def problem():
    """A sentence saying why no module can be built for this Python, or None."""
    version = "%d.%d" % sys.version_info[:2]
    if sys.implementation.name != "cpython":
        return "swsgi embeds CPython; %s is %s" % (sys.executable, sys.implementation.name)
    if sys.version_info[:2] < MINIMUM:
        return "swsgi needs CPython %d.%d or newer; %s is Python %s" % (MINIMUM + (sys.executable, version))
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return ("%s is a free-threaded build (Py_GIL_DISABLED), which swsgi does not support yet; "
                "use the same Python's default build" % sys.executable)
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        return ("%s has no shared libpython (it was built without --enable-shared); an Apache module "
                "can only embed a shared libpython" % sys.executable)
    return None


def settings():
    version = "%d.%d" % sys.version_info[:2]
    ldversion = sysconfig.get_config_var("LDVERSION") or version
    soname = sysconfig.get_config_var("INSTSONAME") or "libpython%s.so.1.0" % ldversion
    candidates = [relocated(sysconfig.get_config_var("LIBDIR")), os.path.join(sys.base_prefix, "lib"),
                  relocated(sysconfig.get_config_var("LIBPL"))]
    libdir = next((d for d in candidates if d and os.path.exists(os.path.join(d, soname))), None)
    if libdir is None:
        return {"PY_ERROR": "libpython (%s) of %s is in none of %s" % (soname, sys.executable, ", ".join(filter(None, candidates)))}
    program = os.path.join(sys.base_prefix, "bin", "python" + version)
    if not os.path.exists(program):
        program = os.path.realpath(sys.executable)
    values = {
        "PY_VERSION": version,
        "PY_TAG": "py" + ldversion,
        "PY_INCLUDE": sysconfig.get_path("include", vars={"installed_base": sys.base_prefix}),
        "PY_LIBDIR": libdir,
        "PY_LIBNAME": "python" + ldversion,
        "PY_RPATH": "" if linker_finds(libdir, soname) else libdir,
        "PY_PROGRAM": program,
        # What a stale build is recognised by: another installation or version.
        "PY_ID": "%s:%s" % (sys.base_prefix, sys.version.split()[0]),
        # Debian's Pythons take their headers and venv support from packages.
        "PY_PACKAGES": ",".join(["libpython%s-dev" % version, "python%s-venv" % version])
        if sys.base_prefix == "/usr" else "",
    }
    if any(" " in value for value in values.values()):
        return {"PY_ERROR": "swsgi cannot be built for a Python whose paths contain spaces (%s)" % sys.base_prefix}
    return values


def main():
    trouble = problem()
    values = {"PY_ERROR": trouble} if trouble else settings()
    if "PY_ERROR" in values:
        print("PY_ERROR=" + values["PY_ERROR"])
    else:
        print(" ".join("%s=%s" % item for item in values.items()))


main()
