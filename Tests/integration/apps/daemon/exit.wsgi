# Ends its process at once with os._exit(QUERY_STRING), as an app that gives up might.
import os


def application(environ, start_response):
    os._exit(int(environ["QUERY_STRING"]))
