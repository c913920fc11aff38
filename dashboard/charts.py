"""The daily charts as SVG drawn on the server (pygal), styled by the page's own CSS.

pygal writes a ``<style>`` into every SVG; it is removed so the charts follow the site's light
and dark themes (dashboard/static/dashboard/dashboard.css) and need no inline style under the
Content-Security-Policy. No JavaScript (``js=[]``): the numbers are also in a table below each
chart. Each SVG carries ``role="img"`` with a ``<title>`` and a ``<desc>`` for screen readers.

Drawing four charts and their tables of numbers costs more than the figures behind them, so each
chart's HTML (templates/dashboard/chart.html) is kept in the cache under ``Chart.digest``; the SVG
is drawn only for numbers not drawn before.
"""

from __future__ import annotations

import functools
import hashlib
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from django.template.loader import get_template, render_to_string
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from .caching import remembered

TEMPLATE = "dashboard/chart.html"
MAX_SERIES = 8
SPARSE_POINTS = 14
# About this many dates under the x axis, whatever the period: at 30 or 90 days, every label would
# not fit, and pygal then shortens each to "…".
X_LABELS = 6
# Sizes in the SVG's own units, which scale with the chart: 14 still reads at a phone's width (about 0.75).
FONT_SIZE = 14
LEGEND_ROW = 22


@dataclass
class Chart:
    key: str
    title: str
    description: str
    unit: str
    days: list[str]
    no_data: str
    series: dict[str, list]  # label -> one value (or None) per day

    @property
    def table(self) -> list[tuple[str, list]]:
        """The chart's numbers by day, for the table under it: ``[(day, [value per series])]``."""
        return [(day, [values[i] for values in self.series.values()]) for i, day in enumerate(self.days)]

    @cached_property
    def svg(self) -> str:
        return _svg(self)

    @property
    def table_rows(self) -> SafeString:
        """The rows of the table of numbers, as ``{{ value }}`` in a template would write them.

        Written here: a template loop over every cell (a thousand a chart) costs more than drawing
        the chart, and so does looking the number format up for each one."""
        number = _number_format()

        def cell(value) -> str:
            return "–" if value is None else escape(number(value))

        return mark_safe("".join(  # every part escaped
            f'<tr><th scope="row">{escape(day)}</th>{"".join(f"<td>{cell(v)}</td>" for v in values)}</tr>'
            for day, values in self.table))

    @cached_property
    def digest(self) -> str:
        """Names what the chart shows and how it is drawn: the same digest, the same SVG and table."""
        shown = (_drawing(), self.key, self.title, self.description, self.unit, self.no_data, self.days,
                 list(self.series.items()))
        return hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


@functools.cache
def _drawing() -> str:
    """This module, its template and pygal: a chart drawn by another version is drawn again."""
    import pygal  # imported by the first chart drawn, not by every server process (about 8 MB)

    source = Path(__file__).read_bytes() + get_template(TEMPLATE).template.source.encode() + pygal.__version__.encode()
    return hashlib.blake2b(source, digest_size=8).hexdigest()


