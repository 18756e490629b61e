"""``migrate-tui verify --mounted DIR=IMAGE OLD_IMAGE NEW_IMAGE``: the program in the composed
image (DF002 compose mode) sees under DIR the same files as in the old image (oci.compose_verify)."""

from __future__ import annotations

import argparse
import sys

from migrate_tui.render.formats.terminal import visible


def run(args: argparse.Namespace) -> int:
    from migrate_tui.proof.compose_verify import verify_mounted
    from migrate_tui.oci.source import SourceError
    from migrate_tui.commands.build import image_sources, limits_of

    mounts = []
    for pair in args.mounted:
        path, sep, image = pair.partition("=")
        if not sep or not path.startswith("/") or not image:
            print(
                f"migrate-tui verify: error: --mounted {pair}: use DIR=IMAGE, DIR absolute (e.g. /etc/ssl/certs=oci:certs:v1)",
                file=sys.stderr,
            )
            return 2
        mounts.append((path, image))
    try:
        loader = image_sources(args.image, tuple(args.insecure_registry), args.platform, limits=limits_of(args), keep_data=False)
        results = verify_mounted(str(args.before), str(args.after), mounts, lambda ref: loader(ref))
    except (SourceError, ValueError) as exc:
        print(visible(f"migrate-tui verify: error: {exc}"), file=sys.stderr)
        return 2
    failures = 0
    for r in results:
        c = r.comparison
        bad = bool(c.missing or c.different or (c.extra and not args.allow_extra))
        failures += bad
        print(
            f"{'FAIL' if bad else 'OK  '} {r.directory} from {r.volume}: {len(c.missing)} missing, {len(c.different)} different, "
            f"{len(c.extra)} extra, {len(c.mode_only)} with other mode/owner, {c.same} same"
        )
        for label, paths in (("missing", c.missing), ("different", c.different), ("extra", c.extra), ("mode/owner", c.mode_only)):
            for p in paths[:20]:
                print(visible(f"    {label}: {r.directory}/{p}"))
    return 1 if failures else 0
