"""`make run`: serves the examples with the freshly built module, in the foreground.

Writes an httpd.conf into run/ (its own ServerRoot), makes a venv with Flask for the Flask
example, and execs Apache with -DFOREGROUND, so Ctrl-C stops it cleanly.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "run")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
PORT = os.environ.get("PORT", "8000")
MODULES = "/usr/lib/apache2/modules"


def flask_venv():
    """A venv with Flask, or None when PyPI cannot be reached."""
    venv = os.path.join(RUN, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.run([PYTHON, "-m", "venv", venv], check=True)
    try:
        subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import flask"], check=True,
                       stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        requirements = os.path.join(ROOT, "examples", "flask", "requirements.txt")
        if subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "-r", requirements]).returncode:
            print("Could not install Flask; serving the hello example only.")
            return None
    return venv


def config(module, venv):
    as_root = os.geteuid() == 0
    lines = [
        f"ServerRoot {RUN}",
        f"Listen 127.0.0.1:{PORT}",
        "ServerName 127.0.0.1",
        f"LoadModule mpm_event_module {MODULES}/mod_mpm_event.so",
        f"LoadModule authz_core_module {MODULES}/mod_authz_core.so",
        f"LoadModule wsgi_module {module}",
        "User www-data" if as_root else "",
        "Group www-data" if as_root else "",
        f"PidFile {RUN}/httpd.pid",
        "ErrorLog /dev/stderr",
        "LogLevel info",
        f"WSGIPythonHome {venv}" if venv else "",
        f"WSGIScriptAlias /hello {ROOT}/examples/hello/hello.wsgi",
        f"WSGIScriptAlias / {ROOT}/examples/flask/app.wsgi" if venv else "",
        f"<Directory {ROOT}/examples>",
        "    Require all granted",
        "</Directory>",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def main():
    module = os.path.abspath(sys.argv[1])
    os.makedirs(RUN, exist_ok=True)
    venv = flask_venv()
    conf = os.path.join(RUN, "httpd.conf")
    with open(conf, "w") as f:
        f.write(config(module, venv))
    print(f"Serving on http://127.0.0.1:{PORT}/hello" + (f" and http://127.0.0.1:{PORT}/" if venv else "")
          + " -- Ctrl-C stops.", flush=True)
    os.execvp("apache2", ["apache2", "-f", conf, "-DFOREGROUND"])


if __name__ == "__main__":
    main()
