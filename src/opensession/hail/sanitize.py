"""Remove secrets, and optionally home-directory paths, from a HAIL session before it is shared.

Every string a user or a tool wrote is scanned: message and tool-output text, code, file paths and
contents, JSON data, shell commands, diffs, queries, URLs, prompts, titles, event and context
attributes, and whatever unknown event types and content blocks carry. Strings that give the
session its structure are left alone: type tags, ids, timestamps, the format version, MIME types
and the ``data:`` URLs that hold the bytes of images, videos and audio. Dict keys are kept too.

A secret is replaced by ``[REDACTED:<pattern>]``, keeping a recognisable prefix where one exists
(``Bearer [REDACTED:bearer_token]``, ``https://user:[REDACTED:url_password]@host``,
``API_KEY=[REDACTED:env_secret]``); a home directory becomes ``~`` (``/home/bob/x`` -> ``~/x``,
``C:\\Users\\carol\\x`` -> ``~\\x``; ``/home`` alone and ``/Users/Shared`` are kept).
Sanitizing is idempotent: markers are never redacted again.

All patterns are alternatives of one regular expression, tried only where a match can start: at
the literal each pattern begins with (``sk-``, ``eyJ``, ``://``, ``token``...), found by a
second expression made of these literals alone, which the regex engine scans for quickly.

Key/value pairs (``env_secret``: ``KEY=value``, ``KEY: value``, ``"key": "value"``, JSON data
under such a key) are recognised by the key: one of its components, split on ``_``, ``-``, ``.``
and camelCase humps, is ``api_key``, ``apikey``, ``token``, ``secret``, ``password``, ``passwd``,
``pwd``, ``credential(s)``, ``auth`` or ``private_key``, in any case; a password may also end a
word (``PGPASSWORD``). So ``max_tokens``, ``input_tokens``, ``author`` and ``tokenizer`` are not
keys of secrets; ``token_count`` is one, but its value is a number. In JSON data, the value of an
``Authorization`` key is a secret but for its scheme. The value of a sensitive key is kept when
it cannot be a secret:

- a boolean or null: ``password_hint_shown=false`` is kept, ``auth: none`` too;
- a number, unless the sensitive word ends the key: ``token_count=12`` is kept,
  ``DB_PASSWORD=123456`` is not;
- a reference to a secret, a placeholder or a mask rather than the secret: ``$TOKEN``,
  ``${{ secrets.TOKEN }}``, ``%TOKEN%``, ``<your-token>``, ``****``;
- an absolute path under the key ``PWD`` (the shell's working directory, as ``env`` prints it);
- outside quotes, code rather than a value: a call or subscript (``token=get_token()``,
  ``password = os.environ["DB_PASSWORD"]``), a variable named after a secret
  (``password=password``, ``auth=self.auth``, ``token=aws_session_token``), the target of a
  further assignment (``user = passwd = ''``), a type annotation (``token: str``,
  ``start_token: Token,``) or, after ``:``, the first word of a sentence
  (``:param token: The session token``).

A ``Bearer`` token needs 16 characters or more, unless it follows ``Authorization:``; a
``Basic`` credential is redacted only after ``Authorization:``.

Not covered: secrets passed as separate command-line arguments (``curl -u user:pass``,
``mysql -pSECRET``) and secrets with neither a recognisable shape nor a recognisable key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from opensession.hail.model import Session


@dataclass(frozen=True)
class SanitizeOptions:
    """What to sanitize.

    ``home_dirs`` lists home directories to mask besides the generic ``/Users/<name>``,
    ``/home/<name>`` and ``C:\\Users\\<name>``; they are masked only with ``mask_home_paths``.
    """

    redact_secrets: bool = True
    mask_home_paths: bool = False
    home_dirs: tuple[str, ...] = ()


@dataclass
class RedactionReport:
    """How many replacements each pattern made (``home_path`` counts masked home directories)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All replacements together."""
        return sum(self.counts.values())


# --- Patterns ---
#
# Each pattern is one alternative ``(?P<name>...)`` of the combined expression; the part that is
# replaced is its group ``<name>_v``, the rest of the match (a key, ``Bearer ``, ``://user:``...)
# is kept. Token-like secrets must not be glued to other letters or digits on either side.
#
# Each pattern also lists its anchors: expressions, each starting with a literal character, of
# which one matches wherever the pattern can match (or one character after, for an anchor
# ending with the empty group ``_BACK``). Only these positions are tried.

_B = r"(?<![A-Za-z0-9])"  # starts a token
_E = r"(?![A-Za-z0-9])"  # ends a token
_BACK = "()"

# A key/value separator: ``=``, ``:``, ``:=`` or ``=>``, not ``==``.
_SEP = r"[ \t]*(?::=|=>|[:=](?!=))[ \t]*"

# The words that make a key sensitive; each is its own anchor too, in either case.
_KEY_WORDS = (
    "api[_-]?key",
    "token",
    "secret",
    "passw(?:or)?d",
    "pwd",
    "credentials?",
    "auth",
    "private[_-]key",
)


def _sensitive_key_component(group: str) -> str:
    """A word that makes a key sensitive, as a whole component of the key, in group ``group``.

    Components are split on ``_``, ``-``, ``.`` and camelCase humps (``accessToken``); a
    password may also end a word (``PGPASSWORD``).
    """
    return (
        rf"(?P<{group}>(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))(?i:{'|'.join(_KEY_WORDS)})"
        r"|(?i:passw(?:or)?d))(?:(?![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))"
    )


def _either_case(word: str) -> tuple[str, str]:
    """Anchors for a word in any case, each starting with a literal."""
    return word[0].lower() + f"(?i:{word[1:]})", word[0].upper() + f"(?i:{word[1:]})"


_SECRET_PATTERNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "private_key",
        r"(?P<private_key_v>-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        # the whole block (base64, headers, maybe JSON-escaped newlines), or, when it is cut
        # short, the base64 lines after its first line
        r"(?:[A-Za-z0-9+/=\s\\:,.-]{0,16384}?-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:(?:\r?\n|(?:\\r)?\\n)[ \t]*[A-Za-z0-9+/=]{16,})+))",
        ("-----BEGIN",),
    ),
    (
        "anthropic_api_key",
        _B + r"(?P<anthropic_api_key_v>sk-ant-[A-Za-z0-9_-]{20,})",
        ("sk-",),
    ),
    (
        "openai_api_key",
        _B + r"(?P<openai_api_key_v>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"
        r"|[A-Za-z0-9]{32,}(?![_-])))",
        ("sk-",),
    ),
    (
        "github_token",
        _B + r"(?P<github_token_v>gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})" + _E,
        ("gh[pousr]_", "github_pat_"),
    ),
    (
        "aws_access_key_id",
        _B + r"(?P<aws_access_key_id_v>(?:AKIA|ASIA)[A-Z0-9]{16})" + _E,
        ("AKIA", "ASIA"),
    ),
    (
        "aws_secret_access_key",
        _B + r"(?i:aws_?secret_?access_?key)\\?[\"']?" + _SEP + r"\\?[\"']?"
        r"(?P<aws_secret_access_key_v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _either_case("aws_?secret"),
    ),
    (
        "google_api_key",
        _B + r"(?P<google_api_key_v>AIza[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])",
        ("AIza",),
    ),
    (
        "slack_token",
        _B + r"(?P<slack_token_v>xox[abeprs]-[A-Za-z0-9-]{10,})" + _E,
        ("xox",),
    ),
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"(?P<slack_webhook_v>[A-Za-z0-9_/-]+)",
        (r"https://hooks\.slack\.com/",),
    ),
    (
        "stripe_key",
        _B + r"(?P<stripe_key_v>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})" + _E,
        ("sk_", "rk_"),
    ),
    (
        # long enough, or right after an Authorization header (see _keep_bearer)
        "bearer_token",
        _B + r"[Bb]earer[ \t]+(?P<bearer_token_v>[A-Za-z0-9._~+/-]+=*)",
        ("Bearer", "bearer"),
    ),
    (
        # only right after an Authorization header (see _keep_basic)
        "basic_auth",
        _B + r"[Bb]asic[ \t]+(?P<basic_auth_v>[A-Za-z0-9+/]+=*)",
        ("Basic", "basic"),
    ),
    (
        "jwt",
        r"(?<![A-Za-z0-9_-])(?P<jwt_v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"
        r"\.[A-Za-z0-9_-]*)",
        ("eyJ",),
    ),
    (
        # the user may be empty (redis://:pass@host), not a marker; the password runs to the
        # last @
        "url_password",
        r"://[^\s:/@'\"<>\[\]]{0,256}:(?P<url_password_v>[^\s/'\"<>]{1,256})@",
        ("://",),
    ),
    (
        # the match starts at the sensitive word: the key's beginning needs no checking
        "env_secret",
        _sensitive_key_component("env_secret_word")
        + r"(?P<env_secret_rest>[A-Za-z0-9_-]{0,100})\\?[\"']?"
        r"(?P<env_secret_sep>" + _SEP + r")"
        r"(?:(?P<env_secret_q>\\?[\"'`]))?"
        r"(?P<env_secret_v>(?(env_secret_q)(?:(?!(?P=env_secret_q))[^\n])+"
        # outside quotes, up to whitespace, a quote or a delimiter of the surrounding syntax
        r"|(?:[Bb](?:earer|asic)[ \t]+)?[^\s'\"`,;&(){}\[\]<>][^\s'\"`,;&)\]}<>]*))",
        tuple(anchor for word in _KEY_WORDS for anchor in _either_case(word)),
    ),
)

_HOME_START = r"(?<![\w.~-])(?P<home_path_v>"  # then the home_dirs, then these
_GENERIC_HOMES = (
    r"/Users/(?!Shared(?![A-Za-z0-9._-]))[A-Za-z0-9._-]+|/home/[A-Za-z0-9._-]+"
    r"|[A-Za-z]:(?:\\\\?|/)[Uu]sers(?:\\\\?|/)[^\\/\s:*?\"'<>|]+)"
)
_HOME_ANCHORS = ("/Users/", "/home/", r":\\\\?[Uu]sers" + _BACK, ":/[Uu]sers" + _BACK)


# --- Values that are no secrets ---

_BOOLEAN_OR_NULL = frozenset(
    {"true", "false", "null", "none", "nil", "undefined", "yes", "no", "on", "off"}
)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# a reference to a secret, or a placeholder or mask in its place
_REFERENCE = re.compile(
    r"\$\{.*|\$\(.*|\$\w+|%\w+%|\{\{.*\}\}|<[^<>]*>|\*+|x{3,}|X{3,}|\.{3}|\u2026", re.S
)
_CALL = re.compile(r"[A-Za-z_][\w.]*[(\[].*", re.S)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
_BUILTIN_TYPES = frozenset(
    {"str", "bytes", "int", "float", "bool", "string", "String", "number", "boolean"}
    | {"any", "Any", "unknown", "object", "None", "SecretStr", "SecretBytes"}
)
_TYPE_NAME = re.compile(r"(?:[a-z_]\w*\.)*[A-Z][A-Za-z_]*", re.ASCII)
_FURTHER_ASSIGNMENT = re.compile(r"[ \t]*=(?!=)")
_ANNOTATION_END = re.compile(r"[ \t]*[=,)|\]#]")
_MORE_WORDS = re.compile(r"[ \t]+[A-Za-z]")
_AUTH_HEADER_BEFORE = re.compile(r"authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?\Z", re.I)
_SENSITIVE_KEY = re.compile(_sensitive_key_component("word"))
# The value of an Authorization header, in a dict under its name: a scheme, then credentials.
_AUTHORIZATION_KEYS = frozenset({"authorization", "proxy-authorization"})
_AUTHORIZATION_VALUE = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)[ \t]+)?(?P<credentials>\S.*)", re.S
)
_SCHEME_PATTERNS = {"bearer": "bearer_token", "basic": "basic_auth"}


def _is_no_secret(value: str, word: str, key_goes_on: bool) -> bool:
    """Whether a value of a sensitive key is no secret, whatever the syntax around it."""
    if value.lower() in _BOOLEAN_OR_NULL or _REFERENCE.fullmatch(value):
        return True
    if _NUMBER.fullmatch(value):
        return key_goes_on
    return word.lower() == "pwd" and value.startswith(("/", "~"))


def _is_code(match: re.Match[str], key: str, value: str) -> bool:
    """Whether a value outside quotes is code rather than a value (see the module docstring)."""
    if _CALL.fullmatch(value):
        return True
    if not _IDENTIFIER.fullmatch(value):
        return False
    text, end = match.string, match.end()
    if value == key or value.startswith(("self.", "this.", "cls.")):
        return True
    named = _SENSITIVE_KEY.search(value)
    if (named and named.group() != value) or _FURTHER_ASSIGNMENT.match(text, end):
        return True
    if ":" not in match.group("env_secret_sep"):
        return False
    if value in _BUILTIN_TYPES or _MORE_WORDS.match(text, end):
        return True
    return bool(_TYPE_NAME.fullmatch(value) and _ANNOTATION_END.match(text, end))


def _keep_env_secret(match: re.Match[str], value: str) -> bool:
    word, rest = match.group("env_secret_word", "env_secret_rest")
    if _is_no_secret(value, word, bool(rest)):
        return True
    return match.group("env_secret_q") is None and _is_code(match, word + rest, value)


def _after_authorization_header(match: re.Match[str]) -> bool:
    start = match.start()
    return _AUTH_HEADER_BEFORE.search(match.string, max(0, start - 40), start) is not None


def _keep_bearer(match: re.Match[str], value: str) -> bool:
    return len(value) < 16 and not _after_authorization_header(match)


def _keep_basic(match: re.Match[str], value: str) -> bool:
    return not _after_authorization_header(match)


_KEEP: dict[str, Callable[[re.Match[str], str], bool]] = {
    "env_secret": _keep_env_secret,
    "bearer_token": _keep_bearer,
    "basic_auth": _keep_basic,
}


@dataclass(frozen=True)
class _Scanner:
    """The combined expression for one set of options, and the anchors where it is tried."""

    regex: re.Pattern[str]
    anchors: re.Pattern[str]
    value_groups: dict[str, int]  # pattern name -> index of its group ``<name>_v``


@lru_cache(maxsize=32)
def _scanner(options: SanitizeOptions) -> _Scanner | None:
    patterns: dict[str, str] = {}
    anchors: list[str] = []
    if options.redact_secrets:
        for name, regex, pattern_anchors in _SECRET_PATTERNS:
            patterns[name] = regex
            anchors += pattern_anchors
    if options.mask_home_paths:
        homes = sorted({d.rstrip("/\\") for d in options.home_dirs} - {""}, key=len, reverse=True)
        extra = "".join(re.escape(d) + "(?![A-Za-z0-9._-])|" for d in homes)
        patterns["home_path"] = _HOME_START + extra + _GENERIC_HOMES
        anchors += [re.escape(d) for d in homes]
        anchors += _HOME_ANCHORS
    if not patterns:
        return None
    # ASCII: case-insensitive words match exactly the anchors' two cases (no long s for s...)
    regex = re.compile("|".join(f"(?P<{name}>{body})" for name, body in patterns.items()), re.ASCII)
    value_groups = {name: regex.groupindex[f"{name}_v"] for name in patterns}
    return _Scanner(regex, _anchor_regex(anchors), value_groups)


def _anchor_regex(anchors: list[str]) -> re.Pattern[str]:
    """One expression for all anchors, an alternative per first literal.

    As every alternative starts with a different literal, the engine skips the positions where
    none of them is, and rejects the others quickly: scanning is many times faster than with the
    combined expression, whose alternatives start with lookbehinds and groups.
    """
    by_first: dict[str, list[str]] = {}
    for anchor in dict.fromkeys(anchors):
        first = anchor[:2] if anchor.startswith("\\") else anchor[:1]  # an escaped literal
        by_first.setdefault(first, []).append(anchor[len(first) :])
    alternatives = (f"{first}(?:{'|'.join(rests)})" for first, rests in by_first.items())
    return re.compile("|".join(alternatives), re.ASCII)


# Fields of the session model not redacted as data, by level: the structure, kept as it is, and
# the nested models, which have their own method.
_SESSION_FIELDS = frozenset({"version", "session_id", "stats", "context", "events"})
_CONTEXT_FIELDS = frozenset({"created_at", "updated_at", "related_session_ids"})
_EVENT_FIELDS = frozenset(
    {"event_id", "timestamp", "task_id", "duration_ms", "event_type", "content"}
)
_EVENT_TYPE_FIELDS = frozenset({"type", "data"})
_EVENT_DATA_FIELDS = frozenset({"call_id"})
_CONTENT_FIELDS = frozenset({"blocks"})
_BLOCK_FIELDS = frozenset({"type", "mime", "media_type"})
_MEDIA_BLOCK_FIELDS = _BLOCK_FIELDS | {"url"}  # a data: URL, the bytes of an image, a video...


class _Redactor:
    """Redacts strings and session data for one set of options, counting the replacements."""

    def __init__(self, options: SanitizeOptions) -> None:
        self.redact_secrets = options.redact_secrets
        self.scanner = _scanner(options)
        self.counts: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def text(self, text: str) -> str:
        """The text redacted: the combined expression tried at each anchor, left to right."""
        scanner = self.scanner
        anchor = None if scanner is None else scanner.anchors.search(text)
        if scanner is None or anchor is None:
            return text
        find, match_at = scanner.anchors.search, scanner.regex.match
        pieces: list[str] = []
        done = 0  # the text before is in pieces; no match starts before it
        while anchor is not None:
            start = anchor.start() - (anchor.lastindex is not None)
            match = match_at(text, start) if start >= done else None
            if match is None:
                anchor = find(text, anchor.start() + 1)
                continue
            pieces += (text[done:start], self._replace(match))
            done = match.end()
            anchor = find(text, max(done, anchor.start() + 1))
        pieces.append(text[done:])
        return "".join(pieces)

    def _replace(self, match: re.Match[str]) -> str:
        name = match.lastgroup
        assert name is not None and self.scanner is not None  # every alternative is named
        group = self.scanner.value_groups[name]
        value = match.group(group)
        keep = _KEEP.get(name)
        if value.startswith("[REDACTED") or (keep is not None and keep(match, value)):
            replacement = self.text(value)  # no secret itself, but it may hold one
        else:
            self._count(name)
            replacement = "~" if name == "home_path" else f"[REDACTED:{name}]"
        text, (start, end) = match.string, match.span(group)
        return text[match.start() : start] + replacement + text[end : match.end()]

    def value(self, value: Any) -> Any:
        """A copy of JSON-like data with every string redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._item(key, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    def _item(self, key: Any, value: Any) -> Any:
        """A dict's value; a string under a sensitive key (``{"token": ...}``) is a secret."""
        if self.redact_secrets and isinstance(value, str) and isinstance(key, str):
            secret = self._secret_under(key, value)
            if secret is not None:
                return secret
        return self.value(value)

    def _secret_under(self, key: str, value: str) -> str | None:
        """The value of a dict's key redacted, or None if the key or the value is no secret.

        Under ``Authorization`` the whole value is a secret but for its scheme (``Bearer``).
        """
        if key.lower() in _AUTHORIZATION_KEYS:
            header = _AUTHORIZATION_VALUE.fullmatch(value)
            if header is None:
                return None
            scheme, credentials = header.group("scheme", "credentials")
            if credentials.startswith("[REDACTED") or _REFERENCE.fullmatch(credentials):
                return None
            name = _SCHEME_PATTERNS.get((scheme or "").lower(), "env_secret")
            self._count(name)
            return f"{scheme} [REDACTED:{name}]" if scheme else f"[REDACTED:{name}]"
        named = _SENSITIVE_KEY.search(key)
        if named is None or value.startswith("[REDACTED"):
            return None
        if _is_no_secret(value, named.group("word"), named.end() < len(key)):
            return None
        self._count("env_secret")
        return "[REDACTED:env_secret]"

    def _fields(self, data: dict[str, Any], kept: frozenset[str]) -> dict[str, Any]:
        """A copy of a model's fields, redacted but for those in ``kept``."""
        return {k: v if k in kept else self._item(k, v) for k, v in data.items()}

    def session(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``Session.model_dump()`` output, redacted."""
        out = self._fields(data, _SESSION_FIELDS)
        out["context"] = self._fields(data["context"], _CONTEXT_FIELDS)
        out["events"] = [self._event(event) for event in data["events"]]
        return out

    def _event(self, data: dict[str, Any]) -> dict[str, Any]:
        out = self._fields(data, _EVENT_FIELDS)
        event_type = out["event_type"] = self._fields(data["event_type"], _EVENT_TYPE_FIELDS)
        if isinstance(event_type.get("data"), dict):
            event_type["data"] = self._fields(event_type["data"], _EVENT_DATA_FIELDS)
        elif "data" in event_type:  # an unknown event type's data may be anything
            event_type["data"] = self.value(event_type["data"])
        content = out["content"] = self._fields(data["content"], _CONTENT_FIELDS)
        content["blocks"] = [self._block(block) for block in content["blocks"]]
        return out

    def _block(self, data: dict[str, Any]) -> dict[str, Any]:
        url = data.get("url")
        media = isinstance(url, str) and url.startswith("data:")
        return self._fields(data, _MEDIA_BLOCK_FIELDS if media else _BLOCK_FIELDS)


def redact_text(
    text: str, options: SanitizeOptions = SanitizeOptions()
) -> tuple[str, dict[str, int]]:
    """The text with its secrets (and, if asked, home directories) replaced, and the counts.

    The counts map each pattern name to its number of replacements; patterns that made none
    are absent.
    """
    redactor = _Redactor(options)
    return redactor.text(text), redactor.counts


def sanitize_session(
    session: Session, options: SanitizeOptions = SanitizeOptions()
) -> tuple[Session, RedactionReport]:
    """A sanitized copy of the session, and what was replaced; the session itself is untouched.

    Every content string is redacted; structural strings (type tags, ids, timestamps, version,
    MIME types, ``data:`` URLs) and the stats are kept as they are.
    """
    redactor = _Redactor(options)
    sanitized = Session.model_validate(redactor.session(session.model_dump()))
    return sanitized, RedactionReport(redactor.counts)
