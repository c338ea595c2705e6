from __future__ import annotations

import pytest

from opensession.handoff.commands import check_name, is_read_only


@pytest.mark.parametrize(
    ("command", "check"),
    [
        ("pytest", "pytest"),
        ("uv run pytest -q", "uv run pytest -q"),
        ("python -m pytest tests/unit", "python -m pytest tests/unit"),
        (".venv/bin/pytest -q", ".venv/bin/pytest -q"),
        ("ruff check . && mypy src", "ruff check . && mypy src"),
        ("npm test", "npm test"),
        ("pnpm run lint", "pnpm run lint"),
        ("CI=1 npx vitest run", "CI=1 npx vitest run"),
        ("cargo test", "cargo test"),
        ("cargo clippy -- -D warnings", "cargo clippy -- -D warnings"),
        ("go test ./...", "go test ./..."),
        ("./gradlew test", "./gradlew test"),
        ("bundle exec rspec spec/models", "bundle exec rspec spec/models"),
        ("mix test 2>&1 | tail -20", "mix test"),
        ("cd x && make test", "make test"),
        ("pytest -q > log.txt 2>&1", "pytest -q"),
    ],
)
def test_checks_are_recognised_across_ecosystems(command: str, check: str) -> None:
    assert check_name(command) == check


def test_runs_of_one_check_compare_whatever_shapes_their_output() -> None:
    runs = ["mix test", "mix test 2>&1", "mix test 2>&1 | tail -20", "cd app && mix test | head"]
    assert {check_name(run) for run in runs} == {"mix test"}


@pytest.mark.parametrize(
    "command",
    [
        'git commit -m "make the tests pass"',
        "git add . && git commit -m wip",
        "ls",
        "pip install pytest",
        "npm install",
        "echo pytest",
        "cat pytest.ini",
        "",
    ],
)
def test_other_commands_are_not_checks(command: str) -> None:
    assert check_name(command) is None


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "git status",
        "git diff HEAD~1 -- src",
        "cat README.md | head -20",
        "rg TODO src",
        "sed -n 1,20p setup.cfg",
        "cd src && ls",
        "ls missing 2>/dev/null",
        "grep -rn retry src 2>&1 | head",
    ],
)
def test_read_only_commands(command: str) -> None:
    assert is_read_only(command)


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf build",
        "sed -i s/old/new/ setup.cfg",
        "git commit -m wip",
        "pytest",
        "ls && rm stale.txt",
        "echo 'retries = 3' > settings.toml",
        "cat > notes.md <<'EOF'",
        "git log --oneline >> CHANGES.txt",
        "",
    ],
)
def test_commands_that_change_something_are_not_read_only(command: str) -> None:
    assert not is_read_only(command)
