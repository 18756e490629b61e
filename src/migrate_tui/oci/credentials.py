"""Registry credentials from the Docker config: ``credHelpers``, ``credsStore``, ``auths``.

A credential helper (``docker-credential-NAME get``, the server name on stdin, JSON on stdout)
runs with a timeout, and only when a registry asked for credentials.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from migrate_tui.oci.transport import RegistryError

CREDENTIAL_HELPER_TIMEOUT = 10
MAX_HELPER_ANSWER = 1 << 20
_HUB_ALIASES = ("registry-1.docker.io", "index.docker.io", "docker.io")
_HELPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _config_keys(host: str) -> tuple[str, ...]:
    if host in _HUB_ALIASES:
        return ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
    return (host, f"https://{host}", f"http://{host}")


def _server_name(key: str) -> str:
    return re.sub(r"^https?://", "", key).split("/")[0]


def docker_credentials(host: str) -> str | None:
    """base64 ``user:password`` for ``host`` from the Docker config, or None.

    Order as in the docker CLI: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
    """
    config = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    wanted = set(_config_keys(host))
    helpers = data.get("credHelpers")
    if not isinstance(helpers, dict):
        helpers = {}
    for key, helper in helpers.items():
        if key in wanted or _server_name(key) in wanted:
            return _from_helper(str(helper), key)
    auths = data.get("auths")
    if not isinstance(auths, dict):
        auths = {}
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        for key in [k for k in auths if k in wanted or _server_name(k) in wanted] or [
            _config_keys(host)[0] if host in _HUB_ALIASES else host
        ]:
            found = _from_helper(store, key)
            if found:
                return found
    for key, value in auths.items():
        if (key in wanted or _server_name(key) in wanted) and isinstance(value, dict) and value.get("auth"):
            return str(value["auth"])
    return None


def _from_helper(name: str, server: str) -> str | None:
    """Run ``docker-credential-NAME get`` with ``server`` on stdin (the credential helper protocol)."""
    if not _HELPER_NAME.match(name):
        raise RegistryError(f"~/.docker/config.json names a credential helper '{name[:40]}' that is not a plain name")
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None  # a stale credsStore must not break anonymous pulls
    try:
        done = subprocess.run([program, "get"], input=server.encode(), capture_output=True, timeout=CREDENTIAL_HELPER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise RegistryError(f"credential helper docker-credential-{name} did not answer within {CREDENTIAL_HELPER_TIMEOUT}s") from None
    except OSError as exc:
        raise RegistryError(f"credential helper docker-credential-{name} could not run: {exc.strerror}") from None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous, as docker does
    try:
        answer = json.loads(done.stdout[:MAX_HELPER_ANSWER])
        user, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"credential helper docker-credential-{name} answered something that is not credentials") from None
    if user == "<token>":  # an identity token for OAuth2 refresh: not supported, stay anonymous
        return None
    return base64.b64encode(f"{user}:{secret}".encode()).decode()
