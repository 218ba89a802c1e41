# Records each import of this script in <ServerRoot>/data/imports.log ("pid group"), so a
# test can tell whether it was loaded before any request, and how often.
import json
import os

import mod_wsgi

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")
with open(os.path.join(DATA, "imports.log"), "a") as f:
    f.write("%d %s\n" % (os.getpid(), mod_wsgi.application_group))


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"pid": os.getpid(), "group": environ["mod_wsgi.application_group"]}).encode()]
