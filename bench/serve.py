"""Serve one app for a benchmark in this process: `python bench/serve.py bare|mintfax|flexforward PORT [STATE_FILE]`
(without a state file, the sandbox keeps its state in memory, as `golive sandbox` does without `--db`)."""

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checker.sandbox.app import SandboxOptions
from checker.sandbox.packed import build_app
from checker.sandbox.server import bind

which, port = sys.argv[1], int(sys.argv[2])
if which == "bare":
    from bare_app import app
else:
    app = build_app(which, db=sys.argv[3] if len(sys.argv) > 3 else None, options=SandboxOptions(rate_limit=0))
config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
uvicorn.Server(config).run(sockets=[bind("127.0.0.1", port)])
