"""KEY-001..004 and FILE-001/002 on real git repositories and real documents; SARIF for their findings."""

from __future__ import annotations

import asyncio
import json
import subprocess

import docx
import jsonschema
import openpyxl
import pytest
from PIL import Image

from checker import engine
from checker.config import load_config
from checker.model import Status
from checker.packs import load_pack
from checker.redact import mask
from checker.samples import ELF_EXECUTABLE
from tests.conftest import golive, run_rules, sarif_schema

LIVE_KEYS = {  # file -> (content, line of the key)
    "app/settings.py": ('import os\n\nAPI_KEY = "fx_live_8Hq2ZtR4vX9mP1cL7nB3"\n', 3),
    "notebook.ipynb": (
        json.dumps({"cells": [{"cell_type": "code", "source": ["client = Mintfax('mfx_live_Q7wE3rT9yU1iO5pA')\n"]}]}, indent=1),
        6,
    ),
    "config/app.yaml": ("mintfax:\n  url: https://api.mintfax.com\n  key: fx_live_Z9x8C7v6B5n4M3a2Lk\n", 3),
    ".env": ("MINTFAX_API_KEY=fx_live_Jd83hF72kS91mQ04zX\nOTHER=1\n", 1),
    "static/app.min.js": ("var a=1;" * 400 + 'var k="fx_live_Wq71Xe82Rc93Tv04";' + "var b=2;" * 400 + "\n", 1),
}
PLANTED_LIVE_KEYS = (
    "fx_live_8Hq2ZtR4vX9mP1cL7nB3",
    "mfx_live_Q7wE3rT9yU1iO5pA",
    "fx_live_Z9x8C7v6B5n4M3a2Lk",
    "fx_live_Jd83hF72kS91mQ04zX",
    "fx_live_Wq71Xe82Rc93Tv04",
)
PLACEHOLDERS = (
    "Set MINTFAX_API_KEY to your live key, e.g. fx_live_XXXXXXXX or fx_live_your_key_here.\n"
    "Never commit <fx_live_...>. Example: fx_live_EXAMPLEKEY123456 or fx_live_aaaaaaaaaaaa.\n"
)
SANDBOX_KEYS = {
    "deploy/prod/app.env": "MINTFAX_API_KEY=fx_test_Pr0dSandb0xK3y9x\n",
    "config/production.yaml": "key: mfx_test_N0tF0rPr0duct10n7\n",
    "app/dev.env": "MINTFAX_API_KEY=fx_test_D3vIsF1neHere42\n",  # not a production path
}


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    """A git repo with planted keys, a placeholder doc, an untracked and an ignored file, a binary file."""
    root = tmp_path / "integration"
    root.mkdir()
    files = {name: content for name, (content, _) in LIVE_KEYS.items()}
    files.update(SANDBOX_KEYS)
    files["docs/README.md"] = PLACEHOLDERS
    files[".gitignore"] = "secrets.local\n"
    files["src/clean.py"] = "def send(): return 'no keys here, only fx_live_ as a word'\n"
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    (root / "assets").mkdir()
    (root / "assets" / "blob.bin").write_bytes(b"\x00\x01" + b"fx_live_B1nAryK3yN0tScanned" + bytes(100))
    (root / "untracked.py").write_text('KEY = "fx_live_Untr4ck3dK3yH3r3"\n')
    (root / "secrets.local").write_text("fx_live_Ign0r3dByG1tHere\n")
    git(root, "init", "-q")
    git(root, "add", *files, "assets/blob.bin")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    return root


def write_config(root, body: str = "", key: str = "${MINTFAX_API_KEY}", environ: dict[str, str] | None = None) -> object:
    (root / "golive.yaml").write_text(f"provider: mintfax\nsandbox:\n  url: builtin\n  api_key: {key}\n{body}")
    return load_config(root / "golive.yaml", environ=environ or {"MINTFAX_API_KEY": "fx_test_Cfg0123456789ab"})


def test_key_002_finds_live_keys_in_tracked_files_only(project):
    result = run_rules(write_config(project), "KEY-002")["KEY-002"]
    assert result.status is Status.FAIL
    found = {(e["file"], e["line"]) for e in result.evidence}
    assert found == {(name, line) for name, (_, line) in LIVE_KEYS.items()}
    assert {e["match"] for e in result.evidence} == {mask(key) for key in PLANTED_LIVE_KEYS}
    assert all(e["match"].count("…") == 1 and len(e["match"]) < 16 for e in result.evidence)
    everything = result.message + json.dumps(result.evidence)
    for key in PLANTED_LIVE_KEYS:
        assert key not in everything and key[-8:] not in everything
    for outsider in ("untracked.py", "secrets.local", "docs/README.md", "assets/blob.bin", "src/clean.py"):
        assert outsider not in everything
    assert "1 binary" in result.message


