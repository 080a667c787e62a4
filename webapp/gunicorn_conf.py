"""gunicorn settings for gridmap (``gunicorn --config python:webapp.gunicorn_conf``).

``gridmap serve`` uses them; the bind address and the worker count come from its options.
"""
from gridmap.config import load_settings

_settings = load_settings()

# gunicorn's own answers to malformed requests (400, 414, 431…) as JSON, like the app's.
worker_class = "webapp.gunicorn_worker.JsonErrorSyncWorker"

# PostgreSQL cancels a slow statement (GRIDMAP_STATEMENT_TIMEOUT_MS) and the app answers 503
# well before gunicorn would kill the worker and answer with an empty connection.
timeout = max(30, _settings["statement_timeout_ms"] // 1000 + 15)
graceful_timeout = 10

# gunicorn's defaults, stated: a request line up to 4094 bytes, 100 header fields of up to
# 8190 bytes each. Longer ones are answered 414/431 in JSON by the worker class above.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
