"""gunicorn settings for the web workers: `gunicorn -c dissuasion/deploy/gunicorn.conf.py app:app`.

Only the web: the scheduler is its own process (dissuasion-scheduler.service), never started here (STYLE
pitfalls: APScheduler runs its jobs once per process that starts it). Every value can be changed through the
environment without editing this file; see dissuasion/deploy/README.md.
"""
import multiprocessing
import os

#: Behind nginx on the same host; bind a unix socket (unix:/run/yujing/web.sock) or another address if needed.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: a request is CPU work in Python (templates, the importer) and one database connection, so
# threads would only share one core's GIL. nginx buffers requests and responses (proxy_request_buffering,
# proxy_buffering), so a slow phone connection never holds a worker. Two per core keeps both cores busy
# while one worker waits on PostgreSQL; each worker holds at most one database connection.
# Measured (issue 23, bench/load.py, 200 officers, 2 shared cores, one sitting): gthread with 2 threads a worker
# served 10% more than sync (57 vs 52 requests/s, both short of the 62 offered on a machine 93-96% busy with other
# tenants) but 3 requests died on a reset keep-alive connection, which sync (one request per connection) never
# has; the long requests threads would help with (a push's commit) move out of the web workers as jobs (issue 23).
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
# Threads a worker (more than 1: gunicorn's gthread worker): a request waiting on PostgreSQL lets another run.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# No keep-alive towards the client: nginx talks HTTP/1.0 to us (a connection per request) and a connection held
# open would only race its own closing (a reset) when a client comes back after the timeout.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))

# A big push is a job (a worker process commits it); a small one through the API is imported inside its request
# and may wait its turn behind another push's write, up to WEB_TURN_TIMEOUT_MS (90 s), within this timeout.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Recycle a worker now and then: a preview's peak memory (a file judged in the request) is not always given back.
# Not too often: a worker's start costs ~1.2 s of CPU (imports and create_app; preload_app is off, see below) and it
# takes no request for 2-5 s on a busy host. Measured (issue 23, bench/load.py, 140 requests/s on 2 cores): at 2,000
# with a jitter of 200, the 4 workers restarted within 5 s of each other every ~90 s, and those seconds held the
# run's slowest answers (5-7 s); the commits, which used most memory, run as jobs since issue 23. The jitter is half
# the figure, so the workers' restarts fall apart.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))

# Off: each worker builds its own app, so no database connection or open file crosses a fork, and
# `systemctl reload` (HUP) loads new code. (Issue 23 did not measure it: it changes start-up and memory; a request
# runs the same code either way.) The first start's instance/config.py is written under a file lock
# (dissuasion/config.py), so workers starting together agree on the keys.
preload_app = False

# The heartbeat file on a RAM disk, so a slow or busy disk never makes the master think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# To stdout/stderr, which systemd's journal keeps (journalctl -u dissuasion-web). %(D)s: microseconds taken.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %({x-forwarded-for}i)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'

# gunicorn itself trusts X-Forwarded-Proto only from these addresses (nginx on the same host); the app's
# ProxyFix (TRUSTED_PROXIES=1) does the same for the client address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "dissuasion-web"
