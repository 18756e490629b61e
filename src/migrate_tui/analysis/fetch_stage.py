"""Model and dataset fetches in a Dockerfile stage (DF005, issue 13 item 6).

A stage such as ``FROM alpine/git AS model`` + ``RUN git clone https://huggingface.co/org/m /model``
fetches data at build time; a later ``COPY --from=model /model /app/model`` ships it in the app
image. This module answers, from the shared RUN reader (``parse.dockerfile.run``, never regexes over
the text): which commands of a stage fetch a model or a dataset, from where, and where the files
land in the stage's filesystem (absolute, ``WORKDIR``/``cd`` applied, ``ARG``/``ENV`` defaults
expanded), or that the destination can't be known.

Recognised: ``git clone`` / ``git lfs clone`` of a Hugging Face repository (or of any repository
in a stage that runs ``git lfs``), ``wget``/``curl`` of a URL whose path ends in a model or data
extension or that is on Hugging Face, ``huggingface-cli download`` / ``hf download`` with
``--local-dir``, and ``ADD`` of such a URL. Pure functions over the parsed Dockerfile.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import Enum, StrEnum
from urllib.parse import urlsplit

from migrate_tui.parse.dockerfile.parser import Dockerfile, Stage, env_pairs, expand_args
from migrate_tui.parse.dockerfile.run import RunScript, read_run

MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".safetensors", ".gguf", ".ckpt", ".h5", ".tflite", ".pb", ".mlmodel", ".keras")
DATA_SUFFIXES = (".parquet", ".csv.gz", ".bin", ".npy", ".npz", ".arrow", ".feather", ".tfrecord", ".jsonl.gz", ".sqlite", ".db")
_HF_HOSTS = ("huggingface.co", "hf.co")
_GIT_VALUED = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"})
_CLONE_VALUED = frozenset(
    {
        "-b",
        "--branch",
        "--depth",
        "--filter",
        "-o",
        "--origin",
        "-j",
        "--jobs",
        "--reference",
        "--reference-if-able",
        "--separate-git-dir",
        "-u",
        "--upload-pack",
        "--template",
        "-c",
        "--config",
        "--shallow-since",
        "--shallow-exclude",
        "--server-option",
    }
)
_HF_VALUED = frozenset(
    {
        "--repo-type",
        "--revision",
        "--local-dir",
        "--cache-dir",
        "--token",
        "--include",
        "--exclude",
        "--max-workers",
        "--local-dir-use-symlinks",
    }
)
_WGET_VALUED = frozenset(
    {
        "-O",
        "--output-document",
        "-P",
        "--directory-prefix",
        "-o",
        "--output-file",
        "-a",
        "-t",
        "--tries",
        "-T",
        "--timeout",
        "--header",
        "-U",
        "--user-agent",
        "--user",
        "--password",
        "-e",
        "--execute",
    }
)
_CURL_VALUED = frozenset(
    {
        "-o",
        "--output",
        "--output-dir",
        "-H",
        "--header",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-X",
        "--request",
        "-d",
        "--data",
        "--retry",
        "-m",
        "--max-time",
        "--connect-timeout",
        "-e",
        "--referer",
        "-w",
        "--write-out",
        "-x",
        "--proxy",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "--cacert",
        "-E",
        "--cert",
        "--key",
        "-r",
        "--range",
    }
)


class FetchTool(StrEnum):
    GIT = "git clone"
    WGET = "wget"
    CURL = "curl"
    HF_CLI = "huggingface-cli download"
    ADD = "ADD"


class LandsAs(str, Enum):
    DIRECTORY = "directory"
    FILE = "file"
    UNKNOWN = "unknown"  # stdout, the Hugging Face cache, a path that is not literal


@dataclass(frozen=True)
class Fetch:
    tool: FetchTool
    source: str  # URL or Hugging Face repository id, ARG defaults expanded
    dest: str | None  # absolute, normalised; None when it can't be known
    lands_as: LandsAs
    line: int  # Dockerfile line of the RUN/ADD

    def describe(self) -> str:
        return f"{self.tool} {self.source}"


def is_model_url(url: str) -> bool:
    """A URL on Hugging Face, or whose path names a model or data file."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in _HF_HOSTS):
        return True
    return parts.path.lower().endswith(MODEL_SUFFIXES + DATA_SUFFIXES)


