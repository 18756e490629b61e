"""Reading the configuration: a pyproject.toml of an unexpected shape is a user mistake (exit 2
with a sentence), never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_tui.cli import main
from migrate_tui.repo.config import ConfigError, load_config


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.mark.parametrize("text", ["tool = 1\n", "tool = ['migrate-tui']\n", "[tool.black]\nline-length = 99\n"])
def test_pyproject_without_a_migrate_tui_table_is_no_config(root: Path, text: str) -> None:
    (root / "pyproject.toml").write_text(text)
    assert load_config(root).source is None


def test_migrate_tui_entry_that_is_not_a_table_is_a_config_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[tool]\nmigrate-tui = "IV001"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert str(caught.value) == f"{pyproject}: tool.migrate-tui must be a table ([tool.migrate-tui])"
    with pytest.raises(ConfigError) as caught:
        load_config(root, pyproject)
    assert str(caught.value) == f"{pyproject}: tool.migrate-tui must be a table ([tool.migrate-tui])"
    assert main(["check", str(root)]) == 2
    assert capsys.readouterr().err == (f"migrate-tui: error: {pyproject}: tool.migrate-tui must be a table ([tool.migrate-tui])\n")


def test_explicit_pyproject_reads_its_table_or_else_the_whole_file(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[tool.migrate-tui]\nignore = ["IV001"]\n')
    assert load_config(root, pyproject).ignore == ("IV001",)
    pyproject.write_text('tool = 1\nignore = ["IV002"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(root, pyproject)
    assert str(caught.value).startswith(f"{pyproject}: unknown key 'tool' (known: ")
