"""Retry schedules from documents, SDK behaviour as SDK behaviour (issue 26, item 6): RETRY-106 with a pack whose
schedule no provider document states, only its official SDKs (`retry.sdk_schedules`), proven with the SDKs themselves.

Stripe documents no retry delays (its "Errors" page: "We recommend an exponential backoff of your requests", no
numbers). Its two official SDKs golive knows wait differently — read in their source:

- stripe-python 16.1.0 (stripe/_http_client.py): the retry loop counts `num_retries += 1` before it asks for a delay
  (:291-292), and `_sleep_time_seconds(num_retries)` (:164-179) waits min(INITIAL_DELAY · 2^(num_retries-1),
  MAX_DELAY) (:170-173; INITIAL_DELAY = 0.5, MAX_DELAY = 5 at :86-87), times 0.5 · (1 + U(0, 1)) (`_add_jitter_time`,
  :186), never under INITIAL_DELAY (:177). Retry 1, 2, 3…: 0.5, U(0.5, 1), U(1, 2), U(2, 4), U(2.5, 5) s.
- stripe-node 22.5.0 (cjs/RequestSender.js): `retryRequest` asks `_getSleepTimeInMS(requestRetries)` with the count of
  retries made so far (:358-360), which starts at 0 (`makeRequest(apiVersion, headers, 0)`, :460; `requestRetries =
  numRetries || 0`, :398); `_getSleepTimeInMS` (:190-203) waits min(initial · 2^(numRetries-1), max) (:196), times
  0.5 · (1 + Math.random()) (:199), never under the initial delay (:201), with initial 0.5 s and max 5 s
  (cjs/stripe.core.js:100-101, returned at :389-394). Retry 1, 2, 3…: 0.5, 0.5, U(0.5, 1), U(1, 2) s — the base
  twice, one doubling behind stripe-python. `maxNetworkRetries` defaults to 2 on Node
  (cjs/platform/PlatformFunctions.js:52-53), the value the README's example sets ("Retry a request twice before
  giving up"); with it, each persistent failure gets 3 attempts.

Before this item the stripe pack called stripe-python's schedule the documented one and accepted only it (and an
exact 0.5, 1, 2, 4 s that neither SDK uses): stripe-node with maxNetworkRetries 2 was `error` ("inconclusive after 6
runs … 6 of 12 delays are shorter than the documented 0.5, 1 s: … the provider documents exact delays") and with 3 it
failed ("… shorter than the documented 0.5, 1, 2 s: they fit full jitter, but the provider documents exact delays");
stripe-python passed ("fit the floored equal jitter schedule"). Now both pass, each named as its SDK's, and a client
on a schedule neither SDK uses still fails.

stripe-node is installed by .ci/run (`npm install --prefix .ci/node stripe@22.5.0`); the tests find it there or in
STRIPE_NODE_MODULES, and skip without it only off CI (CI=true makes a missing one a failure).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import stripe

from checker.backoff import Noise, Schedule, accepted_schedules, judge_backoff
from checker.config import Config, parse_config
from checker.errors import ConfigError
from checker.file_schemas import json_schema
from checker.model import Status
from checker.packs import load_pack
from checker.probes.client import pack_schedules
from tests.conftest import ROOT, run_rules
from tests.test_schema import as_json

# slow, left out of the fast tier: official SDKs as clients, waiting out their real retry schedules
pytestmark = pytest.mark.slow

NODE_VERSION = "22.5.0"  # the stripe-node version .ci/run installs, whose source the module docstring was read in
STRIPE = pack_schedules(load_pack("stripe").facts.retry)
BEFORE = accepted_schedules(0.5, 5, 0, ["floored equal jitter"])  # what the stripe pack accepted before this item
MEASURED = Noise(samples=50, local=((0.002,) * 3,) * 6)  # a quiet machine, as the noise meter measures one


def stripe_python_window(retry: int) -> tuple[float, float]:
    """stripe-python's delay before retry `retry` (1-based), as _http_client.py computes it at U = 0 and U = 1."""
    sleep = min(0.5 * 2 ** (retry - 1), 5)
    return max(0.5, sleep * 0.5), max(0.5, sleep)


