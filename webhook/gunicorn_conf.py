"""gunicorn settings for the service: ``gunicorn -c webhook/gunicorn_conf.py "webhook:create_app()"``.

The app is not preloaded: each worker builds it, so each loads and checks the model itself, and
a model that fails to load stops the worker from booting (and gunicorn from starting).
"""

import glob
import os
import shutil
import tempfile

bind = os.environ.get("MODERATION_BIND", "127.0.0.1:8000")
try:
    workers = int(os.environ.get("MODERATION_WORKERS", "2"))
except ValueError:
    raise SystemExit(f"MODERATION_WORKERS must be a whole number such as 2, got {os.environ['MODERATION_WORKERS']!r}") from None
if workers < 1:  # gunicorn would listen with no worker to answer
    raise SystemExit(f"MODERATION_WORKERS must be 1 or more, got {os.environ.get('MODERATION_WORKERS')!r}")
worker_class = "sync"
preload_app = False
timeout = 30
graceful_timeout = 10
keepalive = 2
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "moderation"
control_socket_disable = True
# The workers' heartbeat files change on every request: on a disk-backed folder that traffic shares
# the filesystem journal with the database's commits. Keep it in memory where there is such a place.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # unused, and two servers on one machine would share its path


def on_starting(server):
    """Give the workers a shared folder for their metrics, empty at each start."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in glob.glob(os.path.join(folder, "*.db")):  # counts left by an earlier run
            os.remove(name)
    else:
        memory = "/dev/shm" if os.path.isdir("/dev/shm") else None
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="moderation-metrics-", dir=memory)


def post_worker_init(worker):
    """Freeze what the worker built at start (model arrays' owners, language tables, the app) out of
    the garbage collector's sight. Otherwise the first full collections walk those hundreds of
    thousands of long-lived objects: a 50 ms pause inside a request, with the database's write lock
    held, stalls every worker. New objects are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    """Drop a dead worker's live gauges from /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if os.path.basename(folder).startswith("moderation-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)
