"""`golive sandbox`: the embedded sandbox served for local development, from a pack's facts, until Ctrl-C."""

from __future__ import annotations

import click


def serve(
    provider: str, host: str, port: int, *, db: str | None, rate_limit: float | None, replay_style: str, remote_webhooks: bool
) -> int:
    """Serve `provider`'s sandbox on host:port, as `golive check` serves it; exit 0 once stopped."""
    from checker.packs import load_pack
    from checker.sandbox.app import CONTROL_TOKEN_HEADER, SandboxOptions
    from checker.sandbox.server import serve as serve_app
    from checker.sandbox.store import StateFileError

    pack = load_pack(provider)
    options = SandboxOptions(rate_limit=rate_limit, replay_style=replay_style, allow_remote_webhooks=remote_webhooks)
    click.echo(f"golive sandbox: {pack.name} on http://{host}:{port}  (state: {db or 'in memory'})", err=True)
    # the one thing that moves every account's clock (a key moves its own account's): printed once, for this run only
    click.echo(f"golive sandbox: control token {options.control_token} ({CONTROL_TOKEN_HEADER}, for every account's clock)", err=True)
    try:
        serve_app(pack, host=host, port=port, db=db, options=options)  # served from its facts, as `golive check` serves it
    except StateFileError as exc:
        raise click.UsageError(f"--db: {exc}") from None
    except OSError as exc:
        raise click.UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the signal: the normal way to stop
        pass
    click.echo("golive sandbox: stopped", err=True)
    return 0
