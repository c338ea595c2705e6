"""Tests of secret redaction and home-directory masking in HAIL sessions.

Every secret here is fake and assembled by concatenation, so that this file holds no string a
secret scanner would flag.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest

from opensession.hail.model import (
    Agent,
    CodeBlock,
    Content,
    Context,
    Event,
    FileBlock,
    FileEdit,
    FileEditData,
    ImageBlock,
    JsonBlock,
    Session,
    ShellCommand,
    ShellCommandData,
    Stats,
    TextBlock,
    ToolResult,
    ToolResultData,
    UserMessage,
)
from opensession.hail.sanitize import (
    RedactionReport,
    SanitizeOptions,
    _Redactor,
    redact_text,
    sanitize_session,
)

_ALNUM = "Zq7Xw2Rt9Kp4Lm8Nv3Bc6Hd1Fg5Js0Ya"


def fake(length: int, alphabet: str = _ALNUM) -> str:
    """A deterministic string that looks random enough to pass for a secret."""
    return (alphabet * (length // len(alphabet) + 1))[:length]


GITHUB_TOKEN = "gh" + "p_" + fake(36)
GITHUB_PAT = "github" + "_pat_" + fake(22) + "_" + fake(59)
OPENAI_KEY = "sk-" + "proj-" + fake(48, _ALNUM + "_-")
OPENAI_LEGACY_KEY = "sk-" + fake(48)
ANTHROPIC_KEY = "sk-" + "ant-api03-" + fake(93, _ALNUM + "_-") + "AA"
AWS_KEY_ID = "AK" + "IA" + fake(16, "Q3Z7X2W9R4T8P1K6")
AWS_SECRET = fake(40, _ALNUM + "/+")
GOOGLE_KEY = "AI" + "za" + fake(35, _ALNUM + "_-")
SLACK_TOKEN = "xo" + "xb-" + "1234567890-" + "0987654321-" + fake(24)
SLACK_WEBHOOK_PATH = "T0" + fake(8).upper() + "/B0" + fake(8).upper() + "/" + fake(24)
STRIPE_KEY = "sk" + "_live_" + fake(24)
STRIPE_TEST_KEY = "sk" + "_test_" + fake(24)
BEARER = fake(40, _ALNUM + "-._")
JWT = "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + ".ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + fake(43)
PASSWORD = "c0rrect-h0rse-" + fake(8)
PEM_BODY = "\n".join(fake(64, _ALNUM + "+/") for _ in range(5)) + "\n" + fake(20) + "=="
PEM = (
    "-----BEGIN " + "OPENSSH PRIVATE KEY-----\n" + PEM_BODY + "\n-----END OPENSSH PRIVATE KEY-----"
)

HOMES = SanitizeOptions(mask_home_paths=True)


def redacted(name: str) -> str:
    return f"[REDACTED:{name}]"


# --- One realistic positive per pattern ---

POSITIVES: list[tuple[str, str, str, str]] = [
    # (pattern, text, the secret, what must be there instead)
    (
        "private_key",
        "$ cat ~/.ssh/id_ed25519\n" + PEM + "\n$ ls -la ~/.ssh",
        PEM_BODY,
        "$ cat ~/.ssh/id_ed25519\n[REDACTED:private_key]\n$ ls -la ~/.ssh",
    ),
    (
        "anthropic_api_key",
        "$ echo $ANTHROPIC_API_KEY\n" + ANTHROPIC_KEY + "\n$ ",
        ANTHROPIC_KEY,
        "$ echo $ANTHROPIC_API_KEY\n[REDACTED:anthropic_api_key]\n$ ",
    ),
    (
        "openai_api_key",
        "settings loaded: {'model': 'gpt-4o', 'key': '" + OPENAI_KEY + "'}",
        OPENAI_KEY,
        "{'model': 'gpt-4o', 'key': '[REDACTED:openai_api_key]'}",
    ),
    (
        "openai_api_key",
        "Incorrect key provided: " + OPENAI_LEGACY_KEY + ". You can find yours at ...",
        OPENAI_LEGACY_KEY,
        "provided: [REDACTED:openai_api_key]. You",
    ),
    (
        "github_token",
        "$ git clone https://" + GITHUB_TOKEN + "@github.com/acme/private-repo.git",
        GITHUB_TOKEN,
        "https://[REDACTED:github_token]@github.com/acme/private-repo.git",
    ),
    (
        "github_token",
        "here is my fine-grained PAT, use it for the API: " + GITHUB_PAT,
        GITHUB_PAT,
        "for the API: [REDACTED:github_token]",
    ),
    (
        "aws_access_key_id",
        "[default]\naws_access_key_id = " + AWS_KEY_ID + "\nregion = eu-west-1\n",
        AWS_KEY_ID,
        "aws_access_key_id = [REDACTED:aws_access_key_id]\nregion = eu-west-1",
    ),
    (
        "aws_secret_access_key",
        "[default]\naws_secret_access_key = " + AWS_SECRET + "\n",
        AWS_SECRET,
        "aws_secret_access_key = [REDACTED:aws_secret_access_key]\n",
    ),
    (
        "google_api_key",
        "$ curl 'https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key="
        + GOOGLE_KEY
        + "'",
        GOOGLE_KEY,
        "address=Paris&key=[REDACTED:google_api_key]'",
    ),
    (
        "slack_token",
        'client = WebClient("' + SLACK_TOKEN + '")',
        SLACK_TOKEN,
        'client = WebClient("[REDACTED:slack_token]")',
    ),
    (
        "slack_webhook",
        'curl -X POST -d \'{"text": "deployed"}\' https://hooks.slack.com/services/'
        + SLACK_WEBHOOK_PATH,
        SLACK_WEBHOOK_PATH,
        "https://hooks.slack.com/services/[REDACTED:slack_webhook]",
    ),
    (
        "stripe_key",
        "$ curl https://api.stripe.com/v1/charges -u " + STRIPE_KEY + ": -d amount=2000",
        STRIPE_KEY,
        "-u [REDACTED:stripe_key]: -d amount=2000",
    ),
    (
        "bearer_token",
        'curl -s -H "Authorization: Bearer '
        + BEARER
        + '" -H "Accept: application/json" https://api.example.com/v2/me',
        BEARER,
        '"Authorization: Bearer [REDACTED:bearer_token]" -H "Accept: application/json"',
    ),
    (
        "bearer_token",
        "authorization: bearer abc123",  # short, but in an Authorization header
        "abc123",
        "authorization: bearer [REDACTED:bearer_token]",
    ),
    (
        "basic_auth",
        "> GET /private HTTP/1.1\n> Authorization: Basic "
        + base64.b64encode(b"alice:" + PASSWORD.encode()).decode()
        + "\n> Accept: */*",
        base64.b64encode(b"alice:" + PASSWORD.encode()).decode(),
        "> Authorization: Basic [REDACTED:basic_auth]\n> Accept: */*",
    ),
    (
        "jwt",
        "< set-cookie: session=" + JWT + "; Path=/; HttpOnly",
        JWT,
        "session=[REDACTED:jwt]; Path=/; HttpOnly",
    ),
    (
        "url_password",
        "$ git remote add origin https://alice:" + PASSWORD + "@gitlab.example.com/team/app.git",
        PASSWORD,
        "https://alice:[REDACTED:url_password]@gitlab.example.com/team/app.git",
    ),
    (
        "url_password",
        "DATABASE_URL=postgres://app:p@ss" + PASSWORD + "@db.internal:5432/app",
        "p@ss" + PASSWORD,
        "postgres://app:[REDACTED:url_password]@db.internal:5432/app",
    ),
    (
        "env_secret",
        "# .env\nexport API_KEY=" + fake(32) + "\nDEBUG=true\n",
        fake(32),
        "export API_KEY=[REDACTED:env_secret]\nDEBUG=true\n",
    ),
    (
        "env_secret",
        '{"client_id": "web-app", "client_secret": "' + fake(30) + '"}',
        fake(30),
        '{"client_id": "web-app", "client_secret": "[REDACTED:env_secret]"}',
    ),
    (
        "env_secret",
        "database:\n  user: app\n  password: " + PASSWORD + "  # prod\n",
        PASSWORD,
        "  password: [REDACTED:env_secret]  # prod\n",
    ),
    (
        "env_secret",
        "$ curl -H 'X-Api-Key: " + fake(24) + "' https://api.example.com",
        fake(24),
        "'X-Api-Key: [REDACTED:env_secret]'",
    ),
    (
        "env_secret",
        'login(user="bob", passwd="' + PASSWORD + '")',
        PASSWORD,
        'passwd="[REDACTED:env_secret]")',
    ),
    (
        "env_secret",
        '{"accessToken":"' + fake(40) + '","expiresIn":3600}',
        fake(40),
        '{"accessToken":"[REDACTED:env_secret]","expiresIn":3600}',
    ),
    (
        "env_secret",
        "$ PGPASSWORD=" + PASSWORD + " psql -h db.internal -U app",
        PASSWORD,
        "$ PGPASSWORD=[REDACTED:env_secret] psql -h db.internal -U app",
    ),
    (
        "env_secret",
        "DB_PASSWORD=123456",  # a number, but the key is the password itself
        "123456",
        "DB_PASSWORD=[REDACTED:env_secret]",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "secret", "expected"),
    POSITIVES,
    ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)],
)
def test_secret_is_redacted(name: str, text: str, secret: str, expected: str) -> None:
    out, counts = redact_text(text)
    assert secret not in out
    assert expected in out
    assert counts == {name: 1}


def test_home_directories_are_masked() -> None:
    text = (
        "cd /Users/alice/src/app && ls /home/bob/.cache; "
        "type C:\\Users\\carol\\notes.txt; open C:/Users/carol/x; "
        '{"cwd": "C:\\\\Users\\\\carol\\\\proj"} file:///Users/alice/a.png /home/bob'
    )
    out, counts = redact_text(text, HOMES)
    assert out == (
        "cd ~/src/app && ls ~/.cache; type ~\\notes.txt; open ~/x; "
        '{"cwd": "~\\\\proj"} file://~/a.png ~'
    )
    assert counts == {"home_path": 7}


def test_extra_home_directories_are_masked() -> None:
    options = SanitizeOptions(mask_home_paths=True, home_dirs=("/srv/users/dave/",))
    out, counts = redact_text("ls /srv/users/dave/code /srv/users/dave2 /srv/users/dave", options)
    assert out == "ls ~/code /srv/users/dave2 ~"
    assert counts == {"home_path": 2}


def test_home_directories_are_kept_by_default() -> None:
    text = "cd /Users/alice/src && ls /home/bob"
    assert redact_text(text) == (text, {})


def test_homes_without_secrets() -> None:
    options = SanitizeOptions(redact_secrets=False, mask_home_paths=True)
    text = "cat /home/bob/.env  # API_KEY=" + fake(32)
    assert redact_text(text, options) == ("cat ~/.env  # API_KEY=" + fake(32), {"home_path": 1})


def test_nothing_to_do() -> None:
    options = SanitizeOptions(redact_secrets=False)
    text = "API_KEY=" + fake(32) + " /home/bob"
    assert redact_text(text, options) == (text, {})


# --- One near miss per pattern: left as it is ---

NEAR_MISSES: list[tuple[str, str]] = [
    (
        "private_key",
        'BEGIN = "-----BEGIN ' + 'RSA PRIVATE KEY-----"\nEND = "-----END RSA PRIVATE KEY-----"\n',
    ),
    ("private_key", "-----BEGIN " + "PUBLIC KEY-----\n" + PEM_BODY + "\n-----END PUBLIC KEY-----"),
    ("anthropic_api_key", "Anthropic keys look like sk-" + "ant-api03-... (keep it secret)"),
    ("openai_api_key", "pip install sk-learn; see sk-learn-contrib-imbalanced-learn"),
    ("openai_api_key", "kubectl logs task-" + fake(40).lower()),
    ("github_token", "gh" + "p_" + fake(12) + " is too short, and so is gh_pages"),
    ("aws_access_key_id", "ABCDEFGHIJKLMNOPQRST is a 20-char word, so is AKIA" + "ABCDEF"),
    ("aws_secret_access_key", "    aws_secret_access_key: str | None = None,"),
    ("google_api_key", "Google keys start with AI" + "za" + fake(10)),
    ("slack_token", "xoxo, gossip girl; xo" + "xb-123"),
    ("slack_webhook", "see https://api.slack.com/messaging/webhooks and https://hooks.slack.com/"),
    ("stripe_key", "def sk_test_helper(): return rk_live_mode"),
    ("bearer_token", "Bearer tokens go in a header: Bearer abc. Bearer authentication."),
    ("basic_auth", "Basic usage: Basic dXNlcjpwYXNz is just an example in prose"),
    ("jwt", "a JWT starts with eyJ; its header eyJhbGciOiJIUzI1NiJ9 decodes to JSON"),
    (
        "url_password",
        "https://user@host.com/x http://localhost:8080/a ssh://git@github.com:22/x http://[::1]:80",
    ),
    ("env_secret", "max_tokens: 4096, input_tokens=12, author: Jane, token_count=12"),
    ("env_secret", "password_hint_shown=false auth: none tokenizer: gpt2 secret_count: 3"),
    (
        "env_secret",
        'PWD=/home/bob/proj\nSECRET_KEY=${{ secrets.SECRET_KEY }}\nAPI_KEY="<your key>"',
    ),
    ("env_secret", 'if token == "": raise; password = os.environ["DB_PASSWORD"]; token = get()'),
    ("env_secret", "def login(user: str, password: str, token: Token = None) -> Auth:"),
    ("env_secret", "self.password = password\nauth=self.auth, credentials=credentials,"),
    ("env_secret", "user = passwd = acct = ''\n:param token: The session token to use."),
    ("env_secret", "url_token = token.strip()  # token.value = x"),
    ("home_path", "the /home directory, /Users/Shared/Docs, https://x.com/home/bob, ~/x"),
]


@pytest.mark.parametrize(
    ("name", "text"), NEAR_MISSES, ids=[f"{p[0]}-{i}" for i, p in enumerate(NEAR_MISSES)]
)
def test_near_miss_is_kept(name: str, text: str) -> None:
    options = HOMES if name == "home_path" else SanitizeOptions()
    assert redact_text(text, options) == (text, {})


# --- More about texts ---


def test_dotenv_file() -> None:
    text = (
        "OPENAI_API_KEY=" + OPENAI_KEY + "\n"
        "AWS_ACCESS_KEY_ID=" + AWS_KEY_ID + "\n"
        "AWS_SECRET_ACCESS_KEY=" + AWS_SECRET + "\n"
        "GITHUB_TOKEN='" + GITHUB_TOKEN + "'\n"
        "STRIPE_KEY=" + STRIPE_TEST_KEY + "\n"
        "LOG_LEVEL=debug\n"
    )
    out, counts = redact_text(text)
    assert out == (
        "OPENAI_API_KEY=[REDACTED:env_secret]\n"
        "AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id]\n"
        "AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_access_key]\n"
        "GITHUB_TOKEN='[REDACTED:env_secret]'\n"
        "STRIPE_KEY=[REDACTED:stripe_key]\n"
        "LOG_LEVEL=debug\n"
    )
    assert counts == {
        "env_secret": 2,
        "aws_access_key_id": 1,
        "aws_secret_access_key": 1,
        "stripe_key": 1,
    }


def test_private_key_in_json_and_cut_short() -> None:
    escaped = PEM.replace("\n", "\\n")
    service_account = '{"type": "service_account", "private_key": "' + escaped + '\\n"}'
    out, counts = redact_text(service_account)
    assert out == '{"type": "service_account", "private_key": "[REDACTED:env_secret]"}'
    assert counts == {"env_secret": 1}
    cut = PEM[:200]
    assert redact_text("$ head -c 200 key\n" + cut) == (
        "$ head -c 200 key\n[REDACTED:private_key]",
        {"private_key": 1},
    )
    assert redact_text(escaped) == ("[REDACTED:private_key]", {"private_key": 1})


def test_escaped_json_in_a_log_line() -> None:
    text = 'body="{\\"username\\": \\"bob\\", \\"password\\": \\"' + PASSWORD + '\\"}"'
    out, counts = redact_text(text)
    assert out == 'body="{\\"username\\": \\"bob\\", \\"password\\": \\"[REDACTED:env_secret]\\"}"'
    assert counts == {"env_secret": 1}


def test_bearer_inside_a_sensitive_key_is_redacted_once() -> None:
    out, counts = redact_text("X-Auth-Token: Bearer " + BEARER)
    assert out == "X-Auth-Token: [REDACTED:env_secret]"
    assert counts == {"env_secret": 1}


def test_several_secrets_on_a_line() -> None:
    text = "token=" + fake(20) + "&user=bob&password=" + PASSWORD + "&next=/home"
    out, counts = redact_text(text)
    assert out == "token=[REDACTED:env_secret]&user=bob&password=[REDACTED:env_secret]&next=/home"
    assert counts == {"env_secret": 2}


def test_redaction_is_idempotent() -> None:
    text = "\n".join(p[1] for p in POSITIVES) + "\n/home/bob/x"
    once, counts = redact_text(text, HOMES)
    assert sum(counts.values()) == len(POSITIVES) + 1
    assert redact_text(once, HOMES) == (once, {})


def test_anchored_scan_finds_what_a_full_scan_finds() -> None:
    """The combined expression, tried only at anchors, finds what it finds tried everywhere."""
    options = SanitizeOptions(mask_home_paths=True, home_dirs=("/srv/dave",))
    pieces = [p[1] for p in POSITIVES] + [n[1] for n in NEAR_MISSES] + ["/srv/dave/x", "="]
    rng = random.Random(0)
    for _ in range(1000):
        text = ""
        for piece in rng.choices(pieces, k=rng.randint(1, 6)):
            start = rng.randrange(len(piece))
            text += piece[start : start + rng.randint(1, len(piece))]
        anchored, full = _Redactor(options), _Redactor(options)
        assert full.scanner is not None
        assert anchored.text(text) == full.scanner.regex.sub(full._replace, text)
        assert anchored.counts == full.counts


def test_no_quadratic_blowup() -> None:
    for text in ("token_" * 50_000, "://a:b" * 50_000, "Bearer " * 50_000):
        assert redact_text(text)[0] == text


# --- Sessions ---

T0 = datetime(2026, 2, 21, 0, 39, 28, 356123, tzinfo=UTC)  # microseconds survive
PNG = "data:image/png;base64,iVBORw0KGgo+" + AWS_KEY_ID + "+token=" + fake(20, "0123456789") + "=="


def make_session() -> Session:
    return Session(
        session_id="sess-1",
        agent=Agent(provider="anthropic", model="claude", tool="claude-code"),
        context=Context(
            title="Fix login: password=" + PASSWORD,
            description="Repo in /home/bob/app",
            tags=["auth"],
            created_at=T0,
            updated_at=T0,
            attributes={"cwd": "/home/bob/app", "api_key": fake(32)},
        ),
        events=[
            Event(
                event_id="e1",
                timestamp=T0,
                event_type=UserMessage(),
                content=Content(
                    blocks=[
                        TextBlock(text="use my token " + GITHUB_TOKEN),
                        ImageBlock(url=PNG, mime="image/png"),
                    ]
                ),
            ),
            Event(
                event_id="e2",
                timestamp=T0,
                event_type=ShellCommand(
                    data=ShellCommandData(
                        command="curl -H 'Authorization: Bearer " + BEARER + "' https://x.io",
                        exit_code=0,
                    )
                ),
                task_id="t1",
                attributes={"env": {"SLACK": SLACK_TOKEN, "max_tokens": 4096}},
            ),
            Event(
                event_id="e3",
                timestamp=T0,
                event_type=ToolResult(data=ToolResultData(name="Bash", call_id="call-1")),
                content=Content(
                    blocks=[
                        TextBlock(text="DATABASE_URL=mysql://root:" + PASSWORD + "@db/app"),
                        JsonBlock(
                            data={
                                "config": {
                                    "headers": {
                                        "X-Api-Key": fake(24),
                                        "Authorization": "Bearer x1",
                                    },
                                    "retries": 3,
                                },
                                "items": [{"name": "a", "note": "key " + GOOGLE_KEY}],
                                "token_count": 12,
                                "auth": None,
                            }
                        ),
                        CodeBlock(code="client = OpenAI(key='" + OPENAI_KEY + "')", language="py"),
                        FileBlock(path="/home/bob/app/.env", content="SECRET=" + fake(16)),
                    ]
                ),
            ),
            Event(
                event_id="e4",
                timestamp=T0,
                event_type=FileEdit(
                    data=FileEditData(
                        path="/home/bob/app/.env",
                        diff="-AWS_SECRET_ACCESS_KEY=\n+AWS_SECRET_ACCESS_KEY=" + AWS_SECRET,
                    )
                ),
            ),
            Event.model_validate(
                {
                    "event_id": "e5",
                    "timestamp": T0,
                    "event_type": {
                        "type": "FutureEvent",
                        "data": {"note": "jwt " + JWT, "type": "Bearer " + BEARER},
                    },
                    "content": {
                        "blocks": [
                            {"type": "FutureBlock", "payload": {"password": PASSWORD}},
                        ]
                    },
                }
            ),
        ],
        stats=Stats(event_count=5, message_count=1),
    )


EXPECTED_COUNTS = {
    "env_secret": 5,  # context title and api_key, Json X-Api-Key, SECRET=, FutureBlock
    "github_token": 1,
    "bearer_token": 3,
    "slack_token": 1,
    "url_password": 1,
    "google_api_key": 1,
    "openai_api_key": 1,
    "aws_secret_access_key": 1,
    "jwt": 1,
}


def test_session_secrets_are_redacted() -> None:
    session = make_session()
    before = session.model_dump_json()
    sanitized, report = sanitize_session(session)

    assert session.model_dump_json() == before  # the input is untouched
    assert isinstance(report, RedactionReport)
    assert report.counts == EXPECTED_COUNTS
    assert report.total == sum(EXPECTED_COUNTS.values())

    dumped = sanitized.model_dump_json()
    secrets = (PASSWORD, GITHUB_TOKEN, BEARER, SLACK_TOKEN, fake(24), GOOGLE_KEY, OPENAI_KEY)
    for secret in (*secrets, AWS_SECRET, JWT, fake(16), fake(32)):
        assert secret not in dumped

    context = sanitized.context
    assert context.title == "Fix login: password=[REDACTED:env_secret]"
    assert context.attributes == {"cwd": "/home/bob/app", "api_key": redacted("env_secret")}
    e1, e2, e3, e4, e5 = sanitized.events
    assert e1.content.blocks[0] == TextBlock(text="use my token [REDACTED:github_token]")
    assert e1.content.blocks[1] == ImageBlock(url=PNG, mime="image/png")  # bytes, not text
    assert isinstance(e2.event_type, ShellCommand)
    assert e2.event_type.data.command == (
        "curl -H 'Authorization: Bearer [REDACTED:bearer_token]' https://x.io"
    )
    assert e2.attributes == {"env": {"SLACK": redacted("slack_token"), "max_tokens": 4096}}
    text, json_block, code, file = e3.content.blocks
    assert text == TextBlock(text="DATABASE_URL=mysql://root:[REDACTED:url_password]@db/app")
    assert json_block == JsonBlock(
        data={
            "config": {
                "headers": {
                    "X-Api-Key": redacted("env_secret"),
                    "Authorization": "Bearer [REDACTED:bearer_token]",
                },
                "retries": 3,
            },
            "items": [{"name": "a", "note": "key [REDACTED:google_api_key]"}],
            "token_count": 12,
            "auth": None,
        }
    )
    assert code == CodeBlock(code="client = OpenAI(key='[REDACTED:openai_api_key]')", language="py")
    assert file == FileBlock(path="/home/bob/app/.env", content="SECRET=[REDACTED:env_secret]")
    assert isinstance(e4.event_type, FileEdit)
    assert e4.event_type.data.diff == (
        "-AWS_SECRET_ACCESS_KEY=\n+AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_access_key]"
    )
    assert e5.event_type.model_dump() == {
        "type": "FutureEvent",
        "data": {"note": "jwt [REDACTED:jwt]", "type": "Bearer [REDACTED:bearer_token]"},
    }
    assert e5.content.blocks[0].model_dump() == {
        "type": "FutureBlock",
        "payload": {"password": redacted("env_secret")},
    }


def test_authorization_values_in_dicts() -> None:
    basic = base64.b64encode(b"alice:" + PASSWORD.encode()).decode()
    headers = {
        "authorization": "Basic " + basic,
        "Proxy-Authorization": fake(20),
        "Authorization": "Bearer $TOKEN",
    }
    session = make_session()
    session.context.attributes = {"headers": headers}
    sanitized, report = sanitize_session(session)
    assert sanitized.context.attributes == {
        "headers": {
            "authorization": "Basic [REDACTED:basic_auth]",
            "Proxy-Authorization": "[REDACTED:env_secret]",
            "Authorization": "Bearer $TOKEN",  # a reference to the token, not the token
        }
    }
    assert report.counts["basic_auth"] == 1


def test_session_structure_is_kept() -> None:
    session = make_session()
    sanitized, _ = sanitize_session(session)
    assert sanitized.session_id == session.session_id
    assert sanitized.version == session.version
    assert sanitized.agent == session.agent
    assert sanitized.stats == session.stats
    assert sanitized.context.created_at == T0
    assert sanitized.context.tags == ["auth"]
    for before, after in zip(session.events, sanitized.events, strict=True):
        assert after.event_id == before.event_id
        assert after.timestamp == before.timestamp == T0
        assert after.task_id == before.task_id
        assert after.event_type.type == before.event_type.type
        assert [b.type for b in after.content.blocks] == [b.type for b in before.content.blocks]
    assert isinstance(sanitized.events[2].event_type, ToolResult)
    assert sanitized.events[2].event_type.data == ToolResultData(name="Bash", call_id="call-1")


def test_session_home_masking_is_off_by_default_and_on_when_asked() -> None:
    session = make_session()
    kept, report = sanitize_session(session)
    assert "home_path" not in report.counts
    assert kept.context.description == "Repo in /home/bob/app"

    masked, report = sanitize_session(session, HOMES)
    assert report.counts["home_path"] == 4
    assert masked.context.description == "Repo in ~/app"
    assert masked.context.attributes["cwd"] == "~/app"
    assert isinstance(masked.events[3].event_type, FileEdit)
    assert masked.events[3].event_type.data.path == "~/app/.env"
    assert "/home/bob" not in masked.model_dump_json()


def test_sanitizing_twice_changes_nothing() -> None:
    once, _ = sanitize_session(make_session(), HOMES)
    twice, report = sanitize_session(once, HOMES)
    assert twice == once
    assert report == RedactionReport({})
    assert report.total == 0


def test_nothing_to_sanitize() -> None:
    session = make_session()
    sanitized, report = sanitize_session(session, SanitizeOptions(redact_secrets=False))
    assert sanitized == session
    assert sanitized is not session
    assert report.total == 0
