"""Time ``migrate-tui build`` of a big asset image against ``tar -cf - | gzip -1 | sha256sum``.

    python benchmarks/build.py [--size-mb 2048] [--workdir /tmp/migrate-tui-build-bench] [--repeat 1] [--no-push] [--no-zstd]

Generates SIZE MB of model-like assets once (weight shards whose exponent bytes compress and
whose mantissas don't, already-compressed images, JSON/text), then in one run, side by side:
the reference pipeline over the same files, ``migrate-tui build`` (FROM scratch, one COPY) with
gzip and with zstd, and ``build --push`` to a local Debian ``docker-registry`` on 127.0.0.1.
Each command runs in its own wrapper process, whose ``getrusage(RUSAGE_CHILDREN)`` gives the
peak RSS of the command's largest process. Not a test: it prints numbers, it asserts nothing.
Goals (issue 14): build within 1.3x of the pipeline's time, peak RSS < 150 MB, push < 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MiB = 1 << 20
WORDS = (
    "the model weights tensor layer attention head token vocab config shard embedding bias norm "
    "float16 bfloat16 dtype shape name version license apache mit path file data index value"
).split()


def _tool() -> list[str]:
    exe = Path(sys.executable).with_name("migrate-tui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "migrate_tui"]


# --- the assets --------------------------------------------------------------------------------------


def _weights(out, size: int, rng: random.Random) -> None:
    """float16-like: every other byte an exponent from a narrow range, the rest noise."""
    exponents = bytes(0x38 + (i % 8) for i in range(256))
    left = size
    while left:
        chunk = bytearray(os.urandom(min(4 * MiB, left)))
        chunk[1::2] = bytes(chunk[1::2]).translate(exponents)
        out.write(chunk)
        left -= len(chunk)


def _noise(out, size: int, rng: random.Random) -> None:
    left = size
    while left:
        out.write(os.urandom(min(4 * MiB, left)))
        left -= min(4 * MiB, left)


def _text(out, size: int, rng: random.Random) -> None:
    pool = " ".join(rng.choice(WORDS) for _ in range(800_000)).encode()
    left = size
    while left:
        start = rng.randrange(0, len(pool) - MiB)
        piece = pool[start : start + min(MiB, left)]
        out.write(piece)
        left -= len(piece)


def generate(root: Path, size_mb: int, seed: int = 14) -> None:
    """~70 % weight shards, ~15 % images, ~15 % text in many small files, SIZE MB in all."""
    rng = random.Random(seed)
    total = size_mb * MiB
    model = root / "model"
    (model / "images").mkdir(parents=True)
    (model / "tokenizer").mkdir()
    shards = 4
    for number in range(shards):
        with open(model / f"model-{number + 1:05d}-of-{shards:05d}.safetensors", "wb") as out:
            _weights(out, int(total * 0.70) // shards, rng)
    images = int(total * 0.15)
    count = max(1, images // (2 * MiB))
    for number in range(count):
        with open(model / "images" / f"sample-{number:04d}.jpg", "wb") as out:
            _noise(out, images // count, rng)
    texts = int(total * 0.15)
    count = max(1, texts // (256 << 10))
    for number in range(count):
        with open(model / "tokenizer" / f"vocab-{number:04d}.json", "wb") as out:
            _text(out, texts // count, rng)
    (model / "config.json").write_text(json.dumps({"architectures": ["Bench"], "torch_dtype": "float16"}) + "\n")
    (root / "Dockerfile").write_text("FROM scratch\nLABEL org.opencontainers.image.title=bench-model\nCOPY model/ /models/bench/\n")


# --- measuring ---------------------------------------------------------------------------------------


def _measure_child(argv: list[str]) -> int:
    """Wrapper mode: run ARGV, print {seconds, rss_mb, rc} of it (peak RSS of its largest process)."""
    import resource

    started = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_mb": rss,
                "rc": proc.returncode,
                "out": proc.stdout.decode(errors="replace")[-2000:],
                "err": proc.stderr.decode(errors="replace")[-2000:],
            }
        )
    )
    return 0


def measure(argv: list[str], cwd: Path | None = None) -> dict:
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure", "--", *argv]
    done = subprocess.run(wrapper, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {result['rc']}: {result['err']}")
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    """Debian's docker-registry on 127.0.0.1 (as in tests/test_oci.py)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.host = f"127.0.0.1:{_free_port()}"

    def __enter__(self) -> LocalRegistry:
        config = self.workdir / "registry.yml"
        config.write_text(
            "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
            f"storage:\n  filesystem: {{rootdirectory: {self.workdir / 'registry-data'}}}\n"
            f"http:\n  addr: {self.host}\n"
        )
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise SystemExit("docker-registry did not start")
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.workdir / "registry-data", ignore_errors=True)


