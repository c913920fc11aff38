"""The charts are server-drawn SVG: no script, no inline style, named for screen readers, numbers beside."""

import re

import pytest

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
