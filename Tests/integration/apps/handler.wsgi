# A WSGIHandlerScript: handle_request serves the file the URL maps to (SCRIPT_FILENAME).
import json
import os


def handle_request(environ, start_response):
    path = environ["SCRIPT_FILENAME"]
    content = open(path).read() if os.path.isfile(path) else None
    keys = ("SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO", "mod_wsgi.handler_script",
            "mod_wsgi.process_group", "mod_wsgi.application_group", "mod_wsgi.callable_object")
    body = json.dumps(dict({k: environ.get(k) for k in keys}, content=content, pid=os.getpid(),
                           authorization=environ.get("HTTP_AUTHORIZATION"))).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def application(environ, start_response):
    start_response("500 Wrong Entry Point", [("Content-Type", "text/plain")])
    return [b"application is not a handler script's entry point"]
