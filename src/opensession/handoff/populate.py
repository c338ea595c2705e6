"""``--populate PROVIDER[:MODEL]``: ask an agent CLI to draft ``HANDOFF.md`` from the handoff."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provider:
    """An agent CLI that takes a prompt as arguments and the handoff JSON on stdin."""

    name: str
    command: tuple[str, ...]
    install: str


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider("claude", ("claude", "-c"), "npm install -g @anthropic-ai/claude-code"),
        Provider("codex", ("codex", "exec"), "npm install -g @openai/codex"),
        Provider("opencode", ("opencode", "run"), "npm install -g opencode-ai"),
        Provider("gemini", ("gemini", "-p"), "npm install -g @google/gemini-cli"),
        Provider("amp", ("amp", "-x"), "npm install -g @sourcegraph/amp"),
    )
}


class PopulateError(RuntimeError):
    """The provider is unknown, not installed, or failed: one line saying which and why."""


def parse_provider(spec: str) -> tuple[Provider, str | None]:
    """``"claude:opus-4.6"`` → (the claude provider, ``"opus-4.6"``)."""
    name, _, model = spec.partition(":")
    provider = PROVIDERS.get(name.strip().lower())
    if provider is None:
        raise PopulateError(
            f"unknown provider {name!r} for --populate; choose one of: {', '.join(PROVIDERS)}"
        )
    return provider, model.strip() or None


def populate_prompt(model: str | None) -> str:
    """What the provider is asked to do with the handoff JSON it reads on stdin."""
    prompt = (
        "Read the opensession handoff JSON (v2 execution contract) on stdin and write HANDOFF.md "
        "in the current directory so the next agent can continue the work. Cover the objective, "
        "what was done, what was verified and what failed, the ordered next actions and the "
        "actions that can run in parallel, open questions and decisions, and how to roll back. "
        "Where a field is missing, use its *_undefined_reason or *_missing_reason hint and keep "
        "the gap explicit instead of guessing. Keep unresolved items (failing checks, pending "
        "work packages, open questions) visible and cite evidence ids where useful."
    )
    if model:
        prompt += f" Use the model {model} if you can choose one."
    return prompt


def populate(spec: str, handoff_json: bytes, cwd: Path | None = None) -> None:
    """Run the provider of ``spec`` on ``handoff_json``; its output goes to the terminal.

    Raises PopulateError when the provider is unknown, not on PATH, or exits non-zero.
    """
    provider, model = parse_provider(spec)
    binary = shutil.which(provider.command[0])
    if binary is None:
        raise PopulateError(
            f"{provider.command[0]} is not installed (not on PATH); install it with "
            f"'{provider.install}' or choose another provider"
        )
    command = [binary, *provider.command[1:], populate_prompt(model)]
    try:
        completed = subprocess.run(command, input=handoff_json, cwd=cwd, check=False)
    except OSError as exc:
        raise PopulateError(f"cannot run {provider.command[0]}: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        raise PopulateError(f"{provider.command[0]} exited with {completed.returncode}")
