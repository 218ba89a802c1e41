# large-list: 1 MiB returned as a list of sixteen 64 KiB chunks ("AAA...", "BBB...", ...).
CHUNKS = [bytes([65 + i]) * 65536 for i in range(16)]
HEADERS = [("Content-Type", "application/octet-stream"),
           ("Content-Length", str(sum(len(c) for c in CHUNKS)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return CHUNKS