def _blob_size(layout: Path) -> int:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs" / "sha256" / index["manifests"][-1]["digest"][7:]).read_text())
    return sum(layer["size"] for layer in manifest["layers"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["--measure", "--"]:
        return _measure_child(argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "migrate-tui-build-bench")
    parser.add_argument("--repeat", type=int, default=1, help="median of N for each timing")
    parser.add_argument("--no-push", action="store_true")
    parser.add_argument("--no-zstd", action="store_true")
    parser.add_argument("--gzip-levels", default="1", help="comma-separated gzip levels to build with (default: 1)")
    args = parser.parse_args(argv)

    context = args.workdir / f"assets-{args.size_mb}mb"
    if not (context / ".generated").exists():
        shutil.rmtree(context, ignore_errors=True)
        print(f"generating {args.size_mb} MB of assets in {context} ...", flush=True)
        generate(context, args.size_mb)
        (context / ".generated").write_text("ok\n")
    (context / ".dockerignore").write_text(".generated\n")
    output = args.workdir / "oci"
    tool = _tool()
    reference = ["sh", "-c", f"tar -cf - -C {context} model | gzip -1 | sha256sum"]

    runs: list[tuple[str, list[str], bool]] = [("tar | gzip -1 | sha256sum", reference, False)]
    for level in (int(x) for x in args.gzip_levels.split(",")):
        runs.append(
            (
                f"build gzip -{level}",
                [*tool, "build", str(context), "-t", "bench/model:1", "-o", str(output), "--compression-level", str(level)],
                True,
            )
        )
    zstd_ok = not args.no_zstd and subprocess.run([sys.executable, "-c", "import zstandard"], capture_output=True).returncode == 0
    if zstd_ok:
        runs.append(
            ("build zstd -3", [*tool, "build", str(context), "-t", "bench/model:1", "-o", str(output), "--compression", "zstd"], True)
        )

    results: dict[str, list[dict]] = {name: [] for name, _, _ in runs}
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):  # interleaved, so a noisy neighbour hits every command alike
        for name, command, is_build in runs:
            shutil.rmtree(output, ignore_errors=True)
            results[name].append(measure(command))
            if is_build:
                sizes[name] = _blob_size(output)
    if not args.no_push and shutil.which("docker-registry"):
        with LocalRegistry(args.workdir) as registry:
            name = "build gzip -1 --push"
            shutil.rmtree(output, ignore_errors=True)
            tag = f"{registry.host}/bench/model:1"
            results[name] = [measure([*tool, "build", str(context), "-t", tag, "-o", str(output), "--push"])]
            sizes[name] = _blob_size(output)
    shutil.rmtree(output, ignore_errors=True)

    floor = measure(["true"])["rss_mb"]  # what the wrapper's fork shows for a process that does nothing
    base = statistics.median(r["seconds"] for r in results[runs[0][0]])
    base_rss = max(r["rss_mb"] for r in results[runs[0][0]])
    print(f"\ncpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} assets={args.size_mb} MB ({context}) repeat={args.repeat}")
    print(f"{'command':<28} {'time s':>8} {'ratio':>6} {'peak RSS MB':>12} {'blob MB':>8}")
    for name, rows in results.items():
        seconds = statistics.median(r["seconds"] for r in rows)
        rss = max(r["rss_mb"] for r in rows)
        blob = f"{sizes[name] / MiB:8.0f}" if name in sizes else f"{'':>8}"
        ratio = f"{seconds / base:5.2f}x" if name != runs[0][0] else f"{'1':>5}x"
        print(f"{name:<28} {seconds:8.1f} {ratio:>6} {rss:12.1f} {blob}")
    print(f"(reference peak RSS {base_rss:.1f} MB; the wrapper's floor, `true`, shows {floor:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