def test_key_002_passes_on_a_clean_repo_and_skips_outside_git(project, tmp_path):
    for name in LIVE_KEYS:
        git(project, "rm", "-q", name)  # staged: the next commit no longer holds them
    assert run_rules(write_config(project), "KEY-002")["KEY-002"].status is Status.PASS
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    result = run_rules(write_config(plain), "KEY-002")["KEY-002"]  # selected: not probing it is an error (docs/design.md §4)
    assert result.status is Status.ERROR and result.message.startswith("selected, but ")
    assert "is not in a git repository: nothing is committed" in result.message


def test_key_002_is_an_error_when_git_fails_otherwise(project):
    (project / ".git" / "index").write_bytes(b"garbage")  # a corrupt index: git cannot list files
    result = run_rules(write_config(project), "KEY-002")["KEY-002"]
    assert result.status is Status.ERROR and "cannot list tracked files" in result.message


def test_key_002_respects_repo_paths(project):
    result = run_rules(write_config(project, 'repo: {paths: ["app"]}\n'), "KEY-002")["KEY-002"]
    assert {e["file"] for e in result.evidence} == {"app/settings.py"}


def test_key_003_finds_sandbox_keys_in_production_paths(project):
    config = write_config(project, 'repo:\n  production_paths: ["deploy/prod/**", "config/production*"]\n')
    result = run_rules(config, "KEY-003")["KEY-003"]
    assert result.status is Status.FAIL
    assert {(e["file"], e["line"]) for e in result.evidence} == {("deploy/prod/app.env", 1), ("config/production.yaml", 1)}
    assert "fx_test_Pr0dSandb0xK3y9x" not in result.message + json.dumps(result.evidence)
    clean = write_config(project, 'repo:\n  production_paths: ["src/**"]\n')  # a tracked file without a sandbox key
    assert run_rules(clean, "KEY-003")["KEY-003"].status is Status.PASS
    unset = run_rules(write_config(project), "KEY-003")["KEY-003"]  # no production paths, and selected: an error
    assert (
        unset.status is Status.ERROR
        and unset.message == "selected, but no production paths configured (repo.production_paths in golive.yaml)"
    )


@pytest.mark.parametrize(
    ("environment", "key", "status"),
    [
        ("sandbox", "fx_test_Cfg0123456789ab", Status.PASS),
        ("sandbox", "mfx_test_Cfg0123456789ab", Status.PASS),
        ("sandbox", "fx_live_Cfg0123456789ab", Status.FAIL),
        ("live", "fx_live_Cfg0123456789ab", Status.PASS),
        ("live", "fx_test_Cfg0123456789ab", Status.FAIL),
        ("sandbox", "sk_test_Cfg0123456789ab", Status.FAIL),
    ],
)
def test_key_001_prefix_matches_environment(tmp_path, environment, key, status):
    config = write_config(tmp_path, f"environment: {environment}\n", key="${KEY}", environ={"KEY": key})
    result = run_rules(config, "KEY-001")["KEY-001"]
    assert result.status is status, result.message
    assert key not in result.message
    if status is Status.FAIL:
        assert "golive.yaml:4" in result.message


def test_key_004_literal_keys_fail_with_their_line(tmp_path):
    literal = write_config(
        tmp_path, "webhook: {url: 'http://127.0.0.1:9', secret: whsec_l1t3ralS3cr3tV4lue}\n", key="fx_test_L1t3ral0123456"
    )
    result = run_rules(literal, "KEY-004")["KEY-004"]
    assert result.status is Status.FAIL
    assert "sandbox.api_key (golive.yaml:4)" in result.message and "webhook.secret (golive.yaml:5)" in result.message
    assert "L1t3ral0123456" not in result.message and "l1t3ralS3cr3tV4lue" not in result.message
    assert run_rules(write_config(tmp_path), "KEY-004")["KEY-004"].status is Status.PASS


# ---------------------------------------------------------------- documents


