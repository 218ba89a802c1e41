# Records in <data>/close-<id>.log how many chunks were produced and whether
# close() was called.  QUERY_STRING: id=..&mode=normal|fail|generator|slow
import os
import time
from urllib.parse import parse_qs


def data_dir(environ):
    return os.path.join(os.path.dirname(os.path.dirname(environ["SCRIPT_FILENAME"])), "data")


def record(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


class Result:
    def __init__(self, path, chunks, size, delay, fail_at=None):
        self.path, self.chunks, self.size, self.delay = path, chunks, size, delay
        self.fail_at = fail_at
        self.produced = 0

    def __iter__(self):
        for i in range(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("iteration-failure-in-close-app")
            self.produced += 1
            yield b"x" * self.size
            if self.delay:
                time.sleep(self.delay)

    def close(self):
        record(self.path, "closed produced=%d" % self.produced)


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    ident, mode = q["id"][0], q.get("mode", ["normal"])[0]
    path = os.path.join(data_dir(environ), "close-%s.log" % ident)
    record(path, "started")
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if mode == "normal":
        return Result(path, 3, 10, 0)
    if mode == "fail":
        return Result(path, 3, 10, 0, fail_at=1)
    if mode == "slow":
        # ~64 MiB slowly: the client goes away long before the end
        return Result(path, 1000, 65536, 0.01)
    if mode == "generator":
        def gen():
            try:
                yield b"a"
                yield b"b"
            finally:
                record(path, "closed generator")
        return gen()
    raise ValueError(mode)