def _number_format():
    """``formats.localize`` for numbers, with the active language's format looked up once."""
    lang = get_language()
    decimal, grouping, thousands = (get_format(name, lang) for name in
                                    ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR"))
    return lambda value: numberformat.format(value, decimal, None, grouping, thousands, use_l10n=True)


def _series(daily: list[dict], days: list[str], value) -> dict[str, list]:
    by_label: dict[str, dict[str, object]] = defaultdict(dict)
    replies: dict[str, int] = defaultdict(int)
    for row in daily:
        label = f"{row['provider']} · {row['model']}"
        by_label[label][row["day"]] = value(row)
        replies[label] += row["replies"]
    # The busiest series are drawn; every series is in the table.
    labels = sorted(by_label, key=lambda lb: (-replies[lb], lb))
    return {label: [by_label[label].get(day) for day in days] for label in labels}


def _svg(chart: Chart) -> str:
    import pygal  # imported by the first chart drawn, not by every server process (about 8 MB)
    from pygal.style import Style

    drawn = min(len(chart.series), MAX_SERIES)
    line = pygal.Line(
        # Room for the legend, one series a line, under the plot; sizes as dashboard.css draws them.
        js=[], style=Style(font_family="inherit", legend_font_size=FONT_SIZE, label_font_size=FONT_SIZE,
                           major_label_font_size=FONT_SIZE, legend_box_size=FONT_SIZE),
        width=480, height=240 + LEGEND_ROW * drawn, show_dots=False, dots_size=2.5, x_label_rotation=0,
        show_minor_x_labels=False, x_labels_major_every=max(1, -(-len(chart.days) // X_LABELS)),
        truncate_label=-1, truncate_legend=60, legend_at_bottom=True,
        legend_at_bottom_columns=1, allow_interruptions=True, include_x_axis=True, margin=8, title=None,
        no_data_text=chart.no_data, disable_xml_declaration=True, explicit_size=False,
    )
    line.x_labels = [day_label(day) for day in chart.days]
    for label, values in list(chart.series.items())[:MAX_SERIES]:
        points = [None if v is None else float(v) for v in values]
        # Dots only where a line alone would not show (few days with data); thousands of dots are slow to draw.
        sparse = sum(v is not None for v in points) <= SPARSE_POINTS
        line.add(label, points, show_dots=sparse)
    return _accessible(line.render_tree(), chart)


def day_label(day: str) -> str:
    """``2026-11-06`` → ``6 Nov``: short, and not read as a number."""
    year, month, date = day.split("-")
    return f"{int(date)} {MONTHS[int(month) - 1]}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _legend_samples(root: ET.Element) -> None:
    """Each legend entry shows its series' line (colour, dash and width, dashboard.css), not a square of
    colour: series of equal values are drawn over each other, and the legend says which line is which."""
    for legends in root.iter("g"):
        if "legends" not in legends.get("class", "").split():
            continue
        for legend in legends.findall("g"):
            box = legend.find("rect")
            if box is None:
                continue
            legend.remove(box)
            x, y, size = float(box.get("x")), float(box.get("y")), float(box.get("width"))
            color = next(c for c in box.get("class", "").split() if c.startswith("color-"))
            sample = ET.Element("path", d=f"M{x:g} {y + size / 2:g} h{size * 1.6:g}",
                                **{"class": f"line legend-sample serie-{color[6:]} {color}"})
            legend.insert(0, sample)
            text = legend.find("text")
            if text is not None:
                text.set("x", f"{float(text.get('x')) + size * 0.8:g}")


def _accessible(root: ET.Element, chart: Chart) -> str:
    """Drop pygal's own styles, its config script and comments; name the chart for assistive technology."""
    for parent in list(root.iter()):
        for child in list(parent):
            # Tooltips need pygal's script; their ids would repeat across the page's charts.
            if (child.tag in ("style", "script") or child.tag is ET.Comment
                    or "tooltip-overlay" in child.get("class", "") or (parent is root and child.tag == "title")):
                parent.remove(child)
            else:
                child.attrib.pop("id", None)
                child.attrib.pop("style", None)
    _legend_samples(root)
    chart_id = f"chart-{chart.key}"
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    title = ET.Element("title", id=f"{chart_id}-title")
    title.text = chart.title
    desc = ET.Element("desc", id=f"{chart_id}-desc")
    desc.text = chart.description
    root.insert(0, desc)
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")


def daily_charts(daily: list[dict], days: list[str], *, currency: str | None) -> list[Chart]:
    """Cost (in ``currency``), replies, time to first token p50 and error rate, per day and model."""
    specs = [
        ("cost", f"Cost per day ({currency})" if currency else "Cost per day", currency or "",
         lambda r: Decimal(r["cost"][currency]) if currency and currency in r["cost"] else None),
        ("replies", "Replies per day", "replies", lambda r: r["replies"]),
        ("ttft", "Time to first token per day (p50, ms)", "ms", lambda r: r["ttft_ms_p50"]),
        ("errors", "Error rate per day (%)", "%",
         lambda r: None if r["error_rate"] is None else round(r["error_rate"] * 100, 1)),
    ]
    charts = []
    for key, title, unit, value in specs:
        series = _series(daily, days, value)
        description = (f"{title}, one line per provider and model, from {days[0]} to {days[-1]}; "
                       "the same numbers are in the table below." if days else title)
        no_data = "No priced replies in this period" if key == "cost" else "No replies in this period"
        charts.append(Chart(key=key, title=title, description=description, unit=unit, days=days, series=series,
                            no_data=no_data))
    return charts


def chart_html(chart: Chart) -> SafeString:
    """The chart's figure: its SVG and its table of numbers, drawn once for the same numbers."""
    # Safe: the output of our own template, escaped there.
    return mark_safe(remembered(("chart", chart.digest),
                                lambda: str(render_to_string(TEMPLATE, {"chart": chart}))))