@pytest.fixture
def documents(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    image = Image.new("RGB", (64, 64), "white")
    image.save(folder / "scan.pdf")
    image.save(folder / "logo.png")
    image.save(folder / "page.tiff")
    image.save(folder / "photo.jpg")
    document = docx.Document()
    document.add_paragraph("Invoice 42")
    document.save(folder / "letter.docx")
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "total"
    workbook.save(folder / "sheet.xlsx")
    (folder / "note.txt").write_text("Please find the invoice attached.\n")
    (folder / "cover.html").write_text("<!DOCTYPE html><html><body><h1>Cover</h1></body></html>")
    return tmp_path


def test_file_001_and_002_pass_on_real_documents(documents):
    config = write_config(documents, 'documents: ["documents/*"]\n')
    results = run_rules(config, "FILE-001", "FILE-002")
    assert results["FILE-001"].status is Status.PASS, results["FILE-001"].message
    assert {e["content"] for e in results["FILE-001"].evidence} == {"pdf", "png", "tiff", "jpg", "docx", "xlsx", "txt", "html"}
    assert results["FILE-002"].status is Status.PASS


def test_file_001_judges_content_not_names(documents):
    folder = documents / "documents"
    (folder / "contract.pdf").write_bytes(ELF_EXECUTABLE)
    (folder / "letter.docx").rename(folder / "letter.pdf")
    config = write_config(documents, 'documents: ["documents/*"]\n')
    result = run_rules(config, "FILE-001")["FILE-001"]
    assert result.status is Status.FAIL
    assert "documents/contract.pdf is elf, not an accepted type" in result.message
    assert "documents/letter.pdf is docx but named .pdf" in result.message
    assert "scan.pdf" not in result.message


def test_file_002_names_only_the_oversized_document(documents):
    (documents / "documents" / "huge.txt").write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    result = run_rules(write_config(documents, 'documents: ["documents/*"]\n'), "FILE-002")["FILE-002"]
    assert result.status is Status.FAIL
    assert result.message == "files must be under 10 MB (10,000,000 bytes): documents/huge.txt (10,485,761 bytes)"


@pytest.mark.parametrize(("size", "status"), [(9_999_999, Status.PASS), (10_000_000, Status.FAIL), (10 * 1024 * 1024, Status.FAIL)])
def test_file_002_reads_under_10_mb_strictly(documents, size, status):
    """ "Files are under 10 MB": 10,000,000 bytes is not under it; 10 MiB passed before issue 17."""
    (documents / "documents" / "big.txt").write_bytes(b"x" * size)
    result = run_rules(write_config(documents, 'documents: ["documents/big.txt"]\n'), "FILE-002")["FILE-002"]
    assert result.status is status, result.message


def test_documents_that_match_nothing_are_an_error(tmp_path):
    results = run_rules(write_config(tmp_path, 'documents: ["docs/*.pdf"]\n'), "FILE-001", "FILE-002")
    for result in results.values():
        assert result.status is Status.ERROR and "no file matches documents: docs/*.pdf" in result.message


def test_no_documents_is_a_skip_with_the_reason_and_an_error_when_selected(tmp_path):
    selected = run_rules(write_config(tmp_path), "FILE-001")["FILE-001"]
    assert (selected.status, selected.message) == (Status.ERROR, "selected, but no documents configured (documents: in golive.yaml)")
    run = asyncio.run(
        engine.run(write_config(tmp_path), load_pack("mintfax"), engine.RunOptions(ignore=("IDEM", "RETRY", "RATE", "ERR", "HOOK")))
    )
    result = next(r for r in run.results if r.rule.id == "FILE-001")
    assert (result.status, result.message) == (Status.SKIP, "no documents configured (documents: in golive.yaml)")


# ---------------------------------------------------------------- SARIF and the pre-commit hook


@pytest.mark.slow
def test_sarif_validates_and_locates_findings(project):
    (project / "golive.yaml").write_text(
        "provider: mintfax\nsandbox: {url: builtin, api_key: fx_test_L1t3ral0123456}\n"
        "repo:\n  production_paths: ['deploy/prod/**']\n"
        "waivers:\n  - {rule: KEY-003, reason: staging only, expires: 2099-01-01, by: ops@example.com}\n"
    )
    done = golive("check", "--select", "KEY", "--format", "sarif,json", "--output", "out", cwd=project)
    assert done.returncode == 1, done.stderr
    sarif = json.loads((project / "out" / "report.sarif").read_text())
    jsonschema.validate(sarif, sarif_schema())
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"KEY-001", "KEY-002", "KEY-003", "KEY-004"}
    by_rule: dict[str, list[dict]] = {}
    for item in run["results"]:
        by_rule.setdefault(item["ruleId"], []).append(item)
    places = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in by_rule["KEY-002"]
    }
    assert places == {(name, line) for name, (_, line) in LIVE_KEYS.items()}
    assert all(r["level"] == "error" for r in by_rule["KEY-002"])
    assert by_rule["KEY-003"][0]["suppressions"][0]["kind"] == "external"  # waived
    assert by_rule["KEY-004"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "golive.yaml"
    assert "KEY-001" not in by_rule  # passed
    text = (project / "out" / "report.sarif").read_text()
    assert "8Hq2ZtR4vX9mP1cL7nB3" not in text and "L1t3ral0123456" not in text


@pytest.mark.slow
def test_pre_commit_hook_runs_the_static_rules(project):
    from tests.conftest import ROOT

    hooks = __import__("yaml").safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "golive-static")
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    entry = hook["entry"].split()
    assert entry[0] == "golive"
    (project / "golive.yaml").write_text("provider: mintfax\nsandbox: {url: builtin}\n")
    done = golive(*entry[1:], *hook.get("args", []), cwd=project)
    assert done.returncode == 1
    assert "KEY-002" in done.stdout and "5 live keys in tracked files" in done.stdout
    assert "IDEM-001" not in done.stdout  # static rules only: nothing is probed over the network
    # the documented snippet (docs/rules.md, "Keys and documents") is this hook, as a local one (no placeholder repository or rev)
    readme = (ROOT / "docs" / "rules.md").read_text()
    start = readme.index("```yaml\n", readme.index("**pre-commit:**")) + len("```yaml\n")
    snippet = __import__("yaml").safe_load(readme[start : readme.index("```", start)])
    local = snippet["repos"][0]
    assert local["repo"] == "local"
    assert {k: v for k, v in local["hooks"][0].items() if k != "language"} == {
        k: v for k, v in hook.items() if k not in ("language", "description")
    }


