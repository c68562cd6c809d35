"""gunicorn's settings for kb, read by the Dockerfile's command and by the benchmark:
`gunicorn -c kb/gunicorn_conf.py kb.wsgi:application`. Each can be changed from the environment.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: a page is a few milliseconds of CPU, so more workers than about two a core only
# add memory. Slow clients belong behind a proxy that buffers them (README, "Deployment").
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# A worker is replaced after this many requests, so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# "-" logs each request to stdout; an empty value turns the access log off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None


def post_worker_init(worker) -> None:
    """Move everything loaded at startup out of the garbage collector's sight.

    Django, the URLconf and the libraries are ~70,000 long-lived objects, which every full
    collection would walk again: a 15-20 ms pause that lands on whichever request triggered it.
    Frozen, they are never scanned; nothing frozen here is garbage later.
    """
    import gc

    from django.urls import get_resolver

    # Import every view now rather than on a first request, so they are frozen too.
    get_resolver().check()
    gc.freeze()
