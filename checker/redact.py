"""Secrets never leave golive unmasked: `fx_test_abcdef123456` becomes `fx_test_…3456`.

What is masked, wherever it stands in a text (docs/security.md lists the same):
- a whole secret (shown as its prefix and last four characters);
- any run of at least `FRAGMENT` characters of a secret's random part, in any letter case: a piece
  left by a truncated output tail, a key split across lines, an upper-cased key;
- the JSON-escaped secret (`\\/`, `\\"`, `\\uXXXX` escapes), the URL-encoded secret (`%2B`, `+`), and the
  secret inside base64 or hex (an `Authorization: Basic` header is base64 of `user:key`);
- every `Bearer` and `Basic` credential, and every password in a URL (`https://user:…@host`), known or not.
A piece shorter than `FRAGMENT` characters, or a secret transformed any other way (encrypted, hashed,
reversed), is not recognised. A secret shorter than `FRAGMENT` characters (a password from `${VAR}`, a URL's
query value) is masked where it stands as a word of its own, not inside a longer word: "live" is not masked in
"delivered".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

_PREFIX = re.compile(r"^([A-Za-z]+_(?:test|live)_|whsec_|sk_|pk_)")
_BEARER = re.compile(r"(?i)(bearer\s+)([^\s\"',;]+)")
_BASIC = re.compile(r"(?i)(basic\s+)([A-Za-z0-9+/=_-]{4,})")
# a URL's password (`postgres://user:…@db`); the scheme's length is bounded and the password stops at a slash, so the
# search stays linear in the text however many `://` it holds
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,15}://[^/@\s:]*:)([^@/\s]+)@")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # length-preserving, unlike str.lower

FRAGMENT = 8  # a run of this many characters of a secret is masked wherever it stands
PIECE = "…"

# encoded runs that are decoded and searched for a secret; a run that holds one is masked whole. Each runs in time
# linear in the text (it is a target's): a run that can start anywhere in a word starts only where the word does
# (the lookbehind), or a search would scan the rest of the word again from each of its characters.
_U_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4}){4,}")
_PERCENT = re.compile(r"(?<![A-Za-z0-9._~+-])[A-Za-z0-9._~+-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+-]*)+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){8,}")


_KEY_LIKE = re.compile(r"(?:(?<![A-Za-z])[A-Za-z]+_(?:test|live)_|whsec_|sk_|pk_|rk_)[A-Za-z0-9+/=_-]{8,}")  # linear: as above


def mask_key_like(text: str) -> str:
    """Every value shaped like a key or a webhook secret, masked (for logs, which know no particular key)."""
    return _KEY_LIKE.sub(lambda m: mask(m.group()), text)


def url_credentials(url: str) -> list[str]:
    """The credentials a URL carries, as written and decoded: its password (its user when it has no password: a
    token written as `https://TOKEN@host`) and every query value; golive's own placeholders (`{port}`) are none."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:  # not a URL golive could use; pre-flight says so
        return []
    values = [password if password is not None else user or ""]
    for pair in parts.query.split("&"):
        values.append(pair.partition("=")[2])
    found = {form for value in values for form in (value, unquote(value), unquote_plus(value))}
    return sorted(v for v in found if v and not _PLACEHOLDER.fullmatch(v))


_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
# an option whose value is a credential, by its name (`--api-key VALUE`, `--token=VALUE`, `API_KEY=VALUE`)
_CREDENTIAL_OPTION = re.compile(r"(?i)^-*[\w.-]*(?:key|token|secret|passw|pwd|auth|credential|signature)[\w.-]*$")


def command_line(words: Iterable[str]) -> str:
    """Another process's command line to show (pre-flight names the process holding a port): the value of every
    option named like a credential, every value shaped like a key, every secret this process knows, Bearer and
    Basic credentials and URL passwords masked."""
    shown: list[str] = []
    masking_next = False
    for word in words:
        name, equals, value = word.partition("=")
        if masking_next and not word.startswith("-"):
            word = mask(word)
        elif equals and value and _CREDENTIAL_OPTION.match(name):
            word = f"{name}={mask(value)}"
        masking_next = not equals and word.startswith("-") and bool(_CREDENTIAL_OPTION.match(word))
        shown.append(word)
    return known().text(mask_key_like(" ".join(shown)))


