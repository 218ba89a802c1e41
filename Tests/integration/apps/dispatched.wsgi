# Reports where it ran; `other` is a second entry point a dispatch script can choose.
import json
import os


def _reply(name):
    def app(environ, start_response):
        body = json.dumps({"callable": name, "pid": os.getpid(),
                           "process_group": environ["mod_wsgi.process_group"],
                           "application_group": environ["mod_wsgi.application_group"]}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    return app


application = _reply("application")
other = _reply("other")
