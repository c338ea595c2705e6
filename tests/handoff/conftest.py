"""Handoff artifacts are tested in the real git repositories of the gitnative tests."""

from tests.gitnative.conftest import isolated_git, repo, work_repo

__all__ = ["isolated_git", "repo", "work_repo"]