def stripe_node_window(retry: int) -> tuple[float, float]:
    """stripe-node's: `_getSleepTimeInMS(numRetries)` with numRetries = retries made before this one (from 0)."""
    sleep = min(0.5 * 2 ** (retry - 1 - 1), 5)
    return max(0.5, sleep * 0.5), max(0.5, sleep)


# ---------------------------------------------------------------- the schedules, as the SDKs compute them


def test_the_stripe_pack_accepts_each_official_sdks_schedule_and_no_documented_one():
    assert [(s.sdk, s.model) for s in STRIPE] == [("stripe-python", "floored equal jitter"), ("stripe-node", "floored equal jitter")]
    python, node = STRIPE
    assert [python.window(n) for n in range(7)] == [stripe_python_window(n + 1) for n in range(7)]
    assert [node.window(n) for n in range(7)] == [stripe_node_window(n + 1) for n in range(7)]
    assert [node.window(n) for n in range(4)] == [(0.5, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 2.0)]  # the base twice
    assert not any(s.model == "documented" for s in STRIPE)


def test_packs_without_sdk_schedules_accept_what_they_accepted():
    """Old packs unchanged: a documented schedule and its variants, no SDK's."""
    for name in ("mintfax", "idunox", "flexforward"):
        schedules = pack_schedules(load_pack(name).facts.retry)
        assert schedules[0].model == "documented" and not any(s.sdk for s in schedules), name
    assert [s.model for s in pack_schedules(load_pack("mintfax").facts.retry)] == ["documented", "equal jitter", "full jitter"]


NODE_RUNS = [[0.5, 0.5, 0.73], [0.5, 0.5, 0.85], [0.5, 0.5, 0.64], [0.5, 0.5, 0.58]]  # stripe-node, maxNetworkRetries 3, recorded here
NODE_DEFAULT_RUNS = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]  # ... maxNetworkRetries 2 (its default on Node), recorded here
PYTHON_RUNS = [[0.5, 1.0, 1.49], [0.5, 0.76, 1.73], [0.5, 0.89, 1.66]]  # stripe-python, max_network_retries 3


@pytest.mark.parametrize(
    ("runs", "sdk"),
    [(NODE_RUNS, "stripe-node"), (NODE_DEFAULT_RUNS, "stripe-node"), (PYTHON_RUNS, "stripe-python")],
    ids=["node-3", "node-2", "python-3"],
)
def test_each_sdks_recorded_delays_fit_its_schedule_by_name(runs, sdk):
    verdict = judge_backoff(runs, STRIPE, MEASURED, final=True)
    assert verdict.ok is True, verdict.message
    assert f"fit {sdk}'s schedule (floored equal jitter, base 0.5 s, cap 5 s" in verdict.message
    assert verdict.schedule == f"{sdk}'s floored equal jitter"
    assert "document" not in verdict.message


@pytest.mark.parametrize("runs", [NODE_RUNS, NODE_DEFAULT_RUNS], ids=["node-3", "node-2"])
def test_stripe_nodes_delays_did_not_pass_before(runs):
    """The same delays against the schedules the stripe pack accepted before: no pass (the probe said why: "the
    provider documents exact delays", a document Stripe never wrote)."""
    verdict = judge_backoff(runs, BEFORE, MEASURED, final=True)
    assert verdict.ok is not True, verdict.message


@pytest.mark.parametrize(
    ("runs", "says"),
    [
        ([[1.2, 1.2, 1.2]] * 3, "delays do not grow: fixed 1.20 s"),
        ([[0.0, 0.0, 0.0]] * 3, "every retry is immediate"),
        ([[0.02, 0.5, 0.9]] * 3, "the first retry is immediate (0.02 s; stripe-python's schedule waits 0.5 s)"),
        ([[2.0, 4.0, 8.0], [2.1, 4.0, 8.2], [2.0, 4.2, 8.0]], "exceed the 5 s cap"),
    ],
)
def test_a_schedule_no_sdk_uses_still_fails_and_blames_no_document(runs, says):
    verdict = judge_backoff(runs, STRIPE, MEASURED, final=True)
    assert verdict.ok is False, verdict.message
    assert says in verdict.message, verdict.message
    assert "document" not in verdict.message