def looks_like_secret(value: str) -> bool:
    """A value shaped like an API key or a webhook secret (for messages that echo a config value)."""
    return _KEY_LIKE.search(value) is not None


def mask(secret: str) -> str:
    match = _PREFIX.match(secret)
    prefix = match.group(1) if match else ""
    tail = secret[-4:] if len(secret) - len(prefix) >= 12 else ""
    return f"{prefix}…{tail}"


# every secret this process has read (config files, generated sandbox keys): for messages made outside a run,
# such as a crash file
_KNOWN: set[str] = set()


def remember(secrets: Iterable[str]) -> None:
    _KNOWN.update(s for s in secrets if s)


def known() -> Redactor:
    return Redactor(_KNOWN)


def _random_part(secret: str) -> str:
    match = _PREFIX.match(secret)
    return secret[match.end() :] if match else secret


def _forms(secret: str) -> set[str]:
    """The random part of a secret as it appears written plainly and JSON-escaped."""
    body = _random_part(secret)
    escaped = json.dumps(body)[1:-1]
    return {body, escaped, escaped.replace("/", "\\/")}


def _telling(gram: str) -> bool:
    """A window worth matching: a digit or mixed case in it (an English word such as '-sandbox' is not)."""
    return any(c.isdigit() for c in gram) or (any(c.isupper() for c in gram) and any(c.islower() for c in gram))


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret that contains another is masked whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._grams = {
            form[i : i + FRAGMENT].translate(_LOWER)
            for secret in self.secrets
            for form in _forms(secret)
            for i in range(len(form) - FRAGMENT + 1)
            if _telling(form[i : i + FRAGMENT])
        }

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, mask(secret)) if len(secret) >= FRAGMENT else _as_word(secret).sub(mask(secret), value)
        if self._grams:
            value = self._mask_pieces(value)
            value = self._mask_encoded(value)
        value = _BEARER.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), value)
        value = _USERINFO.sub(lambda m: m.group(1) + PIECE + "@", value)
        return _BASIC.sub(lambda m: m.group(1) + PIECE, value)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value

    def _spans(self, value: str) -> list[tuple[int, int]]:
        """Where runs of a secret's pieces stand: the union of every matching window, merged."""
        lowered = value.translate(_LOWER)
        grams = self._grams
        spans: list[tuple[int, int]] = []
        for i in range(len(lowered) - FRAGMENT + 1):
            if lowered[i : i + FRAGMENT] in grams:
                if spans and i <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], i + FRAGMENT)
                else:
                    spans.append((i, i + FRAGMENT))
        return spans

    def _mask_pieces(self, value: str) -> str:
        parts, done = [], 0  # joined once: a text with many pieces is not copied once per piece
        for start, end in self._spans(value):
            parts += [value[done:start], PIECE]
            done = end
        return "".join(parts) + value[done:]

    def _holds_secret(self, decoded: str) -> bool:
        return bool(self._spans(decoded))

    def _mask_encoded(self, value: str) -> str:
        for pattern, decode in ((_U_ESCAPES, _unescape), (_PERCENT, unquote_plus), (_BASE64, _unbase64), (_HEX, _unhex)):
            value = pattern.sub(lambda m, decode=decode: PIECE if self._holds_secret(decode(m.group())) else m.group(), value)  # type: ignore[misc]
        return value


def _as_word(secret: str) -> re.Pattern[str]:
    """A short secret where it stands alone: not preceded or followed by a letter, digit or underscore where its own
    first or last character is one."""
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return re.compile(before + re.escape(secret) + after)


def _unescape(run: str) -> str:
    return "".join(chr(int(run[i + 2 : i + 6], 16)) for i in range(0, len(run), 6))


def _unbase64(run: str) -> str:
    """The run decoded as base64 (standard and URL-safe), also from its 2nd, 3rd and 4th character: a run
    glued to a word before it still decodes at the right alignment."""
    decoded = []
    for skip in range(4):
        data = run[skip:].rstrip("=")
        data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
        padded = data + "=" * (-len(data) % 4)
        for altchars in (b"+/", b"-_"):
            try:
                decoded.append(base64.b64decode(padded, altchars=altchars).decode("latin-1"))
            except (binascii.Error, ValueError):
                continue
    return "\n".join(decoded)


def _unhex(run: str) -> str:
    return bytes.fromhex(run).decode("latin-1")
