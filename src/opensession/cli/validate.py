"""``opensession validate``: check HAIL files against the format's rules."""

from __future__ import annotations

from pathlib import Path

import click
import orjson


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Validate HAIL JSONL FILES.

    Exits 0 when no file has an error-level finding, 1 otherwise. Warnings (stats that
    disagree with the events, a tool result without its call) and info notes are shown but do
    not fail the check.
    """
    from opensession.hail.validate import has_errors, validate_file

    reports = [(path, validate_file(path)) for path in files]
    failed = any(has_errors(findings) for _, findings in reports)
    if as_json:
        payload = [
            {
                "file": str(path),
                "valid": not has_errors(findings),
                "findings": [finding.to_dict() for finding in findings],
            }
            for path, findings in reports
        ]
        click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    else:
        for path, findings in reports:
            _print_report(path, findings)
    raise SystemExit(1 if failed else 0)


_STYLES = {"error": "red", "warning": "yellow", "info": "blue"}


def _print_report(path: Path, findings: list) -> None:
    from opensession.hail.validate import has_errors

    verdict = (
        click.style("invalid", fg="red")
        if has_errors(findings)
        else click.style("valid", fg="green")
    )
    click.echo(f"{path}: {verdict}")
    for finding in findings:
        severity = click.style(f"{finding.severity:<7}", fg=_STYLES[finding.severity])
        click.echo(f"  {severity} {finding.code}: {finding.message}")
