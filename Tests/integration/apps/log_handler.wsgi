# Logs through mod_wsgi.LogHandler (mod_wsgi 6) at every level, each line with the token from
# the query string; answers with facts about the handler type.
import json
import logging

import mod_wsgi

logger = logging.getLogger("app")
logger.setLevel(1)
logger.propagate = False
handler = mod_wsgi.LogHandler()
handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
logger.addHandler(handler)


def application(environ, start_response):
    token = environ["QUERY_STRING"]
    for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, 35, logging.INFO, logging.DEBUG, 5):
        logger.log(level, "level-%d-%s", level, token)
    logger.error("first-%s\nsecond-%s", token, token)
    facts = {"subclass": issubclass(mod_wsgi.LogHandler, logging.Handler),
             "module": mod_wsgi.LogHandler.__module__, "same": mod_wsgi.LogHandler is type(handler)}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(facts).encode()]
