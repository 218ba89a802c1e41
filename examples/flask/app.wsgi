# A small Flask application: an HTML page at / and a JSON endpoint at /api.
#
# Install Flask into a virtual environment made by the Python the module is built
# for, and point WSGIPythonHome at it:
#
#   /usr/bin/python3 -m venv /srv/flask-venv
#   /srv/flask-venv/bin/pip install -r examples/flask/requirements.txt
#
#   WSGIPythonHome /srv/flask-venv
#   WSGIScriptAlias / /path/to/examples/flask/app.wsgi
import os
import sys

from flask import Flask, jsonify, request

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>swsgi Flask example</title></head>
<body>
<h1>Hello from Flask</h1>
<p>Served by {server} with Python {python}.</p>
<p>Try the <a href="{api}">JSON endpoint</a>.</p>
</body>
</html>
"""


@app.route("/")
def index():
    return PAGE.format(server=request.environ.get("SERVER_SOFTWARE", "Apache"),
                       python=sys.version.split()[0],
                       api=request.script_root + "/api")


@app.route("/api")
def api():
    return jsonify(
        message="Hello from Flask",
        python=sys.version.split()[0],
        prefix=sys.prefix,
        pid=os.getpid(),
        process_group=request.environ.get("mod_wsgi.process_group"),
        application_group=request.environ.get("mod_wsgi.application_group"),
        args=request.args.to_dict(),
    )


application = app
