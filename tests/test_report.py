"""`migrate-tui report`: numbers a platform team can plan with, honest about where each comes from,
and a self-contained HTML page that a real browser renders with its chart and tables."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from migrate_tui.cli import main
from migrate_tui.render.report import build_report, render_html, render_json, render_markdown

from testlib import make_engine

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@pytest.fixture
def demo_report(demo_copy: Path):
    result = make_engine(demo_copy, mode="scratch").scan()
    return demo_copy, build_report(result.findings, demo_copy, files_scanned=result.files_scanned, sources=result.sources)


def test_demo_workloads_are_counted_by_applicability_with_their_reasons(demo_report):
    _root, report = demo_report
    totals = report.totals
    assert (totals.workloads, totals.safe, totals.unsafe, totals.manual) == (7, 4, 1, 2)
    by_owner = {w.owner: w for w in report.workloads}
    assert by_owner["Deployment/checkout"].applicability == "unsafe"
    assert "without readOnly: true" in by_owner["Deployment/checkout"].reason
    assert by_owner["Deployment/geo-lookup"].applicability == "manual"
    assert "wget" in by_owner["Deployment/geo-lookup"].reason
    assert by_owner["Deployment/web"].reason == ""
    # safe first, then unsafe, then manual
    assert [w.applicability for w in report.workloads] == ["safe"] * 4 + ["unsafe"] + ["manual"] * 2


def test_asset_bytes_are_measured_from_the_build_context_and_replicas_from_the_manifest(demo_report):
    root, report = demo_report
    web = next(w for w in report.workloads if w.owner == "Deployment/web")
    assert web.asset_bytes == _tree_bytes(root / "web" / "site")
    assert web.asset_bytes_source.startswith("measured:")
    assert web.replicas == 2
    opa = next(w for w in report.workloads if w.owner == "Deployment/opa")
    assert opa.asset_bytes == _tree_bytes(root / "policy" / "bundle" / "rego")
    cron = next(w for w in report.workloads if w.owner == "CronJob/nightly-reports")
    assert cron.asset_bytes is None and cron.replicas is None
    measured = [w for w in report.workloads if w.asset_bytes is not None and w.applicability != "manual"]
    assert report.totals.bytes_per_pod_known == sum(w.asset_bytes for w in measured)
    assert report.totals.bytes_all_replicas == sum(w.asset_bytes * (w.replicas or 1) for w in measured)


def test_a_dockerignored_file_does_not_count(demo_copy: Path):
    (demo_copy / "web" / "site" / "big.bin").write_bytes(b"x" * 5000)
    (demo_copy / "web" / ".dockerignore").write_text("site/big.bin\n")
    result = make_engine(demo_copy, mode="scratch").scan()
    report = build_report(result.findings, demo_copy, sources=result.sources)
    web = next(w for w in report.workloads if w.owner == "Deployment/web")
    assert web.asset_bytes == _tree_bytes(demo_copy / "web" / "site") - 5000


def test_a_symlink_out_of_the_context_is_never_measured(demo_copy: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s" * 9999)
    os.symlink(outside, demo_copy / "web" / "site" / "link")
    result = make_engine(demo_copy, mode="scratch").scan()
    report = build_report(result.findings, demo_copy, sources=result.sources)
    web = next(w for w in report.workloads if w.owner == "Deployment/web")
    assert web.asset_bytes is not None and web.asset_bytes < 9999


def test_images_carry_the_size_table_figure_with_its_source(demo_report):
    _root, report = demo_report
    worker = next(i for i in report.images if i.path.endswith("services/worker/Dockerfile"))
    assert (worker.rule, worker.base, worker.proposed, worker.saved_mb) == ("DF003", "python:3.12", "python:3.12-slim", 320.0)
    assert "Docker Hub" in worker.source and "2024" in worker.source
    assert not worker.becomes_scratch
    assert report.totals.images_to_scratch == sum(1 for i in report.images if i.rule in ("DF001", "DF002"))
    assert report.wins[0][0].endswith("services/worker/Dockerfile:1")


def test_markdown_states_every_figure_and_its_basis(demo_report):
    _root, report = demo_report
    text = render_markdown(report)
    assert "**4** can migrate now (safe), **1** under a stated assumption (unsafe), **2** need a person (manual)" in text
    assert "## Migratable now (4)" in text and "## Manual (2)" in text
    assert "estimates from migrate-tui's published size table" in text
    assert "200 MB/s" in text


def test_json_is_the_same_data(demo_report):
    _root, report = demo_report
    payload = json.loads(render_json(report))
    assert payload["totals"]["safe"] == 4
    assert len(payload["workloads"]) == 7 and len(payload["images"]) == len(report.images)
    assert {w["owner"] for w in payload["workloads"]} == {w.owner for w in report.workloads}


HOSTILE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "x<script>alert(1)</script>|\\e]0;pwned\\a"
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      initContainers:
        - name: copy
          image: registry.example.com/a:1
          command: ["sh", "-c", "cp -r /site/. /html/"]
          volumeMounts: [{name: "h", mountPath: /html}]
      containers:
        - name: web
          image: nginx:1.27
          volumeMounts: [{name: "h", mountPath: /usr/share/nginx/html, readOnly: true}]
      volumes: [{name: "h", emptyDir: {}}]
"""