def test_key_kinds_publishable_keys_and_webhook_secrets(tmp_path):
    """A pack that names key kinds (the stripe pack): a publishable key committed for front-end code is
    no finding even where the pack's live prefix would match it, a committed webhook signing secret is, and a
    publishable key configured as the API key fails KEY-001 for what it is."""

    pack = "stripe"
    root = tmp_path / "shop"
    (root / "web").mkdir(parents=True)
    (root / "web" / "checkout.js").write_text('Stripe("pk_live_51Hx9Qw2Er4Ty6Ui8Op0");\n')  # front-end code: expected
    (root / "server.env").write_text("STRIPE_KEY=sk_live_51Hx9Qw2Er4Ty6Ui8Op1\nSTRIPE_WEBHOOK_SECRET=whsec_9f8e7d6c5b4a39281706\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")

    def config(key: str) -> object:
        (root / "golive.yaml").write_text(f"provider: {pack}\nsandbox:\n  url: builtin\n  api_key: ${{STRIPE_KEY}}\n")
        return load_config(root / "golive.yaml", environ={"STRIPE_KEY": key})

    results = run_rules(config("sk_test_51Hx9Qw2Er4Ty6Ui8Op2"), "KEY-001", "KEY-002")
    assert results["KEY-001"].status is Status.PASS, results["KEY-001"].message
    found = results["KEY-002"]
    assert found.status is Status.FAIL
    assert {(e["file"], e["line"]) for e in found.evidence} == {("server.env", 1), ("server.env", 2)}, found.evidence
    assert found.message.startswith("2 live keys or webhook secrets in tracked files: server.env:1"), found.message
    assert "checkout.js" not in found.message
    publishable = run_rules(config("pk_test_51Hx9Qw2Er4Ty6Ui8Op3"), "KEY-001")["KEY-001"]
    assert publishable.status is Status.FAIL and "is a publishable key (pk_test_…)" in publishable.message, publishable.message


# ---------------------------------------------------------------- issue 26: a scan of nothing passes nothing


def test_key_002_and_003_pass_nothing_on_a_scan_of_no_file(project, tmp_path):
    """An empty repository, repo.paths that select no tracked file, production paths that match none, or only binary
    files: nothing was read, so nothing vouches that no key is committed (before: pass, "0 tracked files scanned")."""
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    result = run_rules(write_config(empty), "KEY-002")["KEY-002"]
    assert result.status is Status.ERROR, result.message  # selected alone: nothing of the run judged anything (issue 29)
    assert (
        result.message
        == "selected, but git tracks no file yet (no commits, nothing staged): nothing is committed, so there is nothing to scan"
    )
    nowhere = run_rules(write_config(project, 'repo: {paths: ["nothing-here"]}\n'), "KEY-002")["KEY-002"]
    assert nowhere.status is Status.ERROR and "repo.paths (golive.yaml:" in nowhere.message, nowhere.message
    binary = run_rules(write_config(project, 'repo: {paths: ["assets"]}\n'), "KEY-002")["KEY-002"]
    assert binary.status is Status.ERROR and "1 binary skipped" in binary.message and "none was read" in binary.message, binary.message
    staging = run_rules(write_config(project, 'repo:\n  production_paths: ["deploy/staging/**"]\n'), "KEY-003")["KEY-003"]
    assert staging.status is Status.ERROR and "repo.production_paths (golive.yaml:" in staging.message, staging.message
    clean = run_rules(write_config(project, 'repo:\n  production_paths: ["src/**"]\n'), "KEY-003")["KEY-003"]
    assert clean.status is Status.PASS and "1 tracked files scanned" in clean.message, clean.message
