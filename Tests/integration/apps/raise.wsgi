# Raises an exception whose message comes from the query string.
def application(environ, start_response):
    raise RuntimeError("app-exception-" + environ.get("QUERY_STRING", ""))
