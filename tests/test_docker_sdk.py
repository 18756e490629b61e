"""The docker SDK path is optional: it builds through any Docker-compatible API (here podman's
service, Debian packages, no daemon of Docker's own) and fails with one line when there is none."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from migrate_tui.cli import main


@pytest.fixture
def podman_socket():
    if not (shutil.which("podman") and shutil.which("runc")):
        pytest.skip("needs podman and runc (make test installs them)")
    # a short directory: unix socket paths are limited to 108 bytes
    tmp_path = Path(tempfile.mkdtemp(prefix="mt-podman-", dir="/tmp"))
    (tmp_path / "c.conf").write_text('[engine]\nruntime = "runc"\n')
    (tmp_path / "r.conf").write_text("unqualified-search-registries = []\n")
    sock = tmp_path / "podman.sock"
    env = dict(os.environ, CONTAINERS_CONF=str(tmp_path / "c.conf"), CONTAINERS_REGISTRIES_CONF=str(tmp_path / "r.conf"))
    proc = subprocess.Popen(
        [
            "podman",
            "--root",
            str(tmp_path / "R"),
            "--runroot",
            str(tmp_path / "RR"),
            "--storage-driver",
            "vfs",
            "system",
            "service",
            "--time=0",
            f"unix://{sock}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not sock.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("podman system service did not start")
        time.sleep(0.05)
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_build_with_docker_sdk_through_a_docker_compatible_api(podman_socket: str, tmp_path: Path, monkeypatch, capsys) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "a.txt").write_text("hi\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\n")
    monkeypatch.setenv("DOCKER_HOST", podman_socket)
    assert main(["build", str(context), "-t", "localhost/sdk:1", "--docker"]) == 0
    assert "built localhost/sdk:1: sha256:" in capsys.readouterr().out


def test_without_a_daemon_the_docker_path_says_so_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    assert main(["build", str(tmp_path), "-t", "localhost/x:1", "--docker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no usable Docker daemon" in err
