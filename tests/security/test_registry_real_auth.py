"""Issue 11 item 9, against the real Debian ``docker-registry`` with htpasswd auth on 127.0.0.1:
credentials come from a ``docker-credential-*`` helper, are sent only after the registry's Basic
challenge, and a push + pinned pull round-trips through the hardened client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from migrate_tui.oci.build import build
from migrate_tui.oci.registry import Registry, RegistryError, push_layout
from migrate_tui.oci.source import open_tree

# bcrypt("s3cret"), cost 4 (made once with crypt.crypt; the registry only checks it)
HTPASSWD = "alice:$2b$04$cLZu2qArVN2Zyguwyb2A/eMKoG3ZJrvpKBNovZUaGK1aqkRgNtCmC\n"

pytestmark = pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs the Debian docker-registry (make test installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def auth_registry(tmp_path: Path):
    port = _free_port()
    (tmp_path / "htpasswd").write_text(HTPASSWD)
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage:\n  filesystem: {{rootdirectory: {tmp_path / 'registry-data'}}}\n"
        f"auth:\n  htpasswd: {{realm: e2, path: {tmp_path / 'htpasswd'}}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://{host}/v2/", timeout=1).close()
        except urllib.error.HTTPError:
            break  # 401: up, and asking for credentials
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("docker-registry did not start")
            time.sleep(0.05)
    yield host
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.timeout(60)
def test_push_and_pinned_pull_with_a_credential_helper(tmp_path: Path, auth_registry: str, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    bin_dir, docker = tmp_path / "bin", tmp_path / "docker"
    bin_dir.mkdir()
    docker.mkdir()
    helper = bin_dir / "docker-credential-e2real"
    helper.write_text(
        '#!/bin/sh\n[ "$1" = get ] || exit 3\nread server\n'
        f"echo \"$server\" >> '{tmp_path / 'asked'}'\n"
        'printf \'%s\' \'{"ServerURL":"x","Username":"alice","Secret":"s3cret"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))

    context = tmp_path / "ctx"
    context.mkdir()
    (context / "index.html").write_text("<h1>hi</h1>\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY index.html /site/\n")
    result = build(context / "Dockerfile", context, tag="1.0", output=tmp_path / "layout")

    with pytest.raises(RegistryError) as caught:  # no credentials configured yet
        push_layout(result.layout, "1.0", f"{auth_registry}/team/site:1.0")
    assert str(caught.value).startswith(f"{auth_registry} refused access to http://{auth_registry}/v2/team/site/blobs/")

    (docker / "config.json").write_text(json.dumps({"credHelpers": {auth_registry: "e2real"}}))
    digest = push_layout(result.layout, "1.0", f"{auth_registry}/team/site:1.0")
    assert digest == result.descriptor.digest
    tree = open_tree(f"{auth_registry}/team/site@{digest}")
    assert tree["site/index.html"].data == b"<h1>hi</h1>\n"
    assert (tmp_path / "asked").read_text() == f"{auth_registry}\n{auth_registry}\n"  # once per client, on the challenge
    assert Registry(auth_registry).get_manifest("team/site", digest)[2] == digest
