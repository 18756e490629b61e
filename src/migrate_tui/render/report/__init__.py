"""The savings report: what a scan means for a platform, in numbers a team can plan with.

``build_report`` turns a scan into plain data (workloads by applicability with their reasons,
estimated disk and start-up time saved, images that can become ``FROM scratch``); ``render_*``
turn that data into Markdown, one self-contained HTML file, or JSON. Pure: no printing, no
network; the only I/O is measuring the build context of asset Dockerfiles the repo holds.

Every figure says where it comes from. Asset bytes are *measured* (the files the asset
Dockerfile copies from its build context) or *unknown*; base-image sizes come from the
published table in ``data/base_images.json`` (estimates, with source and date); the copy time
is bytes divided by a stated throughput. Nothing is guessed.
"""

from __future__ import annotations

from migrate_tui.render.report.model import ImageRow, Report, Totals, WorkloadRow, build_report
from migrate_tui.render.report.render import render_html, render_json, render_markdown

__all__ = ["ImageRow", "Report", "Totals", "WorkloadRow", "build_report", "render_html", "render_json", "render_markdown"]
