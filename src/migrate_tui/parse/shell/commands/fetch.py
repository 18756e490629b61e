"""wget, curl, git, cloud and registry CLIs (gsutil, aws, huggingface-cli, oras…), package
managers, netcat: commands that reach the network."""

from __future__ import annotations

from migrate_tui.parse.shell.command import Cmd, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import dedupe, is_remote, output_path, parse_options, resolve

PACKAGE_MANAGERS = frozenset({"pip", "pip3", "uv", "npm", "yarn", "pnpm", "apk", "apt-get", "apt", "yum", "dnf", "microdnf", "gem"})
FETCHERS = frozenset(
    {
        "gsutil",
        "aws",
        "az",
        "azcopy",
        "gcloud",
        "hf",
        "huggingface-cli",
        "kubectl",
        "helm",
        "oras",
        "crane",
        "skopeo",
        "rclone",
        "mc",
        "scp",
        "sftp",
        "ftp",
        "ncftp",
        "ncftpget",
        "s3cmd",
        "lftp",
        "aria2c",
    }
)
_FETCH_VERBS = frozenset({"cp", "copy", "sync", "rsync", "mirror", "get", "download", "pull", "export"})
_TOOL_FETCH_VERBS = {"kubectl": frozenset({"cp"}), "helm": frozenset({"pull", "fetch"})}
_FETCH_OUTPUT_OPTIONS = frozenset(
    {"--local-dir", "--destination", "-d", "--untardir", "--output", "-o", "--output-dir", "--file", "--target"}
)
_FORMAT_OUTPUT_TOOLS = frozenset({"kubectl", "gcloud", "az", "aws"})  # -o/--output is a format
_GIT_READ_ONLY = frozenset(
    {"", "status", "log", "show", "diff", "rev-parse", "describe", "version", "help", "--version", "ls-files", "ls-remote", "config"}
)


def classify_wget(cmd: Cmd) -> Verdict:
    opts = parse_options(
        cmd.argv,
        "OoaPeUTtwQlARDIXiB",
        frozenset(
            {
                "--output-document",
                "--directory-prefix",
                "--output-file",
                "--header",
                "--user-agent",
                "--tries",
                "--timeout",
                "--wait",
                "--input-file",
                "--user",
                "--password",
            }
        ),
    )
    output = opts.values.get("-O", opts.values.get("--output-document"))
    prefix = opts.values.get("-P", opts.values.get("--directory-prefix"))
    if "--spider" in opts.longs:
        paths: tuple[str, ...] = ()
    elif output is not None:
        paths = output_path(output, cmd.cwd)
    else:
        paths = (resolve(prefix or ".", cmd.cwd),)
    return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, "wget downloads over the network", paths)


def classify_curl(cmd: Cmd) -> Verdict:
    opts = parse_options(
        cmd.argv,
        "oAbcCdDeEFHKmPQrtTuUwxXyYz",
        frozenset(
            {
                "--output",
                "--output-dir",
                "--header",
                "--data",
                "--user",
                "--request",
                "--user-agent",
                "--cookie",
                "--cookie-jar",
                "--max-time",
                "--retry",
                "--connect-timeout",
                "--cacert",
                "--cert",
                "--key",
                "--proxy",
                "--write-out",
                "--form",
                "--url",
            }
        ),
    )
    output = opts.values.get("-o", opts.values.get("--output"))
    paths = output_path(output, cmd.cwd)
    if "O" in opts.letters or opts.longs & {"--remote-name", "--remote-name-all"}:
        paths += (resolve(opts.values.get("--output-dir", "."), cmd.cwd),)
    return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, "curl downloads over the network", paths)


def _repo_directory(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return (name[:-4] if name.endswith(".git") else name) or "."


def classify_git(cmd: Cmd) -> Verdict:
    argv, base, i = cmd.argv, cmd.cwd, 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--version":
        if argv[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") and i + 1 < len(argv):
            if argv[i] == "-C":
                base = resolve(argv[i + 1], base)
            i += 1
        i += 1
    sub = argv[i] if i < len(argv) else ""
    if sub in _GIT_READ_ONLY:
        return Verdict(OpKind.HARMLESS, Why.CHANGES_NOTHING, f"git {sub} only reads" if sub else "git only reads")
    if sub == "clone":
        opts = parse_options(
            argv,
            "bcojul",
            frozenset(
                {
                    "--branch",
                    "--depth",
                    "--origin",
                    "--config",
                    "--reference",
                    "--jobs",
                    "--separate-git-dir",
                    "--template",
                    "--filter",
                    "--upload-pack",
                }
            ),
            first=i + 1,
        )
        operands = [argv[k] for k in opts.operands]
        dest = operands[1] if len(operands) > 1 else _repo_directory(operands[0] if operands else "")
        return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, "git clone downloads over the network", (resolve(dest, base),))
    if sub in ("pull", "fetch", "submodule", "lfs"):
        reason = f"git {sub} downloads over the network"
    else:
        reason = f"git {sub} fetches or changes a repository"
    return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, reason, (base,))


def _strip_transport(raw: str) -> str:
    """skopeo's ``dir:/d`` or ``oci:/d`` name a local path."""
    prefix, colon, rest = raw.partition(":")
    return rest if colon and prefix in ("dir", "oci", "oci-archive", "docker-archive") else raw


def classify_fetcher(cmd: Cmd) -> Verdict:
    argv = cmd.argv
    paths: list[str] = []
    operands: list[str] = []
    i = 1
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name in _FETCH_OUTPUT_OPTIONS:
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            is_format = name in ("-o", "--output") and cmd.name in _FORMAT_OUTPUT_TOOLS
            if value and not is_format:
                paths.extend(output_path(value, cmd.cwd))
        elif not argv[i].startswith("-"):
            operands.append(argv[i])
        i += 1
    verbs = _TOOL_FETCH_VERBS.get(cmd.name, _FETCH_VERBS)
    if not paths and len(operands) >= 2 and not verbs.isdisjoint(operands):
        last = _strip_transport(operands[-1])
        if last not in _FETCH_VERBS and not is_remote(last):
            paths.extend(output_path(last, cmd.cwd))
    return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, f"{cmd.name} downloads over the network", dedupe(paths))


def classify_package_manager(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "t", frozenset({"--target", "--prefix", "--root"}))
    target = opts.values.get("-t") if cmd.name in ("pip", "pip3", "uv") else None
    target = opts.values.get("--target", opts.values.get("--prefix", target))
    return Verdict(OpKind.DOWNLOAD, Why.INSTALLS_PACKAGES, f"{cmd.name} installs packages over the network", output_path(target, cmd.cwd))


def classify_nc(cmd: Cmd) -> Verdict:
    if "z" in parse_options(cmd.argv, "wpsiq").letters:
        return Verdict(OpKind.WAIT, Why.WAITS, f"{cmd.name} -z probes a port")
    return Verdict(OpKind.UNKNOWN, Why.NETWORK_IO, f"{cmd.name} exchanges data with the network")
