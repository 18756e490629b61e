"""Render a ``Report`` as Markdown, one self-contained HTML file (inline SVG chart, no script, no
network: a Content-Security-Policy forbids every fetch), or JSON.

Every string in a report comes from scanned files and is hostile: HTML-escaped in HTML, and in
Markdown cells control characters become visible escapes, and `|`, backticks and markup are
neutralised so a file name can't break a table or inject a link.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re

from migrate_tui.render.report.model import Report, WorkloadRow

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

ESTIMATE_NOTE = (
    "Base-image sizes are estimates from migrate-tui's published size table "
    "(compressed bytes per pull, with the source and date of each figure); asset sizes are "
    "measured from the build context when the repository builds the asset image, else unknown. "
    "Copy time is bytes ÷ {mbps:.0f} MB/s (the assumed init-container copy throughput)."
)


def visible(text: str) -> str:
    """Control, bidi and zero-width characters as visible escapes (``\\x1b``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def mb(n_bytes: int | None) -> str:
    """Bytes for people, decimal units (kB, MB, GB), as the size table uses."""
    from migrate_tui.analysis.savings import human_bytes

    return "unknown" if n_bytes is None else human_bytes(n_bytes)


def seconds(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.1f} s" if value < 100 else f"{value / 60:.1f} min"


def replicas_text(row: WorkloadRow) -> str:
    if row.per_node:
        return "every node"
    return str(row.replicas) if row.replicas is not None else "1 (not stated)"


# --- JSON --------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    payload = {
        "root": report.root,
        "files_scanned": report.files_scanned,
        "diagnostics": report.diagnostics,
        "totals": dataclasses.asdict(report.totals) if report.totals else None,
        "workloads": [dict(dataclasses.asdict(w), copy_seconds=_copy_seconds(w, report)) for w in report.workloads],
        "images": [dataclasses.asdict(i) for i in report.images],
        "estimates": ESTIMATE_NOTE.format(mbps=report.totals.copy_mbps if report.totals else 0),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _copy_seconds(row: WorkloadRow, report: Report) -> float | None:
    mbps = report.totals.copy_mbps if report.totals else 0
    if row.asset_bytes is None or mbps <= 0:
        return None
    return round(row.asset_bytes / (mbps * 1e6), 3)


# --- Markdown ----------------------------------------------------------------------------------


def _md(text: str) -> str:
    text = visible(text)
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def render_markdown(report: Report) -> str:
    t = report.totals
    assert t is not None
    lines = [
        "# Image-volume migration report",
        "",
        f"{report.files_scanned} files scanned under `{_md(report.root)}`"
        + (f"; {report.diagnostics} could not be checked" if report.diagnostics else "")
        + ".",
        "",
        "## Summary",
        "",
        f"- **{t.workloads}** workloads fill an emptyDir from an init container: **{t.safe}** can migrate now "
        f"(safe), **{t.unsafe}** under a stated assumption (unsafe), **{t.manual}** need a person (manual).",
        f"- Disk no longer copied: **{mb(t.bytes_per_pod_known)} per node** running one pod of each of the "
        f"{t.workloads_measured} measured workloads, **{mb(t.bytes_all_replicas)}** across all declared replicas.",
        f"- Start-up copy time avoided: **{seconds(t.copy_seconds_per_rollout)}** per full rollout at {t.copy_mbps:.0f} MB/s.",
        f"- **{t.images_to_scratch}** images can become `FROM scratch` (or a static base); base images shrink by "
        f"~**{t.image_mb_saved_per_pull:.1f} MB** per pull in total"
        + (f" ({t.images_unknown_size} of unknown size)" if t.images_unknown_size else "")
        + ".",
        "",
    ]
    wins = report.wins[:10]
    if wins:
        lines += ["## Biggest wins", ""]
        lines += _md_table(["what", "MB", "kind"], [[_md(label), f"{value:.1f}", kind] for label, value, kind in wins])
        lines.append("")
    for applicability, title in (("safe", "Migratable now"), ("unsafe", "Migratable under an assumption"), ("manual", "Manual")):
        rows = [w for w in report.workloads if w.applicability == applicability]
        if not rows:
            continue
        lines += [f"## {title} ({len(rows)})", ""]
        header = ["workload", "where", "rule", "volume", "per pod", "replicas", "copy time"]
        if applicability != "safe":
            header.append("assumption" if applicability == "unsafe" else "why")
        table = []
        for w in rows:
            cells = [
                _md(w.owner),
                f"{_md(w.path)}:{w.line}",
                w.rule,
                _md(w.volume),
                mb(w.asset_bytes),
                replicas_text(w),
                seconds(_copy_seconds(w, report)),
            ]
            if applicability != "safe":
                cells.append(_md(w.reason))
            table.append(cells)
        lines += _md_table(header, table)
        lines.append("")
    if report.images:
        lines += ["## Images", ""]
        lines += _md_table(
            ["Dockerfile", "rule", "fix", "base", "proposed", "saved per pull", "source"],
            [
                [
                    f"{_md(i.path)}:{i.line}",
                    i.rule,
                    i.applicability,
                    _md(i.base),
                    _md(i.proposed),
                    f"~{i.saved_mb:.1f} MB" if i.saved_mb is not None else "unknown",
                    _md(i.source),
                ]
                for i in report.images
            ],
        )
        lines.append("")
    lines += ["## About the figures", "", ESTIMATE_NOTE.format(mbps=t.copy_mbps), ""]
    return "\n".join(lines)


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.7rem 1rem;min-width:11rem}
.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:13px}
th{background:#24292f;color:#fff;text-align:left;padding:.35rem .5rem}
td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;vertical-align:top;overflow-wrap:anywhere}
td.k{white-space:nowrap;overflow-wrap:normal}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
.safe{color:#1a7f37;font-weight:600}.unsafe{color:#9a6700;font-weight:600}.manual{color:#cf222e;font-weight:600}
.note{color:#57606a;font-size:13px}
svg text{font:12px system-ui,sans-serif}
"""


def _e(text: str) -> str:
    return html.escape(visible(text), quote=True)


def _chart(report: Report) -> str:
    wins = report.wins[:10]
    if not wins:
        return '<p class="note">No measured savings to chart yet.</p>'
    top = max(value for _, value, _ in wins) or 1.0
    label_w, bar_w, row_h = 340, 420, 26
    height = row_h * len(wins) + 10
    parts = [
        f'<svg id="wins-chart" role="img" aria-label="Biggest savings in MB" width="{label_w + bar_w + 90}" '
        f'height="{height}" viewBox="0 0 {label_w + bar_w + 90} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value, kind) in enumerate(wins):
        y = 5 + i * row_h
        width = max(2.0, bar_w * value / top)
        color = "#1f6feb" if kind == "copy per pod" else "#1a7f37"
        short = label if len(label) <= 48 else "…" + label[-47:]
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_e(short)}</text>')
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" fill="{color}">'
            f"<title>{_e(label)}: {value:.1f} MB ({_e(kind)})</title></rect>"
        )
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 17}">{_e(mb(int(value * 1e6)))}</text>')
    parts.append("</svg>")
    legend = (
        '<p class="legend note"><span style="background:#1f6feb"></span>not copied per pod (measured)'
        '<span style="background:#1a7f37"></span>smaller base per image pull (estimate)</p>'
    )
    return "".join(parts) + legend


def _html_table(table_id: str, header: list[str], rows: list[list[str]], keep_whole: set[int]) -> str:
    """``keep_whole``: columns of short tokens (codes, sizes) that must not wrap mid-word."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="k">{cell}</td>' if i in keep_whole else f"<td>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(report: Report) -> str:
    t = report.totals
    assert t is not None
    cards = [
        (f"{t.safe} / {t.unsafe} / {t.manual}", "workloads safe / unsafe / manual"),
        (mb(t.bytes_per_pod_known), f"not copied per node, one pod of each of {t.workloads_measured} measured workloads"),
        (mb(t.bytes_all_replicas), "across declared replicas"),
        (seconds(t.copy_seconds_per_rollout), f"copy time per rollout at {t.copy_mbps:.0f} MB/s"),
        (f"{t.images_to_scratch}", "images can become FROM scratch or a static base"),
        (f"~{t.image_mb_saved_per_pull:.1f} MB", "smaller bases, per pull (estimate)"),
    ]
    card_html = "".join(f'<div class="card"><b>{_e(value)}</b>{_e(label)}</div>' for value, label in cards)
    workload_rows = [
        [
            _e(w.owner),
            f"{_e(w.path)}:{w.line}",
            w.rule,
            f'<span class="{w.applicability}">{w.applicability}</span>',
            _e(w.volume),
            _e(mb(w.asset_bytes)),
            _e(replicas_text(w)),
            _e(seconds(_copy_seconds(w, report))),
            _e(w.reason),
        ]
        for w in report.workloads
    ]
    image_rows = [
        [
            f"{_e(i.path)}:{i.line}",
            i.rule,
            f'<span class="{i.applicability}">{i.applicability}</span>',
            _e(i.base),
            _e(i.proposed),
            _e(f"~{i.saved_mb:.1f} MB" if i.saved_mb is not None else "unknown"),
            _e(i.source),
        ]
        for i in report.images
    ]
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No fetch of any kind: styles are inline, there is no script, images are inline SVG.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Image-volume migration report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Image-volume migration report</h1>",
        f'<p class="note">{report.files_scanned} files scanned under <code>{_e(report.root)}</code>'
        + (f"; {report.diagnostics} could not be checked" if report.diagnostics else "")
        + ".</p>",
        f'<div class="cards" id="totals">{card_html}</div>',
        "<h2>Biggest wins</h2>",
        _chart(report),
        f"<h2>Workloads ({len(report.workloads)})</h2>",
        _html_table(
            "workloads",
            ["workload", "where", "rule", "fix", "volume", "per pod", "replicas", "copy time", "assumption / why"],
            workload_rows,
            {2, 3, 5, 7},
        )
        if workload_rows
        else '<p class="note">No init-container copies found.</p>',
        f"<h2>Images ({len(report.images)})</h2>",
        _html_table("images", ["Dockerfile", "rule", "fix", "base", "proposed", "saved per pull", "source"], image_rows, {1, 2, 5})
        if image_rows
        else '<p class="note">No base image to shrink.</p>',
        f'<h2>About the figures</h2><p class="note">{_e(ESTIMATE_NOTE.format(mbps=t.copy_mbps))}</p>',
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"
