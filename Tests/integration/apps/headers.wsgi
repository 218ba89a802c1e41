def application(environ, start_response):
    start_response("201 Created", [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-Custom", "custom value"),
        ("X-Latin1", "caf\u00e9"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Cache-Control", "no-store"),
    ])
    return [b"created"]
