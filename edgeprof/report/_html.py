"""HTML building blocks: escaped tables, notes, provenance badges, embedded images, the page.

Everything is built with string templates and :func:`html.escape`; the page has no external
reference (styles inline, images as ``data:`` URIs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from edgeprof.estimates import Provenance

# The legend: every Provenance, plus "spec" for device figures read off a spec sheet.
PROVENANCES = (*(str(p) for p in Provenance), "spec")


@dataclass
class Section:
    """One part of the report: an anchor, a title, its HTML and what went into it."""

    key: str
    title: str
    body: str
    summary: dict[str, Any] = field(default_factory=dict)


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def badge(provenance: str) -> str:
    """A small colored label naming where a number comes from."""
    head, _, tail = provenance.partition(":")
    cls = tail if head == "predicted" else head  # imported:<tool> → imported
    return f'<span class="prov prov-{esc(cls)}">{esc(provenance)}</span>'


def note(text: str, kind: str = "info") -> str:
    """A visible one-paragraph note (``info`` or ``warn``); ``text`` is escaped."""
    return f'<p class="note note-{esc(kind)}">{esc(text)}</p>'


def raw_note(html_text: str, kind: str = "info") -> str:
    """Like :func:`note` for text that is already HTML (callers escape the parts)."""
    return f'<p class="note note-{esc(kind)}">{html_text}</p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[Any] | str], *,
          caption: str | None = None, numeric: Sequence[bool] | None = None,
          raw_cols: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except the columns in ``raw_cols`` (already HTML).
    A row given as a plain string is HTML for a full-width group heading."""
    numeric = list(numeric or [False] * len(headers))
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        if isinstance(row, str):
            body.append(f'<tr class="group"><th colspan="{len(headers)}">{row}</th></tr>')
            continue
        cells = []
        for k, cell in enumerate(row):
            text = cell if k in raw_cols else esc("" if cell is None else cell)
            cls = ' class="num"' if k < len(numeric) and numeric[k] else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def image(data_uri: str, alt: str, caption: str | None = None) -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{data_uri}" alt="{esc(alt)}">{cap}</figure>'


def definition_list(items: Iterable[tuple[str, str]]) -> str:
    """``(term, html)`` pairs; terms are escaped, values are HTML."""
    inner = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f'<dl class="facts">{inner}</dl>'


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;
 margin:0;color:#1d232a;background:#f6f7f9;font-size:15px;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:26px;margin:6px 0 4px}h2{font-size:21px;margin:0 0 10px;
 border-bottom:2px solid #d8dde3;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:16px 20px;
 margin:18px 0}
nav{font-size:14px;margin:6px 0 0}nav a{margin-right:14px;color:#1f5fa8;text-decoration:none}
.sub{color:#56606b;margin:0 0 8px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:8px 0}
dl.facts dt{color:#56606b}dl.facts dd{margin:0;word-break:break-word}
.tablewrap{overflow-x:auto;margin:8px 0}
table{border-collapse:collapse;font-size:14px}caption{text-align:left;color:#56606b;
 padding:0 0 4px;font-size:13px}
th,td{border:1px solid #dde2e8;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
tr.group th{background:#e3e9f0;font-weight:600;padding-top:6px}
td.nowrap{white-space:nowrap}
figure{margin:10px 0}figure img{max-width:100%;height:auto;border:1px solid #e4e7eb}
figcaption{color:#56606b;font-size:13px;margin-top:4px}
.note{border-left:4px solid #7aa7d9;background:#eef5fd;padding:7px 12px;margin:8px 0}
.note-warn{border-left-color:#d9a54a;background:#fdf6e8}
.prov{display:inline-block;font-size:12px;border-radius:4px;padding:0 6px;margin:0 2px;
 white-space:nowrap;border:1px solid #c9d1da;background:#f1f3f6;color:#37414b}
.prov-measured{background:#e5f4ea;border-color:#9ccfab;color:#1d5e31}
.prov-imported{background:#e8f0fa;border-color:#a7c1e3;color:#234d80}
.prov-measured-fit{background:#eaf0ff;border-color:#a9b9ea;color:#283f87}
.prov-spec-derived,.prov-spec{background:#fff2e0;border-color:#e8c18c;color:#7a4a0b}
.prov-synthetic,.prov-prior{background:#f6e9f7;border-color:#d4a9d8;color:#6a2a70}
.prov-emulated{background:#fde8e8;border-color:#e4a5a5;color:#822}
.legend{font-size:13px;color:#56606b}
details{margin:10px 0}summary{cursor:pointer;color:#1f5fa8}
"""


def page(title: str, header_html: str, sections: Sequence[Section]) -> str:
    """The whole document: header, a table of contents, then each section."""
    nav = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in sections)
    legend = " ".join(badge(p) for p in PROVENANCES)
    parts = [f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2>{s.body}</section>'
             for s in sections]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{esc(title)}</h1>{header_html}"
        f'<p class="legend">Every number carries where it comes from: {legend}</p>'
        f"<nav>{nav}</nav>{''.join(parts)}</main></body></html>\n"
    )
