"""The built-in checks. Importing this package registers them (see checker.registry)."""

from checker.probes import client, repo, sandbox_contract, webhook  # noqa: F401