def _hf_repo_url(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == h or host.endswith("." + h) for h in _HF_HOSTS)


def _abs(cwd: str, path: str) -> str | None:
    if not path or "$" in path or "`" in path:
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def _positionals(words: list[str], valued: frozenset[str]) -> tuple[list[str], dict[str, str]]:
    """Positional words and ``{option: value}`` (``--opt=value``, ``--opt value``, ``-Ovalue``)."""
    out: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out += words[i + 1 :]
            break
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            options[name] = value
        elif word in valued:
            options[word] = words[i + 1] if i + 1 < len(words) else ""
            i += 1
        elif word.startswith("-") and len(word) > 2 and not word.startswith("--") and word[:2] in valued:
            options[word[:2]] = word[2:]
        elif word.startswith("-") and len(word) > 2 and not word.startswith("--") and f"-{word[-1]}" in valued:
            for letter in word[1:-1]:
                options.setdefault(f"-{letter}", "")
            options[f"-{word[-1]}"] = words[i + 1] if i + 1 < len(words) else ""
            i += 1
        elif word.startswith("-") and word != "-":
            options.setdefault(word, "")
        else:
            out.append(word)
        i += 1
    return out, options


def stage_env(parsed: Dockerfile, stage: Stage) -> dict[str, str | None]:
    """Global ARG defaults (BuildKit needs them redeclared, but the author's intent is clear)."""
    env: dict[str, str | None] = {}
    for name, default in parsed.global_args:
        env[name] = expand_args(default, env, parsed.escape) if default is not None else None
    return env


def stage_fetches(parsed: Dockerfile, stage: Stage) -> list[Fetch]:
    """Every model/dataset fetch of ``stage``'s RUN and ADD instructions, in order."""
    env = stage_env(parsed, stage)
    workdir = "/"
    # Each RUN is read once: the `git lfs` check of the whole stage and the fetches share it.
    scripts = {id(instr): read_run(instr) for instr in stage.instructions if instr.keyword == "RUN"}
    lfs = any(_runs_git_lfs(script) for script in scripts.values())
    out: list[Fetch] = []
    for instr in stage.instructions:
        keyword = instr.keyword
        if keyword in ("ARG", "ENV"):
            for name, value in env_pairs(instr, parsed.escape):
                if value is not None:
                    env[name] = expand_args(value, env, parsed.escape)
                else:
                    env.setdefault(name, None)
        elif keyword == "WORKDIR":
            value = expand_args(instr.args.strip().strip("\"'"), env, parsed.escape)
            workdir = posixpath.normpath(posixpath.join(workdir, value)) if value and "$" not in value else workdir
        elif keyword == "ADD":
            words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
            words = [expand_args(w, env, parsed.escape) for w in words]
            if len(words) >= 2:
                dest_word = words[-1]
                for url in words[:-1]:
                    if not is_model_url(url):
                        continue
                    repo = url.endswith(".git") or (
                        _hf_repo_url(url) and not urlsplit(url).path.lower().endswith(MODEL_SUFFIXES + DATA_SUFFIXES)
                    )
                    dest = _abs(workdir, dest_word)
                    if repo:
                        out.append(Fetch(FetchTool.ADD, url, dest, LandsAs.DIRECTORY, instr.line))
                    elif dest_word.endswith("/"):
                        name = posixpath.basename(urlsplit(url).path)
                        out.append(Fetch(FetchTool.ADD, url, _abs(dest, name) if dest else None, LandsAs.FILE, instr.line))
                    else:
                        out.append(Fetch(FetchTool.ADD, url, dest, LandsAs.FILE, instr.line))
        elif keyword == "RUN":
            out += _run_fetches(scripts[id(instr)], instr.line, env, parsed.escape, workdir, lfs)
    return out


def _runs_git_lfs(script: RunScript | None) -> bool:
    if script is None:
        return False
    return any(c.name == "git" and "lfs" in c.argv[1:3] or c.name == "git-lfs" for c in script.commands)


