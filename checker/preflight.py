"""Pre-flight: what golive can tell is wrong with the configured commands before any probe starts.

A placeholder golive does not fill, a program that does not exist, a folder that is not there, a receiver port
another process holds: each would make every rule of its target `error` with the same message (and, with a client
that retries, take minutes). Here each is one problem with file:line and key, and `check` exits 2 probing nothing.
Only the commands this run will use are looked at (`in_use`: the rules that will be probed and their targets).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from checker.config import Config
from checker.errors import ConfigError, Problem
from checker.harness.process import fill
from checker.probes.client import PLACEHOLDERS as CLIENT
from checker.probes.webhook import COUNT_PLACEHOLDERS as COUNT
from checker.probes.webhook import REGISTER_PLACEHOLDERS as REGISTER
from checker.targets import RECEIVER, WEBHOOK_URL
from checker.yamlfile import Path_, dotted

# `{name}` as a placeholder is written: what the harness fills is "{" + name + "}" (harness/process.fill), anything else
# passes literally; `${NAME}` is a shell's (`sh -c '… $${HOME}'`), and JSON ('{"a": 1}') has quotes inside its braces
PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")

# the placeholders each command is filled with are declared beside the code that fills them (tests/test_preflight.py
# runs the client and the receiver with every one of them and finds none left unfilled)
# the one placeholder whose value is known before the run: the program of `{python} client.py` can be resolved
STATIC = {"python": sys.executable}
# interpreters that run the script named by their first argument from the working folder, and start even when it
# is missing (python prints "can't open file" and exits 2): a missing script is as sure a failure as a missing program
SCRIPT_RUNNERS = re.compile(r"python[0-9.]*")


@dataclass(frozen=True)
class Command:
    """One configured command as the harness will run it."""

    key: Path_  # ("client", "command")
    template: str
    known: tuple[str, ...]
    env: Mapping[str, str]
    cwd_key: Path_
    what: str  # "the client"


def check_before_probing(config: Config, in_use: Mapping[str, str]) -> None:
    """Raise ConfigError (exit 2) naming every problem pre-flight finds in the commands this run will use;
    `in_use` maps each rule that will be probed to its target."""
    problems: list[Problem] = []

    def problem(path: Path_, message: str, hint: str = "") -> None:
        found = Problem(config.path, config.line_of(*path), dotted(path), message, hint)
        if found not in problems:  # one message per cause
            problems.append(found)

    commands = _commands(config, in_use)
    for section, env, known in _env_in_use(commands):
        for name, value in env.items():
            for unknown in _unknown(value, known):
                problem((section, "env", name), *_unknown_message(unknown, known, (section, "env")))
    for command in commands:
        for unknown in _unknown(command.template, command.known):
            problem(command.key, *_unknown_message(unknown, command.known, command.key))
        folder = config.resolve(_value(config, command.cwd_key))
        if not folder.is_dir():
            problem(command.cwd_key, f"no such folder: {folder} (the commands of {command.key[0]} run in it)")
            continue
        cannot = _cannot_start(command, folder)
        if cannot:
            problem(command.key, f"cannot start {command.what}: {cannot[0]}", cannot[1])
    webhook = config.file.webhook
    if webhook is not None and webhook.url and "webhook" in in_use.values():
        for unknown in _unknown(webhook.url, WEBHOOK_URL):
            problem(("webhook", "url"), *_unknown_message(unknown, WEBHOOK_URL, ("webhook", "url")))
        wrong = _receiver_address(webhook.url, starts=bool(webhook.start))
        if wrong:
            problem(("webhook", "url"), *wrong)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))


def _value(config: Config, path: Path_) -> str:
    section = getattr(config.file, str(path[0]))
    return str(getattr(section, str(path[1])))


def _commands(config: Config, in_use: Mapping[str, str]) -> list[Command]:
    """The configured commands this run will start, each with the placeholders its runner fills."""
    targets = set(in_use.values())
    commands: list[Command] = []
    client, webhook = config.file.client, config.file.webhook
    if client is not None and "client" in targets:
        commands.append(Command(("client", "command"), client.command, CLIENT, client.env, ("client", "cwd"), "the client"))
        if client.batch_command and "RATE-102" in in_use:
            commands.append(
                Command(("client", "batch_command"), client.batch_command, CLIENT, client.env, ("client", "cwd"), "the bulk send")
            )
    if webhook is None:
        return commands
    port = ("port",) if webhook.url and "{port}" in webhook.url else ()
    receiver = (*RECEIVER, *port)
    if webhook.url and "webhook" in targets:
        if webhook.start:
            commands.append(Command(("webhook", "start"), webhook.start, receiver, webhook.env, ("webhook", "cwd"), "the webhook receiver"))
        if webhook.processed_count and "HOOK-208" in in_use:
            count = (*COUNT, *port)
            commands.append(
                Command(
                    ("webhook", "processed_count"),
                    webhook.processed_count,
                    count,
                    webhook.env,
                    ("webhook", "cwd"),
                    "webhook.processed_count",
                )
            )
    # run against the embedded sandbox only (probes/webhook._registered), for the rules that read the registration back
    if webhook.registration and config.file.sandbox.url == "builtin" and {"HOOK-212", "BAL-001"} & set(in_use):
        commands.append(
            Command(("webhook", "register"), webhook.registration, REGISTER, webhook.env, ("webhook", "cwd"), "webhook.register")
        )
    return commands


def _env_in_use(commands: list[Command]) -> Iterable[tuple[str, Mapping[str, str], tuple[str, ...]]]:
    """Each section's `env` once, with every placeholder any of its commands fills (webhook.env serves the
    receiver, processed_count and register: a {base_url} there is for register)."""
    by_section: dict[str, tuple[Mapping[str, str], list[str]]] = {}
    for command in commands:
        env, known = by_section.setdefault(str(command.key[0]), (command.env, []))
        known.extend(name for name in command.known if name not in known)
    for section, (env, known) in by_section.items():
        yield section, env, tuple(known)


def _unknown(template: str, known: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(template) if name not in known))


def _unknown_message(name: str, known: tuple[str, ...], key: Path_) -> tuple[str, str]:
    listed = " ".join("{" + k + "}" for k in known)
    if name == "port" and key[0] == "webhook" and key[1] != "register":  # filled only with a port golive picks
        return (
            "unknown placeholder {port}: golive fills it only when webhook.url has {port}, with a free port it picks",
            "write {port} in webhook.url, or the port number here",
        )
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return (
            f"unknown placeholder {{{name}}}: golive would pass it on literally",
            f"did you mean {{{close[0]}}}? golive fills {listed} here",
        )
    return (
        f"unknown placeholder {{{name}}}: golive would pass it on literally",
        f"golive fills {listed} here; braces meant literally take a space inside: {{ {name} }}",
    )


def _cannot_start(command: Command, cwd: Path) -> tuple[str, str] | None:
    """Why the harness's exec of this command would fail (the reason, a hint), or None. Mirrors harness/process.spawn:
    the command split by shlex, each word filled; the program found on PATH (client.env's PATH if it sets one) or, with a
    slash, relative to the command's folder."""
    try:
        words = [fill(word, STATIC) for word in shlex.split(command.template)]
    except ValueError as exc:
        return f"{dotted(command.key)} cannot be split into words ({exc})", "close the quote, or escape it with a backslash"
    if not words:
        return f"{dotted(command.key)} is empty", "write the command that runs it"
    program = words[0]
    if PLACEHOLDER.search(program):  # filled only when the run starts ({workdir}/…): the harness says then
        return None
    env = {**os.environ, **{k: fill(v, STATIC) for k, v in command.env.items()}}
    folder_key = dotted(command.cwd_key)
    if "/" in program:
        found = cwd / program
        if not found.exists():
            return f"{program} does not exist" + ("" if Path(program).is_absolute() else f" in {cwd} ({folder_key})"), ""
        if found.is_dir():
            return f"{program} is a folder, not a program", ""
        if not os.access(found, os.X_OK):
            return (
                f"{program} is not executable",
                f"chmod +x {program}, or put its interpreter first ({{python}} {program}, sh {program}, …)",
            )
    else:
        candidates = [cwd / folder / program for folder in os.get_exec_path(env) if folder]
        runnable = [c for c in candidates if c.is_file() and os.access(c, os.X_OK)]
        if not runnable:
            present = next((c for c in candidates if c.exists()), None)
            if present is not None:
                return f"{program} is on PATH at {present}, but is not an executable file", ""
            where = f"{command.key[0]}.env's PATH" if "PATH" in command.env else "PATH"
            return f"{program!r} is not on {where}", f"install it, or give its path; a relative path is taken from {folder_key}, {cwd}"
    return _missing_script(words, cwd, folder_key)


def _missing_script(words: list[str], cwd: Path, folder_key: str) -> tuple[str, str] | None:
    """`python script.py` with no script.py in the folder: python starts, and exits 2 before the first request."""
    if len(words) < 2 or not (SCRIPT_RUNNERS.fullmatch(Path(words[0]).name) or words[0] == sys.executable):
        return None
    script = words[1]
    if script.startswith("-") or PLACEHOLDER.search(script) or (cwd / script).exists():
        return None
    return f"the script {script} that {Path(words[0]).name} runs does not exist in {cwd} ({folder_key})", ""


def _receiver_address(url: str, *, starts: bool) -> tuple[str, str] | None:
    """What is wrong with webhook.url before any delivery: not http(s), or (when golive starts the receiver itself)
    a fixed port another process already holds. Only a local address is tried: binding is instant, a name lookup is not."""
    from checker.harness.receiver import port_holder, port_taken

    picked = "{port}" in url  # a free one, picked when the run starts
    try:
        parts = urlsplit(fill(url, {**STATIC, "port": "1"}))
    except ValueError as exc:  # a broken IPv6 literal ("http://[::1/x"): the user's typo, not golive's bug
        return f"{url!r} is not a valid URL ({exc})", "for example http://127.0.0.1:{port}/webhooks"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL", "for example http://127.0.0.1:{port}/webhooks"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)  # as targets._receiver reads it
    except ValueError:
        return f"{url!r} has no valid port (1 to 65535)", ""
    if picked or not starts or not _without_lookup(parts.hostname) or not port_taken(parts.hostname, port):
        return None
    holder = port_holder(port)
    return (
        f"port {port} is already in use{f' by {holder}' if holder else ''}: golive starts the receiver itself (webhook.start) "
        "and probes only a receiver it saw open its port",
        "stop that process, perhaps a receiver left from an earlier run, or write {port} in webhook.url to get a free one",
    )


def _without_lookup(host: str) -> bool:
    """An address to bind to at once: an IP address, or localhost (from /etc/hosts)."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
