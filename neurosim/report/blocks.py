"""HTML building blocks of the mission report: escaping, value formatting, tables, the grey
"not recorded" box, figures as data URIs and the numbered sections (:data:`SECTIONS`)."""
from __future__ import annotations

import html

from neurosim.report import plots
from neurosim.report.fmt import num

SECTIONS = [
    ("overview", "1. Mission overview"),
    ("accuracy", "2. Accuracy over mission time"),
    ("reliability", "3. Reliability over mission time"),
    ("bounds", "4. Erf and Fep against the observed error"),
    ("faults", "5. Faults over time"),
    ("power", "6. Power and energy"),
    ("cores", "7. The core grid"),
    ("provenance", "8. Provenance"),
]

e = html.escape


def value_text(v):
    """Format a summary/scenario value for a table cell."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return num(v, 4)
    if isinstance(v, (list, tuple)):
        return ", ".join(value_text(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} = {value_text(x)}" for k, x in v.items())
    return str(v)


def table(rows, cls=""):
    body = "".join(f"<tr><th>{e(str(k))}</th><td>{v}</td></tr>" for k, v in rows
                   if v is not None)
    return f'<table class="{cls}">{body}</table>'


def missing(what):
    return f'<div class="missing">Not recorded: {e(what)}</div>'


def figure(fig, caption=None, fmt="svg"):
    """A figure as an <img> with a data URI; narrower figures keep their width relative to the
    full-width ones (plots.WIDE)."""
    width = min(100.0, 100.0 * fig.get_figwidth() / plots.WIDE[0])
    uri = plots.to_data_uri(fig, fmt)
    alt = e(caption or "figure")
    cap = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    style = f' style="width:{width:.0f}%"' if width < 99.5 else ""
    return f'<figure><img src="{uri}" alt="{alt}"{style}>{cap}</figure>'


def section(sid, body, lead=None):
    title = dict(SECTIONS)[sid]
    lead_html = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{sid}"><h2>{e(title)}</h2>{lead_html}{body}</section>'


def opt(v, suffix=""):
    """A table cell for an optional value (None: the row is left out)."""
    return None if v is None or v == "" else e(value_text(v) + suffix)


def fig_section(sid, fig, what_missing, lead=None, caption=None, fmt="svg"):
    body = figure(fig, caption, fmt) if fig is not None else missing(what_missing)
    return section(sid, body, lead)