def test_hostile_names_are_escaped_in_every_format(tmp_path: Path):
    (tmp_path / "deploy.yaml").write_text(HOSTILE)
    result = make_engine(tmp_path).scan()
    report = build_report(result.findings, tmp_path, sources=result.sources)
    assert len(report.workloads) == 1 and "<script>" in report.workloads[0].owner
    page = render_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "\x1b" not in page and "\x07" not in page and "\\x1b]0;pwned\\x07" in page
    markdown = render_markdown(report)
    assert "\x1b" not in markdown
    row = next(line for line in markdown.splitlines() if "alert" in line)
    cells = re.split(r"(?<!\\)\|", row)[1:-1]
    assert len(cells) == 7  # the name's `|` is escaped: no extra column
    assert cells[0].strip().startswith("Deployment/x\\<script\\>")


def test_html_fetches_nothing(demo_report):
    _root, report = demo_report
    page = render_html(report)
    assert "default-src 'none'" in page
    for needle in ("<script", "src=", "href=", "@import", "url("):
        assert needle not in page


def test_cli_writes_the_report_atomically_and_rejects_bad_throughput(demo_copy: Path, capsys):
    out = demo_copy / "report.html"
    assert main(["report", str(demo_copy), "--format", "html", "-o", str(out), "--no-cache"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p for p in demo_copy.iterdir() if p.name.startswith(".report.html.")]
    assert main(["report", str(demo_copy), "--copy-mbps", "0"]) == 2
    assert "--copy-mbps must be a positive number" in capsys.readouterr().err
    assert main(["report", str(demo_copy), "--format", "json", "--copy-mbps", "100", "--no-cache"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["totals"]["copy_mbps"] == 100.0


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_chromium_renders_the_chart_and_the_tables(demo_report, tmp_path: Path):
    from PIL import Image

    _root, report = demo_report
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count('class="bar"') == min(10, len(report.wins))
    assert dom.count("<tr>") == 1 + len(report.workloads) + 1 + len(report.images)
    png = tmp_path / "report.png"
    subprocess.run([*base, "--window-size=1280,1600", f"--screenshot={png}", page.as_uri()], capture_output=True, timeout=120, check=True)
    image = Image.open(png).convert("RGB")
    colours = {colour for _count, colour in image.getcolors(maxcolors=1 << 20)}
    assert (0x1A, 0x7F, 0x37) in colours  # the green bars of the chart (base-image savings) are painted
    assert (0x1F, 0x6F, 0xEB) in colours  # the blue bars (copies avoided)
    assert (0x24, 0x29, 0x2F) in colours  # the dark header row of the tables
