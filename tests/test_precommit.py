"""The real pre-commit runs our hooks (`pre-commit try-repo`) against a staged manifest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import FIXTURES, REPO

SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
FIXED = FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def hook_repo(tmp_path: Path) -> Path:
    """A clone of this project (try-repo needs a git repo holding .pre-commit-hooks.yaml)."""
    source = tmp_path / "hooks"
    source.mkdir()
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _git(source, "init", "-q")
    _git(source, "add", "-A")
    _git(source, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "hooks")
    return source


def _try_repo(hooks: Path, work: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    # pre-commit builds the hook's own virtualenv from the clone (pip reaches the package index)
    env = dict(os.environ, PRE_COMMIT_HOME=str(home))
    pre_commit = [sys.executable, "-m", "pre_commit"]
    return subprocess.run(
        [*pre_commit, "try-repo", str(hooks), hook, "--verbose"], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.timeout(900)
def test_fix_hook_rewrites_the_staged_manifest_and_fails_the_commit(hook_repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "deploy").mkdir(parents=True)
    shutil.copyfile(SITE, work / "deploy" / "web.yaml")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    home = tmp_path / "pre-commit-home"
    result = _try_repo(hook_repo, work, "migrate-tui-fix", home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    assert (work / "deploy" / "web.yaml").read_bytes() == FIXED.read_bytes()
    _git(work, "add", "-A")  # the user stages the rewrite, as after any fixing hook
    again = _try_repo(hook_repo, work, "migrate-tui-fix", home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (work / "deploy" / "web.yaml").read_bytes() == FIXED.read_bytes()
