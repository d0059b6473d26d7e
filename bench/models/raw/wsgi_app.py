"""REST ceiling: a bare WSGI app under gunicorn's sync worker (our REST stack minus Flask and us).

Drains the request body and answers a fixed small JSON on any path, so it stands in for
/api/v1.0/predictions, /v2/models/NAME/infer and /health/ping alike.
"""

RESP = b'{"data":{"names":["t:0","t:1","t:2","t:3"],"ndarray":[[1.0,2.0,3.0,4.0]]},"meta":{}}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(RESP)))]


def app(environ, start_response):
    left = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
    start_response("200 OK", HEADERS)
    return [RESP]




def __getattr__(name):
    """``gunicorn -k wsgi_app.KeepAliveWorker``: ours' keep-alive worker, sharing connections
    through an accept board made here, in the master, which imports the worker class before
    it forks (serving.py does the same through Gunicorn's ``pre_fork`` hook)."""
    if name != "KeepAliveWorker":
        raise AttributeError(name)
    from seldon_wrapper.speedups.accept_board import AcceptBoard
    from seldon_wrapper.speedups.keepalive import KeepAliveWorker

    board = AcceptBoard()

    class Worker(KeepAliveWorker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.use_board(board)

    globals()[name] = Worker
    return Worker
