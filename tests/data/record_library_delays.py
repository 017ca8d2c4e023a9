"""Record the retry delays of real retry libraries, for the timing judges' table tests (tests/test_backoff.py).

    python tests/data/record_library_delays.py    # writes tests/data/library_delays.json (about two minutes)

Each library's client (tests/clients/libclient.py, configured as its documentation suggests) runs RUNS times side
by side against golive's recording proxy answering 503 to everything, with golive's noise meter running, exactly
as RETRY-106/107 run it. The JSON keeps the delays, the noise measured around each, and the library's version.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import sys
from pathlib import Path

from checker.backoff import delays_of
from checker.harness.noise import NoiseMeter
from checker.harness.process import run_client
from checker.harness.proxy import RecordingProxy, Scenario, status

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent / "clients" / "libclient.py"
PDF = HERE.parent.parent / "examples" / "mintfax" / "good" / "documents" / "invoice.pdf"
RUNS = 6  # as many as RETRY-106/107 run at most (they judge the first 3, then one more at a time)
LIBRARIES = {  # --lib -> the package whose version the delays belong to
    "urllib3-b0": "urllib3",
    "urllib3-post": "urllib3",
    "httpx-retries": "httpx-retries",
    "tenacity": "tenacity",
    "tenacity-fixed": "tenacity",
    "stamina": "stamina",
    "backoff": "backoff",
    "stripe": "stripe",
    "hammer": "requests",
}


async def one_run(lib: str, n: int) -> tuple[list[float], list[float]]:
    async with RecordingProxy("http://127.0.0.1:9", Scenario(then=status(503, "service_unavailable"))) as proxy:
        command = f"{{python}} {CLIENT} --lib {lib} --to +15005550000 --file {PDF} --ref run-{n}"
        env = {"MINTFAX_BASE_URL": proxy.url, "MINTFAX_API_KEY": "fx_test_recording0000"}
        await run_client(command, {"python": sys.executable}, env=env, cwd=HERE, timeout_s=120)
        posts = [a for a in proxy.attempts if a.method == "POST"]
        return delays_of([a.answered_at for a in posts], [a.t for a in posts]), [proxy.started + a.t for a in posts[1:]]


async def record(lib: str) -> dict[str, object]:
    meter = await NoiseMeter().start()
    try:
        runs = await asyncio.gather(*(one_run(lib, n) for n in range(RUNS)))
        noise = meter.noise([ends for _, ends in runs])
    finally:
        await meter.stop()
    return {
        "package": LIBRARIES[lib],
        "version": importlib.metadata.version(LIBRARIES[lib]),
        "delays": [[round(d, 4) for d in delays] for delays, _ in runs],
        "noise_local": [[round(x, 4) for x in run] for run in noise.local],
        "noise_samples": noise.samples,
    }


async def main() -> None:
    recorded = {}
    for lib in LIBRARIES:
        recorded[lib] = await record(lib)
        print(lib, recorded[lib]["delays"], flush=True)
    (HERE / "library_delays.json").write_text(json.dumps(recorded, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
