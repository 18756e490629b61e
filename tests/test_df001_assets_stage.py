"""DF001 on asset images that arrange their files in the shipped stage (issue 13 item 4):
one-line cases for the shape, the blockers and the paths the scratch stage ships."""

from __future__ import annotations

import pytest

from migrate_tui.parse.dockerfile.parser import parse_dockerfile
from migrate_tui.fixes.assets_stage import ArrangeBlocker, plan_assets_stage, render_scratch_stage


def _plan(body: str, base: str = "busybox:1.36"):
    parsed = parse_dockerfile(f"FROM {base}\n{body}\n")
    return parsed, plan_assets_stage(parsed, parsed.stages[-1])


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ("COPY a /a\nRUN chmod -R go+r /a", ["/a"]),
        ("COPY a /opt/a\nRUN cp -r /opt/a/. /srv/b", ["/opt/a", "/srv/b"]),
        ("COPY a /a\nRUN mkdir -p /b/c /d && ln -s /a/x /b/c/x", ["/a", "/b/c", "/d"]),
        ("COPY a /tmp/a\nRUN mv /tmp/a /final", ["/final"]),
        ("COPY a /tmp/a\nRUN mv /tmp/a /final\nCOPY b /tmp/a", ["/final", "/tmp/a"]),
        ("WORKDIR /agent\nCOPY a lib/\nRUN ln -s lib/a.jar agent.jar", ["/agent"]),
        ("WORKDIR /usr/share\nCOPY a assets/\nRUN chmod 0644 assets/*", ["/usr/share/assets"]),
        ("COPY a /a\nRUN cp -t /b /a/x /a/y", ["/a", "/b"]),
        ('COPY a /a\nCMD ["echo", "this image carries files only"]', ["/a"]),
        ('COPY a /a\nRUN chmod 0755 /a\nCMD echo "mount me" && true', ["/a"]),
        ('COPY a /a\nRUN ["chmod", "-R", "go+r", "/a"]', ["/a"]),
    ],
)
def test_catches(body: str, paths: list[str]) -> None:
    _, plan = _plan(body)
    assert plan is not None and plan.blocker is None
    assert plan.paths == paths


@pytest.mark.parametrize(
    "body",
    [
        "COPY a /a",  # data only: the plain DF001 case
        "COPY a /a\nRUN wget -qO /a/x https://example.com/x",
        "COPY a /a\nRUN chmod +x /a && /a/setup.sh",
        "COPY a /a\nRUN chmod $MODE /a",
        'COPY a /a\nCMD ["/bin/sh", "/a/run.sh"]',
        "COPY a /a\nRUN echo hi > /a/x",
        "COPY a /a\nHEALTHCHECK CMD true\nRUN chmod 0644 /a",
        "COPY a /a\nRUN <<EOF\nchmod 0644 /a\nEOF",
        "RUN mkdir /a",  # copies nothing in
    ],
)
def test_catches_not(body: str) -> None:
    assert _plan(body)[1] is None


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("COPY a /a\nRUN apk add --no-cache jq && chmod -R go+r /a", ArrangeBlocker.INSTALLS_PACKAGES),
        ("COPY a /a\nRUN chown -R 1000:1000 /a", ArrangeBlocker.OWNERSHIP),
        ("COPY --chown=1000:1000 a /a\nRUN chmod -R go+r /a", ArrangeBlocker.OWNERSHIP),
        ("USER 1000\nCOPY a /a\nRUN mkdir /a/cache", ArrangeBlocker.OWNERSHIP),
        ("COPY a /a\nRUN cp /a/x ~/x", ArrangeBlocker.UNKNOWN_PATH),
        ("COPY a /a\nRUN ln -s /a /current", ArrangeBlocker.TOP_LEVEL_LINK),
        ("COPY rootfs/ /\nRUN chmod 0644 /etc/motd", ArrangeBlocker.WHOLE_ROOT),
        ("COPY tool /usr/local/bin/\nRUN chmod 0755 /usr/local/bin/tool", ArrangeBlocker.BASE_DIRECTORY),
        ("COPY a /a\nRUN cp /a/x /bin/", ArrangeBlocker.BASE_DIRECTORY),
        ('COPY ["a", "/my assets/"]\nRUN chmod -R go+r "/my assets"', ArrangeBlocker.UNKNOWN_PATH),
        ("COPY a /a\nENV PATH=$PATH:/a\nRUN chmod 0755 /a", ArrangeBlocker.CONFIG_EXPANDS),
    ],
)
def test_blockers(body: str, kind: ArrangeBlocker) -> None:
    _, plan = _plan(body)
    assert plan is not None and plan.blocker is kind


def test_named_or_middle_stage_is_manual() -> None:
    parsed = parse_dockerfile("FROM busybox AS files\nCOPY a /a\nRUN chmod 0644 /a/x\n")
    assert plan_assets_stage(parsed, parsed.stages[0]).blocker is ArrangeBlocker.NAMED_STAGE


def test_scratch_stage_carries_config_and_copies_each_path() -> None:
    parsed, plan = _plan(
        'LABEL org.opencontainers.image.title="agent"\nWORKDIR /agent\nCOPY a lib/\nRUN mkdir /plugins && chmod -R go+r /agent\nEXPOSE 8080'
    )
    assert render_scratch_stage(parsed, plan, "assets") == (
        'FROM scratch\nLABEL org.opencontainers.image.title="agent"\nEXPOSE 8080\nWORKDIR /agent\n'
        "COPY --from=assets /agent /agent\nCOPY --from=assets /plugins /plugins\n"
    )


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("RUN mkdir /p && wget -qO- https://example.com/p.tgz | tar -xz -C /p\nCMD cp -a /p/* $DEST/", 3),
        ('COPY plugins/ /plugins/\nENTRYPOINT ["cp", "-r", "/plugins/.", "/target/"]', 3),
        ('COPY plugins/ /plugins/\nCMD ["sh", "-c", "mkdir -p /target && cp -a /plugins/. /target/"]', 3),
    ],
)
def test_copier_image(body: str, line: int) -> None:
    from migrate_tui.fixes.assets_stage import copier_command

    parsed = parse_dockerfile(f"FROM busybox:1.36\n{body}\n")
    assert copier_command(parsed, parsed.stages[-1]).line == line


@pytest.mark.parametrize(
    "body",
    [
        "COPY plugins/ /plugins/",  # no command: the plain data-only case
        "COPY plugins/ /plugins/\nCMD cp -a /plugins/. /target/ && /plugins/bin/run",
        "RUN apk add --no-cache curl\nCMD cp -a /p /target/",
        "COPY p /p\nCMD cp -a /p $(cat /dest)",
        'COPY p /p\nCMD ["echo", "nothing to copy"]',
    ],
)
def test_not_a_copier_image(body: str) -> None:
    from migrate_tui.fixes.assets_stage import copier_command

    parsed = parse_dockerfile(f"FROM busybox:1.36\n{body}\n")
    assert copier_command(parsed, parsed.stages[-1]) is None