def _run_fetches(script: RunScript | None, line: int, env: dict[str, str | None], escape: str, workdir: str, lfs: bool) -> list[Fetch]:
    if script is None:
        return []
    out: list[Fetch] = []
    cwd = workdir
    for command in script.commands:
        argv = [expand_args(w, env, escape) for w in command.argv]
        if not argv:
            continue
        name = posixpath.basename(argv[0])
        if name == "cd" and len(argv) == 2:
            target = _abs(cwd, argv[1])
            cwd = target if target is not None else cwd
            continue
        found: Fetch | None = None
        if name == "git":
            found = _git(argv[1:], cwd, lfs, line)
        elif name == "wget":
            out += _wget(argv[1:], cwd, line)
        elif name == "curl":
            out += _curl(argv[1:], cwd, line)
        elif name == "huggingface-cli" or (name == "hf" and len(argv) > 1 and argv[1] == "download"):
            found = _hf(argv[1:], cwd, line)
        if found is not None:
            out.append(found)
    return out


def _git(words: list[str], cwd: str, lfs: bool, line: int) -> Fetch | None:
    rest, options = _positionals(words, _GIT_VALUED)
    if "-C" in options:
        moved = _abs(cwd, options["-C"])
        if moved is None:
            return None
        cwd = moved
    # ``_positionals`` stops treating options specially only at "--"; find the subcommand in the
    # original order: the first positional word.
    if not rest:
        return None
    via_lfs = rest[0] == "lfs"
    if via_lfs:
        rest = rest[1:]
    if not rest or rest[0] != "clone":
        return None
    index = words.index("clone")
    args, _ = _positionals(words[index + 1 :], _CLONE_VALUED)
    if not args:
        return None
    url = args[0]
    if not (_hf_repo_url(url) or via_lfs or lfs):
        return None
    try:
        name = posixpath.basename(urlsplit(url).path.rstrip("/") if "://" in url else url.rstrip("/"))
    except ValueError:
        return None
    if name.endswith(".git"):
        name = name[:-4]
    dest = _abs(cwd, args[1]) if len(args) > 1 else _abs(cwd, name)
    return Fetch(FetchTool.GIT, url, dest, LandsAs.DIRECTORY if dest else LandsAs.UNKNOWN, line)


def _wget(words: list[str], cwd: str, line: int) -> list[Fetch]:
    args, options = _positionals(words, _WGET_VALUED)
    urls = [a for a in args if is_model_url(a)]
    document = options.get("-O", options.get("--output-document"))
    prefix = options.get("-P", options.get("--directory-prefix"))
    out = []
    for url in urls:
        if document is not None:
            dest = None if document == "-" else _abs(cwd, document)
        else:
            base = _abs(cwd, prefix) if prefix else cwd
            dest = _abs(base, posixpath.basename(urlsplit(url).path)) if base else None
        out.append(Fetch(FetchTool.WGET, url, dest, LandsAs.FILE if dest else LandsAs.UNKNOWN, line))
    return out


def _curl(words: list[str], cwd: str, line: int) -> list[Fetch]:
    args, options = _positionals(words, _CURL_VALUED)
    urls = [a for a in args if is_model_url(a)]
    output = options.get("-o", options.get("--output"))
    remote_name = (
        "-O" in options
        or "--remote-name" in options
        or any(o.startswith("-") and not o.startswith("--") and "O" in o[1:] and o[1:].isalpha() for o in options)
    )
    out = []
    for url in urls:
        dest = None
        if output is not None and output != "-":
            dest = _abs(cwd, output)
        elif remote_name:
            base = _abs(cwd, options["--output-dir"]) if options.get("--output-dir") else cwd
            dest = _abs(base, posixpath.basename(urlsplit(url).path)) if base else None
        out.append(Fetch(FetchTool.CURL, url, dest, LandsAs.FILE if dest else LandsAs.UNKNOWN, line))
    return out


def _hf(words: list[str], cwd: str, line: int) -> Fetch | None:
    if not words or words[0] != "download":
        return None
    args, options = _positionals(words[1:], _HF_VALUED)
    if not args:
        return None
    repo = args[0]
    if options.get("--repo-type") == "dataset" and not repo.startswith("datasets/"):
        repo = f"datasets/{repo}"
    local = options.get("--local-dir")
    dest = _abs(cwd, local) if local else None
    return Fetch(FetchTool.HF_CLI, repo, dest, LandsAs.DIRECTORY if dest else LandsAs.UNKNOWN, line)


def covers(outer: str, inner: str) -> bool:
    """``inner`` is ``outer`` or below it (absolute, normalised paths)."""
    return inner == outer or outer == "/" or inner.startswith(outer.rstrip("/") + "/")