def test_a_deviation_from_every_sdk_names_them_all():
    """An exact doubling from 0.5 s without jitter is neither SDK's: the message says whose schedules were tried."""
    runs = [[0.5, 1.0, 2.0, 4.0]] * 4
    verdict = judge_backoff(runs, STRIPE, MEASURED, final=True)
    assert verdict.ok is not True, verdict.message
    assert "document" not in verdict.message
    assert "stripe-python" in verdict.message and "stripe-node" in verdict.message, verdict.message


# ---------------------------------------------------------------- the pack format


def bad_pack(tmp_path: Path, retry: str, provenance: str = "") -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"schema: golive-pack/1\nname: bad\nextends: stripe\nfacts:\n  retry:\n    sdk_schedules:\n{retry}"
        f"provenance:\n  retry.sdk_schedules: {{assumed: a test}}\n{provenance}"
    )
    return path


@pytest.mark.parametrize(
    ("retry", "provenance", "says"),
    [
        ("      stripe-go: {model: decorrelated jitter}\n", "", "facts.retry.sdk_schedules.stripe-go.model"),
        ("      stripe-go: {model: exact, shift: 20}\n", "", "facts.retry.sdk_schedules.stripe-go.shift"),
        ("      stripe-go: {model: exact, base: 1}\n", "", "facts.retry.sdk_schedules.stripe-go.base"),
        ("      stripe-go: {model: exact, base_s: 0}\n", "", "facts.retry.sdk_schedules.stripe-go.base_s"),
        ("      stripe-go: {}\n", "", "facts.retry.sdk_schedules.stripe-go.model"),
        ("      stripe-go: {model: exact}\n", "  retry.base_s: {assumed: x, lines: '3'}\n", "provenance.retry.base_s"),
        (
            "      stripe-go: {model: exact}\n",
            "  retry.max_delay_s: {doc: stripe/errors.md, quote: q, lines: 'three'}\n",
            "provenance.retry.max_delay_s.lines",
        ),
    ],
)
def test_a_malformed_sdk_schedule_is_refused_at_load_with_file_line_and_key(tmp_path, retry, provenance, says):
    with pytest.raises(ConfigError) as caught:
        load_pack(str(bad_pack(tmp_path, retry, provenance)))
    text = str(caught.value)
    assert says in text, text
    assert re.search(r"bad\.yaml:\d+:", text), text


def test_a_user_pack_names_its_own_sdk_schedule(tmp_path):
    """A pack that extends stripe with a third SDK's schedule (here exact delays on a base of its own): accepted under
    its name, cited in the rule's basis with its lines."""
    path = tmp_path / "more.yaml"
    path.write_text(
        "schema: golive-pack/1\nname: more\nextends: stripe\n"
        "documents:\n  go.txt: {title: 'stripe-go source, stripe.go', site: pkg.go.dev/github.com/stripe/stripe-go}\n"
        "facts:\n  retry:\n    sdk_schedules:\n      stripe-python: {model: floored equal jitter}\n"
        "      stripe-go: {model: exact, base_s: 1, max_delay_s: 4}\n"
        "provenance:\n  retry.sdk_schedules.stripe-go: {doc: go.txt, lines: '1200-1210', quote: 'a test'}\n"
        "  retry.sdk_schedules.stripe-python: {assumed: a test}\n"
    )
    pack = load_pack(str(path))
    schedules = pack_schedules(pack.facts.retry)
    assert [(s.sdk, s.window(2)) for s in schedules] == [
        ("stripe-python", (1.0, 2.0)),
        ("stripe-node", (0.5, 1.0)),
        ("stripe-go", (4.0, 4.0)),
    ]
    verdict = judge_backoff([[1.0, 2.0, 4.0]] * 3, schedules, MEASURED, final=True)
    assert verdict.ok is True and "fit stripe-go's schedule (exact, base 1 s, cap 4 s" in verdict.message, verdict.message
    basis = {item.fact: item.to_json() for item in pack.rule("RETRY-106").basis}
    assert basis["retry.sdk_schedules.stripe-go"]["documented"] == (
        "stripe-go source, stripe.go, lines 1200-1210 — https://pkg.go.dev/github.com/stripe/stripe-go"
    )
    assert json.loads(basis["retry.sdk_schedules.stripe-go"]["value"]) == {"model": "exact", "base_s": 1.0, "max_delay_s": 4.0}


