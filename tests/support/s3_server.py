"""moto's S3 server for the tests, with each write atomic, as in S3.

moto checks `If-None-Match: *` and then stores, in two steps, and its
server runs requests on threads at once: two racing conditional creates
could both pass the check. S3 itself makes them atomic, so here every
PUT, POST and DELETE runs alone; reads still run side by side.

Usage: python3 s3_server.py HOST PORT (PORT 0: the system picks; the
address is printed as "Running on http://HOST:PORT").
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
writes = threading.Lock()


def one_write_at_a_time(environ, start_response):
    if environ["REQUEST_METHOD"] in ("PUT", "POST", "DELETE"):
        with writes:
            return list(app(environ, start_response))
    return app(environ, start_response)


run_simple(
    sys.argv[1],
    int(sys.argv[2]),
    one_write_at_a_time,
    threaded=True,
    request_handler=MotoRequestHandler,
)
