# A WSGIDispatchScript routing by the Host header.
ROUTES = {
    "blog.example": ("blog", "blog-app", None),
    "shop.example": ("shop", "%{GLOBAL}", None),
    "embedded.example": ("%{GLOBAL}", None, "other"),
    "missing.example": ("undefinedgrp", None, None),
}


def _route(environ):
    return ROUTES.get(environ.get("HTTP_HOST", "").split(":")[0], (None, None, None))


def process_group(environ):
    if environ.get("HTTP_HOST", "").startswith("raise."):
        raise RuntimeError("dispatch script raised for " + environ["HTTP_HOST"])
    if environ.get("HTTP_HOST", "").startswith("number."):
        return 42
    return _route(environ)[0]


def application_group(environ):
    return _route(environ)[1]


def callable_object(environ):
    return _route(environ)[2]