def test_a_pack_extending_stripe_states_a_documented_schedule_instead(tmp_path):
    """`sdk_schedules: null` drops the inherited SDK schedules: base_s and jitter_s are a document's again."""
    path = tmp_path / "documented.yaml"
    path.write_text(
        "schema: golive-pack/1\nname: documented\nextends: stripe\nfacts:\n  retry: {sdk_schedules: null, jitter_s: 0.5}\n"
        "provenance: {retry.jitter_s: {assumed: a test}}\n"
    )
    schedules = pack_schedules(load_pack(str(path)).facts.retry)
    assert [(s.model, s.sdk) for s in schedules] == [("documented", ""), ("equal jitter", ""), ("full jitter", "")]


def test_the_pack_json_schema_knows_sdk_schedules_and_lines():
    schema = jsonschema.Draft202012Validator(json_schema("pack"))
    pack = as_json((ROOT / "rules" / "stripe.yaml").read_text())
    assert isinstance(pack, dict)
    assert pack["facts"]["retry"]["sdk_schedules"]["stripe-node"] == {"model": "floored equal jitter", "shift": -1}
    assert pack["provenance"]["retry.sdk_schedules.stripe-node"]["lines"] == "190-203, 358-360, 398-404"
    assert [e.message for e in schema.iter_errors(pack)] == []
    pack["facts"]["retry"]["sdk_schedules"]["stripe-node"]["model"] = "decorrelated jitter"
    assert not schema.is_valid(pack)
    pack["facts"]["retry"]["sdk_schedules"]["stripe-node"] = {"model": "exact", "shift": 99}
    assert not schema.is_valid(pack)


@pytest.mark.parametrize("sdk", ["stripe-python", "stripe-node"])
def test_the_stripe_packs_sdk_citations_point_at_the_lines_that_compute_the_delay(sdk):
    """Each SDK schedule's provenance gives the source file's lines; the quote is on one of them, in the SDK as
    installed (stripe-python for the tests, stripe-node by .ci/run)."""
    pack = load_pack("stripe")
    item = {item.fact: item.to_json() for item in pack.rule("RETRY-106").basis}[f"retry.sdk_schedules.{sdk}"]
    if sdk == "stripe-python":
        source = Path(stripe.__file__).parent / "_http_client.py"
    else:
        source = node_modules() / "stripe" / "cjs" / "RequestSender.js"
    lines = re.search(r", lines ([0-9, -]+) — ", item["documented"])
    assert lines, item
    text = source.read_text(encoding="utf-8").splitlines()
    spans = [tuple(map(int, (part.split("-") * 2)[:2])) for part in lines.group(1).split(", ")]
    cited = [text[n - 1].strip() for a, b in spans for n in range(a, b + 1)]
    assert item["quote"] in cited, (sdk, item["quote"])


# ---------------------------------------------------------------- the SDKs themselves, against the embedded sandbox


def node_modules() -> Path:
    """Where stripe-node is installed: STRIPE_NODE_MODULES, else .ci/node/node_modules (.ci/run puts it there)."""
    folder = Path(os.environ.get("STRIPE_NODE_MODULES") or ROOT / ".ci" / "node" / "node_modules")
    found = (folder / "stripe" / "package.json").is_file() and shutil.which("node") is not None
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"stripe-node is missing from {folder} (or node from PATH): .ci/run installs it")
        pytest.skip(f"stripe-node is not installed in {folder}: npm install --prefix .ci/node stripe@{NODE_VERSION} (as .ci/run does)")
    version = json.loads((folder / "stripe" / "package.json").read_text())["version"]
    assert version == NODE_VERSION, f"stripe-node {version}: re-read its retry code (module docstring) and pin it in .ci/run"
    return folder


