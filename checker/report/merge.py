"""One report from the reports of parallel jobs."""

from __future__ import annotations

import json

from checker.model import Coverage, Result, RunResult, verdict_of

# how bad a status is, when two runs judged the same rule
SEVERITY_OF_STATUS = {"fail": 6, "error": 5, "manual": 4, "waived": 3, "pass": 2, "attested": 2, "skip": 1}


def merge_runs(runs: list[RunResult], fail_on: str | None = None) -> RunResult:
    """One report from the reports of parallel jobs: every rule once, the worst verdict on a rule two jobs ran."""
    from checker.errors import ConfigError, Problem

    providers = {(r.provider, r.environment) for r in runs}
    if len(providers) > 1:
        found = ", ".join(f"{p} ({e})" for p, e in sorted(providers))
        raise ConfigError([Problem("report merge", None, "provider", f"the reports are of different runs: {found}")])
    chosen: dict[str, Result] = {}
    order: list[str] = []
    for run in runs:
        for result in run.results:
            current = chosen.get(result.rule.id)
            if current is None:
                order.append(result.rule.id)
                chosen[result.rule.id] = result
            elif SEVERITY_OF_STATUS[result.status.value] > SEVERITY_OF_STATUS[current.status.value]:
                chosen[result.rule.id] = result
    results = tuple(chosen[i] for i in order)
    coverage = merged_coverage(runs)
    threshold = fail_on or ("warning" if any(r.fail_on == "warning" for r in runs) else "blocker")
    waivers = {json.dumps(dict(w), sort_keys=True): w for run in runs for w in run.waivers}
    return RunResult(
        provider=runs[0].provider,
        environment=runs[0].environment,
        started_at=min(r.started_at for r in runs),
        duration_s=max(r.duration_s for r in runs),
        verdict="not ready"
        if any(r.verdict != "ready" and r.interrupted for r in runs) or (coverage and coverage.required_not_probed)
        else verdict_of(results, threshold),
        interrupted=any(r.interrupted for r in runs),
        results=results,
        tool_version=runs[0].tool_version,
        fail_on=threshold,
        waivers=tuple(waivers.values()),
        config_file=runs[0].config_file,
        coverage=coverage,
        context=runs[0].context,
        locations=runs[0].locations,
    )


def merged_coverage(runs: list[RunResult]) -> Coverage | None:
    """The jobs' coverage together: a rule one job probed is probed, whatever another job did not configure."""
    recorded = [run.coverage for run in runs if run.coverage is not None]
    if not recorded:  # reports from before coverage was recorded: nothing to say
        return None
    probed: dict[str, set[str]] = {}
    missing: dict[str, set[str]] = {}
    erred: dict[str, set[str]] = {}
    for coverage in recorded:
        for found, into in ((coverage.probed, probed), (coverage.not_configured, missing), (coverage.could_not_probe, erred)):
            for target, ids in found.items():
                into.setdefault(target, set()).update(ids)
    seen = {rule_id for ids in probed.values() for rule_id in ids}
    not_configured = {t: tuple(sorted(ids - seen)) for t, ids in missing.items() if ids - seen}
    required = sorted({t for coverage in recorded for t in coverage.required})
    judged = {result.rule.id for run in runs for result in run.results}
    left_out = [set(run.coverage.deselected if run.coverage else ()) for run in runs]  # by every job: no job ran them
    deselected = sorted(set.intersection(*left_out) - judged) if left_out else []
    return Coverage(
        probed={t: tuple(sorted(ids)) for t, ids in probed.items()},
        not_configured=not_configured,
        could_not_probe={t: tuple(sorted(ids)) for t, ids in erred.items() if t not in probed},
        required=tuple(required),
        required_not_probed=tuple(t for t in required if t not in probed),
        deselected=tuple(deselected),
    )
