# stream: 64 KiB yielded by a generator as 64 blocks of 1 KiB ("0000...", "0001...", ...),
# without Content-Length: each block must reach the client as it comes (PEP 3333).
BLOCKS = [b"%04d" % i * 256 for i in range(64)]


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return (block for block in BLOCKS)
