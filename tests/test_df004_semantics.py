"""DF004 reads a RUN as BuildKit and /bin/sh do (hadolint-style one-line cases), and every edit
it writes appends to the script where the shell runs it, or it gives no fix with a typed reason.

Each ``catches``/``catches_not`` case is one Dockerfile body after ``FROM``; the references are
hadolint's DL3009/DL3019/DL3042/DL3032/DL3040 specs (differences are listed in DF004's doc).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testlib import make_engine
from migrate_tui.parse.dockerfile.run import EditBlocker, split_script


def _scan(tmp_path: Path, body: str, base: str = "debian:12"):
    (tmp_path / "Dockerfile").write_text(f'FROM {base}\n{body}\nCMD ["true"]\n')
    result = make_engine(tmp_path, select=("DF004",)).scan()
    assert not result.diagnostics, result.diagnostics
    return result.findings


def _fixed(tmp_path: Path, text: str) -> str:
    (tmp_path / "Dockerfile").write_text(text)
    make_engine(tmp_path, select=("DF004",)).fix()
    return (tmp_path / "Dockerfile").read_text()


CATCHES = [
    # apt (DL3009)
    "RUN apt-get update && apt-get install -y curl",
    "RUN apt update && apt install -y curl",
    "RUN aptitude update",
    "RUN DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confold update",
    "RUN sudo -E apt-get update",
    "RUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl",
    "RUN apt-get update && apt-get install -y curl # tools && rm -rf /var/lib/apt/lists/*",
    "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl",
    "RUN --mount=type=bind,target=/var/lib/apt/lists apt-get update",
    "RUN apt-get update && apt-get clean",
    "RUN apt-get update && rm -rf /var/lib/apt/lists/*.lz4",
    "RUN if true; then apt-get update; fi",
    "RUN apt-get update && \\\n    apt-get install -y curl\\\n    # rm -rf /var/lib/apt/lists/*\n",
    # pip (DL3042)
    "RUN pip install flask",
    "RUN pip2 install flask",
    "RUN pip3.12 install flask",
    "RUN python -m pip install flask",
    "RUN python3 -m pip install flask",
    "RUN python3.12 -u -m pip install flask",
    "RUN PIP_NO_CACHE_DIR=1; pip install flask",
    "RUN pip install flask\nENV PIP_NO_CACHE_DIR=1",
    "RUN export PIP_NO_CACHE_DIR=1 && unset PIP_NO_CACHE_DIR && pip install flask",
    "RUN --mount=type=cache,target=/root/.cache/pipenv pip install flask",
    "USER app\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask",
    # yum / dnf / microdnf (DL3032, DL3040)
    "RUN yum install -y httpd",
    "RUN yum clean all && yum install -y httpd",
    "RUN dnf in -y httpd",
    "RUN dnf -y --setopt=install_weak_deps=False install httpd",
    "RUN dnf install -y httpd && microdnf clean all",
    "RUN microdnf install -y httpd",
    "RUN --mount=type=cache,target=/var/cache/foo dnf install -y httpd",
    # exec form and heredocs are read too
    'RUN ["sh", "-c", "apt-get update && apt-get install -y curl"]',
    'RUN ["pip", "install", "flask"]',
    "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF",
]

CATCHES_NOT = [
    'RUN echo "apt-get update"',
    "RUN echo 'pip install flask' > /notes.txt",
    "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
    "RUN apt-get update && apt-get install -y curl && rm -fr /var/lib/apt/lists",
    "RUN apt-get update && apt-get install -y curl && rm -r -f /var/lib/apt",
    "RUN apt-get update && apt-get install -y curl && find /var/lib/apt/lists -type f -delete",
    "RUN apt-get install -y curl",
    "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl",
    "RUN --mount=type=tmpfs,target=/var/lib/apt apt-get update",
    "RUN --mount=type=cache,target=/var/lib/apt/lists --mount=type=bind,source=.,target=/src apt-get update",
    "RUN --mount=type=bind,source=.,target=/src --mount=type=cache,target=/var/lib/apt/lists apt-get update",
    "RUN apt-get update && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*",
    # pip
    "RUN pip install --no-cache-dir flask",
    "RUN python -m pip --no-cache-dir install flask",
    "RUN PIP_NO_CACHE_DIR=1 pip install flask",
    "RUN PIP_NO_CACHE_DIR=off pip install flask",
    "RUN export PIP_NO_CACHE_DIR=1 && pip install flask",
    "RUN PIP_NO_CACHE_DIR=yes; export PIP_NO_CACHE_DIR; pip install flask",
    "RUN env PIP_NO_CACHE_DIR=1 pip install flask",
    "ENV PIP_NO_CACHE_DIR=1\nRUN pip install flask",
    "ENV PIP_NO_CACHE_DIR 1\nRUN pip install flask",
    "ARG PIP_NO_CACHE_DIR=1\nRUN pip install flask",
    "RUN --mount=type=tmpfs,target=/root/.cache/pip pip install flask",
    "RUN --mount=type=cache,target=/root/.cache pip install flask",
    "RUN --mount=type=bind,source=.,target=/src --mount=type=cache,target=/root/.cache/pip pip install -r /src/req.txt",
    "USER app\nRUN --mount=type=cache,target=/home/app/.cache/pip pip install flask",
    "RUN pip install flask && rm -rf /root/.cache/pip",
    "RUN pip install flask && rm -rf ~/.cache",
    "RUN pipx install black",
    "RUN pipenv install",
    "RUN pip download flask",
    # yum / dnf / microdnf
    "RUN yum install -y httpd && yum clean all",
    "RUN dnf in -y httpd && dnf clean all",
    "RUN dnf install -y httpd && rm -rf /var/cache/dnf",
    "RUN microdnf install -y httpd && microdnf clean all",
    "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y httpd",
    "RUN dnf clean all",
    # not this image's layers
    "ONBUILD RUN apt-get update",
    'SHELL ["pwsh", "-Command"]\nRUN apt-get update',
    "RUN <<EOF\n#!/usr/bin/env python3\nprint('apt-get update')\nEOF",
]


@pytest.mark.parametrize("body", CATCHES)
def test_catches(body: str, tmp_path: Path) -> None:
    assert [f.rule for f in _scan(tmp_path, body)] == ["DF004"]


@pytest.mark.parametrize("body", CATCHES_NOT)
def test_catches_not(body: str, tmp_path: Path) -> None:
    assert _scan(tmp_path, body) == []


@pytest.mark.parametrize(
    ("body", "base"),
    [
        ("RUN apk add curl", "alpine:3.20"),
        ("RUN apk --update add curl", "alpine:3.20"),
        ("RUN --mount=type=cache,target=/var/cache/foo apk add curl", "alpine:3.20"),
        ("RUN apk update && apk add --no-cache curl", "alpine:3.20"),
        ("RUN rm -rf /var/cache/apk/* && apk update", "alpine:3.20"),
    ],
)
def test_catches_apk(body: str, base: str, tmp_path: Path) -> None:
    assert [f.rule for f in _scan(tmp_path, body, base)] == ["DF004"]


@pytest.mark.parametrize(
    ("body", "base"),
    [
        ("RUN apk add --no-cache curl", "alpine:3.20"),
        ("RUN apk --no-cache add curl", "alpine:3.20"),
        ("RUN --mount=type=cache,target=/var/cache/apk apk add curl", "alpine:3.20"),
        ("RUN apk update && apk add curl && rm -rf /var/cache/apk/*", "alpine:3.20"),
        ('RUN echo "apk add curl"', "alpine:3.20"),
    ],
)
def test_catches_not_apk(body: str, base: str, tmp_path: Path) -> None:
    assert _scan(tmp_path, body, base) == []


# --------------------------------------------------------------------------- what the fix writes


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # a trailing comment: the cleanup goes before it, where the shell runs it
        (
            "RUN apt-get update && apt-get install -y curl # tools\n",
            "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* # tools\n",
        ),
        # the last line ends in a continuation (then a blank line): append before the backslash
        (
            "RUN apt-get update && \\\n    apt-get install -y curl \\\n\n",
            "RUN apt-get update && \\\n    apt-get install -y curl && rm -rf /var/lib/apt/lists/* \\\n\n",
        ),
        # a comment line inside the continuation is not part of the script
        (
            "RUN apt-get update \\\n# the lists\n && apt-get install -y curl\n",
            "RUN apt-get update \\\n# the lists\n && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        ),
        # a trailing ';' stays last
        ("RUN apt-get update; apt-get install -y curl;\n", "RUN apt-get update; apt-get install -y curl && rm -rf /var/lib/apt/lists/*;\n"),
        # a redirection ends the last command
        ("RUN apt-get update >/dev/null 2>&1\n", "RUN apt-get update >/dev/null 2>&1 && rm -rf /var/lib/apt/lists/*\n"),
        # a clean before the install is not a clean: add one after
        ("RUN yum clean all && yum install -y httpd\n", "RUN yum clean all && yum install -y httpd && yum clean all\n"),
        ("RUN dnf in -y httpd && microdnf clean all\n", "RUN dnf in -y httpd && microdnf clean all && dnf clean all\n"),
        # the option goes after the subcommand, also for `python3 -m pip` and pip3.12
        (
            "RUN python3 -m pip install flask && pip3.12 install gunicorn\n",
            "RUN python3 -m pip install --no-cache-dir flask && pip3.12 install --no-cache-dir gunicorn\n",
        ),
        # an option and a clean at the same place: one edit, option first
        (
            "RUN apt-get update && apt-get install -y python3-pip && python3 -m pip install\n",
            "RUN apt-get update && apt-get install -y python3-pip && python3 -m pip install --no-cache-dir"
            " && rm -rf /var/lib/apt/lists/*\n",
        ),
        # a heredoc body that is a shell script: append to its last command
        (
            "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n",
            "RUN <<EOF\napt-get update\napt-get install -y curl && rm -rf /var/lib/apt/lists/*\nEOF\n",
        ),
        # the escape directive changes the continuation character, not the shell's
        (
            "# escape=`\nFROM debian:12\nRUN apt-get update && `\n    apt-get install -y curl\n",
            "# escape=`\nFROM debian:12\nRUN apt-get update && `\n    apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        ),
    ],
)
def test_fix_appends_where_the_shell_runs_it(before: str, after: str, tmp_path: Path) -> None:
    text = before if before.startswith("#") else f"FROM debian:12\n{before}"
    expected = after if after.startswith("#") else f"FROM debian:12\n{after}"
    assert _fixed(tmp_path, text) == expected
    # and the result is clean
    assert make_engine(tmp_path, select=("DF004",)).scan().findings == []


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('RUN ["sh", "-c", "apt-get update && apt-get install -y curl"]', EditBlocker.EXEC_FORM),
        ('RUN ["pip", "install", "flask"]', EditBlocker.EXEC_FORM),
        ("RUN apt-get update && \\\n", EditBlocker.UNFINISHED),
        ('RUN apt-get update && echo "done', EditBlocker.UNFINISHED),
        ("RUN apt-get update && (apt-get install -y curl", EditBlocker.UNFINISHED),
        ("RUN apt-get update && apt-get install -y curl &", EditBlocker.BACKGROUND),
        ("RUN apt-get update && apt-get install -y curl; exit 0", EditBlocker.EXITS),
        (
            "RUN cat <<EOF > /etc/apt/sources.list && apt-get update\ndeb http://deb.debian.org/debian bookworm main\nEOF",
            EditBlocker.HEREDOC_FORM,
        ),
        ("RUN bash <<EOF\napt-get update\nEOF", EditBlocker.HEREDOC_FORM),
    ],
)
def test_no_fix_when_appending_is_not_provably_right(body: str, kind: EditBlocker, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(f'FROM debian:12\nCMD ["true"]\n{body}\n')
    result = make_engine(tmp_path, select=("DF004",)).scan()
    assert not result.diagnostics
    (finding,) = result.findings
    assert finding.fix is None
    assert finding.data["fix_blocked_kind"] == kind.value
    assert finding.fix_blocked == kind.sentence


def test_every_mount_counts_and_covers_only_its_directory(tmp_path: Path) -> None:
    body = "RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/root/.cache/pip apt-get update && pip install flask"
    (finding,) = _scan(tmp_path, body)
    assert finding.message == ("stage 0: RUN leaves apt lists (/var/lib/apt/lists) in the layer: clean it in the same RUN")


def test_split_script_words_and_connectors() -> None:
    commands, end, blocker = split_script("A=1 sudo -u root env B=2 apt-get -q update && echo 'x && y' \"$(id -u)\" # c && d")
    assert [(c.argv, c.assignments, c.connector) for c in commands] == [
        (("apt-get", "-q", "update"), (("A", "1"), ("B", "2")), ""),
        (("echo", "x && y", "$(id -u)"), (), "&&"),
    ]
    assert end == len("A=1 sudo -u root env B=2 apt-get -q update && echo 'x && y' \"$(id -u)\"")
    assert blocker is None


# --------------------------------------------------------------------------- the other DF rules read RUN the same way


def _run(body: str):
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile

    return parse_dockerfile(f"FROM busybox\n{body}\n").stages[0].instructions[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("RUN chmod -R go+r /a && chown 1:1 /b", True),
        ("RUN chmod 755 /a; \\\n    chgrp 0 /a", True),
        ('RUN ["chmod", "755", "/a"]', True),
        ('RUN ["sh", "-c", "chmod 755 /a"]', True),
        ("RUN chmod 755 /a # && wget http://x", True),
        ("RUN chmod +x /a $(wget -qO- http://x)", False),
        ('RUN chmod 755 /a; echo "chmod"', False),
        ("RUN chmod 755 /a &&", False),
        ("RUN <<EOF\nchmod 755 /a\nEOF", False),
    ],
)
def test_only_mode_changes_reads_the_shell(body: str, expected: bool) -> None:
    from migrate_tui.analysis.stages import only_mode_changes

    assert only_mode_changes(_run(body)) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("RUN apt-get update && apt-get install -y 'ca-certificates' && rm -rf /var/lib/apt/lists/*", {"ca-certificates"}),
        ("RUN apk add --no-cache tzdata # and curl", {"tzdata"}),
        ("RUN apt-get install -y ca-certificates $(wget -qO- http://x)", None),
        ('RUN apt-get install -y ca-certificates; echo "apt-get install tzdata" > /x', None),
        ('RUN ["apt-get", "install", "-y", "ca-certificates"]', None),
    ],
)
def test_df002_cert_only_install_reads_the_shell(body: str, expected: set[str] | None) -> None:
    from migrate_tui.rules.static_binary_on_full_distro import _cert_only_install

    assert _cert_only_install(_run(body)) == expected


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n", "later-run-uses-apt-lists", 3),
        ("FROM debian:12 AS base\nRUN apt-get update\nFROM base\nRUN apt-get -y install curl\n", "later-run-uses-apt-lists", 4),
        ("FROM alpine:3.20\nRUN apk update\nRUN apk add curl\n", "later-run-uses-apk-index", 3),
    ],
)
def test_no_clean_when_a_later_run_installs_from_the_index(text: str, kind: str, line: int, tmp_path: Path) -> None:
    """Removing the lists in the RUN that downloads them would make a later install fail."""
    (tmp_path / "Dockerfile").write_text(text)
    # (the later `apk add` gets its own finding: --no-cache, after which the clean is safe)
    (finding,) = [f for f in make_engine(tmp_path, select=("DF004",)).scan().findings if f.location.line == 2]
    assert finding.fix is None
    assert (finding.data["fix_blocked_kind"], finding.data["fix_blocked_line"]) == (kind, line)
    assert finding.fix_blocked.startswith(f"line {line}: a later RUN installs from the ")


@pytest.mark.parametrize(
    ("text", "after"),
    [
        (
            "FROM debian:12\nRUN apt-get update\nRUN apt-get update && apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update && rm -rf /var/lib/apt/lists/*\n"
            "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        ),
        (
            "FROM alpine:3.20\nRUN apk update\nRUN apk add --no-cache curl\n",
            "FROM alpine:3.20\nRUN apk update && rm -rf /var/cache/apk/*\nRUN apk add --no-cache curl\n",
        ),
    ],
)
def test_clean_when_later_runs_bring_their_own_index(text: str, after: str, tmp_path: Path) -> None:
    assert _fixed(tmp_path, text) == after


# --------------------------------------------------------------------------- property: appends stay valid shell

import shutil  # noqa: E402
import subprocess  # noqa: E402

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WORDS = st.sampled_from(
    [
        "curl",
        "-y",
        '"a b"',
        "'x && y'",
        "$(id -u)",
        '"$HOME"',
        "a\\ b",
        "x#y",
        "${V:-d}",
        "`date`",
        "2>/dev/null",
        ">/tmp/out",
        "'#'",
        '"; rm"',
        "--opt=1",
    ]
)
_COMMAND = st.builds(
    lambda head, rest: " ".join([head, *rest]),
    st.sampled_from(["apt-get", "echo", "pip", "true", "cp", "X=1 env"]),
    st.lists(_WORDS, max_size=3),
)
_JOIN = st.sampled_from([" && ", " || ", "; ", " | ", "\n", " && \\\n  ", " &&\n"])
_TAIL = st.sampled_from(["", ";", " # tools && rm -rf /x", "; # c", "\n", "\n# trailing comment\n"])


@st.composite
def _scripts(draw) -> str:
    commands = draw(st.lists(_COMMAND, min_size=1, max_size=4))
    text = commands[0]
    for command in commands[1:]:
        text += draw(_JOIN) + command
    return text + draw(_TAIL)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(_scripts())
@example("apt-get install -y curl # tools")
@example("apt-get update && \\\n  apt-get install -y curl;")
def test_appending_after_the_last_command_is_valid_shell_and_runs_last(script: str) -> None:
    """Where ``split_script`` says ``&& more`` goes, the shell agrees: ``sh -n`` accepts the
    result and the appended command is the last one, joined with ``&&``."""
    commands, end, blocker = split_script(script)
    assert blocker is None and end > 0
    new = script[:end] + " && rm -rf /x" + script[end:]
    again, _, blocker2 = split_script(new)
    assert blocker2 is None
    assert [c.argv for c in again] == [c.argv for c in commands] + [("rm", "-rf", "/x")]
    assert again[-1].connector == "&&"
    shell = shutil.which("dash") or shutil.which("sh")
    if shell is not None:
        assert subprocess.run([shell, "-n", "-c", new], capture_output=True).returncode == 0, new


@pytest.mark.parametrize(
    ("run", "static"),
    [
        ("RUN CGO_ENABLED=0 go build -o /out/app .", True),
        ("RUN env CGO_ENABLED=0 go build -o /out/app .", True),
        ("RUN go build -ldflags '-w -s -extldflags \"-static\"' -o /out/app .", True),
        ("RUN go build -o /out/app . # TODO: CGO_ENABLED=0", False),
        ('RUN echo "CGO_ENABLED=0" && go build -o /out/app .', False),
    ],
)
def test_df002_static_build_evidence_is_read_from_commands(run: str, static: bool) -> None:
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile
    from migrate_tui.rules.static_binary_on_full_distro import _builds_static

    parsed = parse_dockerfile(f"FROM golang:1.22 AS build\n{run}\nFROM debian:12\nCOPY --from=build /out/app /app\n")
    assert _builds_static(parsed, parsed.stages[0]) is static


_PIECES = st.sampled_from(list("ab $()`'\"\\#;&|<>{}\n\t=-*") + ["if ", "fi", "<<E", "\nE\n", "do ", "done"])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_split_script_never_raises(script: str) -> None:
    commands, end, blocker = split_script(script)
    assert 0 <= end <= len(script)
    if blocker is None and commands:
        assert end > 0 and not script[end - 1].isspace()
