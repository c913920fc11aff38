"""The charts are server-drawn SVG: no script, no inline style, named for screen readers, numbers beside."""

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template

from dashboard.charts import daily_charts

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_charts_are_svg_without_script_or_style_and_with_titles(seeded, user):
    page = client_for(user).get("/dashboard/", {"days": 7}).content.decode()
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) == 4
    for svg in svgs:
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg
        assert 'role="img"' in svg and re.search(r'aria-labelledby="chart-\w+-title chart-\w+-desc"', svg)
    assert '<title id="chart-cost-title">Cost per day (USD)</title>' in page
    assert "<script" not in page.split("<main", 1)[1]
    assert page.count('id="activate-serie-0"') == 0  # pygal's ids would repeat across charts


def test_each_chart_has_its_numbers_as_a_table(seeded, user):
    page = client_for(user).get("/dashboard/", {"days": 7, "provider": "gpt"}).content.decode()
    chart = page.split('data-chart="replies"', 1)[1].split("</figure>", 1)[0]
    assert "<th scope=\"col\">gpt · m-a</th>" in chart
    assert chart.count("<tr><th scope=\"row\">") == 7
    cells = re.findall(r'<tr><th scope="row">([\d-]+)</th><td>([^<]*)</td></tr>', chart)
    assert [c for _, c in cells][-2:] == ["2", "1"]


def test_the_table_of_numbers_reads_as_a_template_writes_each_value():
    days = ["2026-01-01", "2026-01-02", "2026-01-03"]
    daily = [
        {"day": "2026-01-01", "provider": "a", "model": "x<y>", "replies": 12345, "errors": 1, "error_rate": 1 / 3,
         "cost": {"USD": "0.00000001"}, "ttft_ms_p50": 1234.5},
        {"day": "2026-01-03", "provider": "a", "model": "x<y>", "replies": 2, "errors": 0, "error_rate": 0.0,
         "cost": {"USD": "12.50000000"}, "ttft_ms_p50": None},
        {"day": "2026-01-02", "provider": "b", "model": "z", "replies": 7, "errors": 7, "error_rate": 1.0,
         "cost": {}, "ttft_ms_p50": 1e-7},
    ]
    by_template = Template('{% for day, values in chart.table %}<tr><th scope="row">{{ day }}</th>{% for v in values %}'
                           '<td>{% if v is None %}–{% else %}{{ v }}{% endif %}</td>{% endfor %}</tr>{% endfor %}')
    charts = daily_charts(daily, days, currency="USD")
    assert Decimal("0.00000001") in charts[0].series["a · x<y>"]  # what str() would write as 1E-8
    for chart in charts:
        assert chart.table_rows == by_template.render(Context({"chart": chart})), chart.key


def equal_series(day_count: int, series: int) -> tuple[list[dict], list[str]]:
    """``series`` models with the same figures every day: their lines lie on one another."""
    start = date(2026, 9, 1)
    days = [(start + timedelta(days=n)).isoformat() for n in range(day_count)]
    daily = [{"day": day, "provider": f"p{n}", "model": "m", "replies": 3, "errors": 0, "error_rate": 0.0,
              "cost": {"USD": "0.5"}, "ttft_ms_p50": 300} for day in days for n in range(series)]
    return daily, days


@pytest.mark.parametrize("day_count", [7, 30, 90])
def test_the_x_axis_shows_readable_dates_at_every_period(day_count):
    daily, days = equal_series(day_count, 2)
    svg = daily_charts(daily, days, currency="USD")[1].svg
    x_axis = svg.split('class="axis x"', 1)[1].split('class="axis y"', 1)[0]
    labels = re.findall(r'<text [^>]*class="major"[^>]*>([^<]*)</text>', x_axis)
    assert 4 <= len(labels) <= 7, labels
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", label) for label in labels), labels
    assert labels[0] == "1 Sep"


def test_each_series_and_its_legend_entry_carry_its_own_line_style():
    daily, days = equal_series(30, 8)
    svg = daily_charts(daily, days, currency="USD")[1].svg
    for n in range(8):
        # dashboard.css gives each serie-N its own dash and width, the legend's sample the same.
        assert re.search(rf'<g class="series serie-{n} color-{n}"><path [^>]*class="line', svg), n
        assert re.search(rf'<path d="[^"]+" class="line legend-sample serie-{n} color-{n}" />', svg), n
    assert "<rect" not in svg.split('class="legends"', 1)[1]
    css = (Path(__file__).resolve().parents[2] / "dashboard/static/dashboard/dashboard.css").read_text()
    styles = {re.search(rf"\.line\.serie-{n} \{{([^}}]*)\}}", css).group(1) for n in range(8)}
    assert len(styles) == 8, styles
