"""Issue 11 item 9: bearer realms, total deadlines, bounded answers, malformed JSON, credential helpers.

Every server here is local (127.0.0.1 / 127.0.0.2) and built by the test; an HTTPS registry uses
a throwaway self-signed certificate the client trusts through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from hostile import Reply, RegistryApp, Server, image_blobs, tls_files  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.platform.digest import DigestError, RegistryResolver  # noqa: E402
from migrate_tui.oci.registry import Registry, RegistryError  # noqa: E402

BASIC = base64.b64encode(b"alice:s3cret").decode()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BLOBS, MANIFEST = image_blobs({"site/index.html": b"<h1>hi</h1>\n"})


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch) -> Path:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def _login(config: Path, host: str) -> None:
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": BASIC}}}))


def _realm(token: str = "anon-token"):
    return lambda request: Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode())


# --- realms ------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make a test certificate")
def test_no_credentials_to_a_plain_http_realm_of_an_https_registry(tmp_path: Path, docker_config: Path, monkeypatch) -> None:
    cert, key = tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with Server(_realm(), "127.0.0.2") as realm:
        app = RegistryApp(blobs=BLOBS, manifests={"1.0": MANIFEST}, token="anon-token", realm=f"{realm.url}/token")
        with Server(app, "127.0.0.2", tls=(cert, key)) as registry:
            _login(docker_config, registry.host)
            client = Registry(registry.host)
            assert client.scheme == "https"
            body, _, _ = client.get_manifest("team/site", "1.0")
    assert body == MANIFEST  # the anonymous token still works
    assert [(r.path.split("?")[0], r.headers.get("authorization")) for r in realm.requests] == [("/token", None)]


@pytest.mark.timeout(60)
def test_no_credentials_to_a_realm_on_another_host_over_http(docker_config: Path) -> None:
    with Server(_realm(), "127.0.0.2") as realm:
        app = RegistryApp(blobs=BLOBS, manifests={"1.0": MANIFEST}, token="anon-token", realm=f"{realm.url}/token")
        with Server(app, "127.0.0.1") as registry:
            _login(docker_config, registry.host)
            body, _, _ = Registry(registry.host).get_manifest("team/site", "1.0")
    assert body == MANIFEST
    assert [r.headers.get("authorization") for r in realm.requests] == [None]


@pytest.mark.timeout(60)
def test_a_realm_that_is_not_http_is_refused(docker_config: Path) -> None:
    app = RegistryApp(manifests={"1.0": MANIFEST}, token="t", realm="file:///etc/passwd")
    with Server(app) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_manifest("team/site", "1.0")
    assert str(caught.value) == f"{registry.host}: bearer realm 'file:///etc/passwd' is not an http(s) URL; refused"


# --- total deadline and bounded answers ------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_registry_that_drips_its_body_is_cut_off_at_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    with Server(lambda r: Reply(raw=iter([head] + [b" "] * 100000), pause=0.05)) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host, timeout=30, deadline=1.0).get_manifest("team/site", "1.0")
    assert str(caught.value) == f"{registry.host} did not finish answering within 1s"


@pytest.mark.timeout(60)
def test_a_registry_that_drips_its_headers_is_cut_off_at_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100000
    with Server(lambda r: Reply(raw=(head[i : i + 1] for i in range(len(head))), pause=0.05)) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host, timeout=30, deadline=1.0).get_manifest("team/site", "1.0")
    assert str(caught.value) == f"{registry.host} did not finish answering within 1s"


@pytest.mark.timeout(60)
def test_oversized_manifests_and_token_answers_are_refused() -> None:
    huge = b" " * (5 << 20)
    with Server(lambda r: Reply(200, {}, iter([huge]))) as registry:  # no Content-Length: read up to the bound
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_manifest("team/site", "1.0")
    assert str(caught.value) == f"{registry.host}: the manifest team/site@1.0 is larger than the 4194304 bytes allowed"
    with Server(lambda r: Reply(200, {}, b"[" * (2 << 20))) as realm:
        app = RegistryApp(manifests={"1.0": MANIFEST}, token="t", realm=f"{realm.url}/token")
        with Server(app) as registry:
            with pytest.raises(RegistryError) as caught:
                Registry(registry.host).get_manifest("team/site", "1.0")
    assert str(caught.value) == f"{registry.host}: the token answer is 2097152 bytes, more than the 1048576 allowed"


# --- malformed JSON ---------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_an_array_as_manifest_is_a_clean_error_with_exit_2(tmp_path: Path, capsys) -> None:
    with Server(RegistryApp(manifests={"1.4.2": b"[]"})) as registry:
        image = f"{registry.host}/platform/web-site:1.4.2"
        manifest = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text().replace("registry.example.com/web-site:1.4.2", image)
        (tmp_path / "before.yaml").write_text(manifest)
        code = main(["verify", str(tmp_path / "before.yaml"), str(tmp_path / "before.yaml")])
        err = capsys.readouterr().err
        with pytest.raises(DigestError) as caught:
            RegistryResolver()(image)
    assert code == 2
    digest = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"  # of "[]"
    assert err == f"migrate-tui verify: error: {image}: manifest {digest} is a JSON array, not an object\n"
    assert str(caught.value) == f"{image}: the registry answered with something that is not a manifest"


# --- credential helpers ------------------------------------------------------------------------------


def _helper(bin_dir: Path, name: str, log: Path, *, user: str = "alice", secret: str = "s3cret") -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 3\n'
        f"cat > '{log}'\n"
        f'printf \'%s\' \'{{"ServerURL":"x","Username":"{user}","Secret":"{secret}"}}\'\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_credentials_come_from_a_docker_credential_helper(tmp_path: Path, docker_config: Path, monkeypatch, kind: str) -> None:
    log = tmp_path / "helper-stdin"
    _helper(tmp_path / "bin", "e2test", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    app = RegistryApp(blobs=BLOBS, manifests={"1.0": MANIFEST}, basic=BASIC)
    with Server(app) as registry:
        if kind == "credHelpers":
            config = {"credHelpers": {registry.host: "e2test"}}
        else:
            config = {"credsStore": "e2test", "auths": {registry.host: {}}}
        (docker_config / "config.json").write_text(json.dumps(config))
        body, _, _ = Registry(registry.host).get_manifest("team/site", "1.0")
    assert body == MANIFEST
    assert log.read_text() == registry.host
    assert [r.headers.get("authorization") for r in registry.requests] == [None, f"Basic {BASIC}"]


@pytest.mark.timeout(60)
def test_a_registry_that_never_asks_never_runs_the_helper(tmp_path: Path, docker_config: Path, monkeypatch) -> None:
    log = tmp_path / "helper-stdin"
    _helper(tmp_path / "bin", "e2test", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    with Server(RegistryApp(manifests={"1.0": MANIFEST})) as registry:
        (docker_config / "config.json").write_text(json.dumps({"credHelpers": {registry.host: "e2test"}}))
        Registry(registry.host).get_manifest("team/site", "1.0")
    assert not log.exists()
    assert [r.headers.get("authorization") for r in registry.requests] == [None]


@pytest.mark.timeout(60)
def test_registry_error_texts_reach_the_terminal_escaped() -> None:
    body = json.dumps({"errors": [{"code": "DENIED", "message": "\x1b]0;pwned\x07\x1b[2Jall checks passed"}]}).encode()
    with Server(lambda r: Reply(500, {}, body)) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_manifest("team/site", "1.0")
    assert str(caught.value) == (
        f"GET http://{registry.host}/v2/team/site/manifests/1.0: HTTP 500 DENIED: \\x1b]0;pwned\\x07\\x1b[2Jall checks passed"
    )