def sdk_config(tmp_path: Path, command: str, env: dict[str, str] | None = None) -> Config:
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in (env or {}).items())
    text = (
        "provider: stripe\nsandbox: {url: builtin, api_key: sk_test_golive51Hc0ffee}\n"
        f'client:\n  command: "{command} --payment-method {{to}} --ref {{ref}}"\n'
        f'  env: {{STRIPE_BASE_URL: "{{base_url}}", STRIPE_API_KEY: "{{api_key}}"{extra}}}\n  timeout: 60\n'
    )
    return parse_config(text, str(tmp_path / "golive.yaml"), environ={})


@pytest.mark.parametrize("retries", ["2", "3"], ids=["maxNetworkRetries-2", "maxNetworkRetries-3"])
def test_stripe_node_passes_retry_106_with_its_own_schedule(tmp_path, retries):
    """stripe-node as its README shows it (maxNetworkRetries 2, also its default on Node; and 3), its delays its own:
    0.5, 0.5[, U(0.5, 1)] s. Before: `error` (2) and `fail` (3), "the provider documents exact delays"."""
    modules = node_modules()
    client = ROOT / "tests" / "clients" / "stripe_node_client.js"
    env = {"STRIPE_NODE_MODULES": str(modules), "STRIPE_MAX_NETWORK_RETRIES": retries}
    results = run_rules(sdk_config(tmp_path, f"{shutil.which('node')} {client}", env), "RETRY-106", "RETRY-108")
    result = results["RETRY-106"]
    assert result.status is Status.PASS, result.message
    assert "fit stripe-node's schedule (floored equal jitter, base 0.5 s, cap 5 s: 0.5, 0.5, 0.5-1 s" in result.message
    assert "document" not in result.message
    assert results["RETRY-108"].status is Status.PASS, results["RETRY-108"].message


def test_stripe_python_keeps_passing_with_its_schedule_named(tmp_path):
    """The good example (StripeClient, max_network_retries=3): 0.5, U(0.5, 1), U(1, 2) s, stripe-python's."""
    result = run_rules(sdk_config(tmp_path, f"{{python}} {ROOT / 'examples' / 'stripe' / 'good' / 'pay.py'}"), "RETRY-106")["RETRY-106"]
    assert result.status is Status.PASS, result.message
    assert "fit stripe-python's schedule (floored equal jitter, base 0.5 s, cap 5 s: 0.5, 0.5-1, 1-2 s" in result.message
    assert "document" not in result.message


def test_a_client_on_a_schedule_no_sdk_uses_still_fails(tmp_path):
    """tests/clients/stripe_raw_client.py sleeps a fixed 1 s between its attempts: neither SDK's schedule."""
    client = ROOT / "tests" / "clients" / "stripe_raw_client.py"
    result = run_rules(sdk_config(tmp_path, f"{{python}} {client}"), "RETRY-106")["RETRY-106"]
    assert result.status is Status.FAIL, result.message
    assert "delays do not grow: fixed 1." in result.message
    assert "document" not in result.message.split("[")[0]


def test_golives_own_schedule_is_unchanged_for_a_provider_that_documents_one():
    """A documented schedule keeps its words: mintfax documents 1, 2, 4, 8 s plus up to 1 s."""
    verdict = judge_backoff([[1.5, 2.1, 4.9, 8.3], [1.1, 2.8, 4.2, 8.6], [1.9, 2.4, 4.6, 8.9]], accepted_schedules(1, 30, 1), Noise())
    assert verdict.ok is True and "fit the documented schedule (base 1 s + U(0, 1), cap 30 s)" in verdict.message
    assert Schedule("exact", 1, 8, sdk="x").called == "x's schedule" and Schedule("documented", 1, 8).called == "the documented schedule"
