"""Math in replies: ``$…$`` and ``$$…$$`` rendered on the server to MathML, and nothing more than MathML."""

import re

import pytest

from chat.mathml import MATHML_TAGS, latex_to_mathml
from chat.rendering import ALLOWED_TAGS, markdown_to_plain, render_markdown


def tags_of(html: str) -> set[str]:
    return set(re.findall(r"<([a-z][a-z0-9-]*)", html))


def test_inline_math_is_mathml_inside_its_paragraph():
    html = render_markdown(r"Euler: $e^{i\pi} + 1 = 0$, famously.")
    assert html.startswith("<p>Euler: <span class=\"math inline\"><math display=\"inline\">")
    assert "<msup><mi>e</mi>" in html and "<mi>π</mi>" in html and html.endswith(", famously.</p>\n")


def test_displayed_math_is_a_block_of_mathml():
    html = render_markdown("Where\n\n$$\n\\frac{a}{b} = \\sqrt{x^2}\n$$\n\nand more")
    assert '<math display="block"><mrow><mfrac>' in html and "<msqrt>" in html
    assert render_markdown(r"inline $$\sum_i x_i$$ too").count('<math display="block">') == 1


@pytest.mark.parametrize("text", ["It costs $5 or $10.", "from $ 5 to $ 10", "a lone $ sign"])
def test_amounts_of_money_stay_text(text):
    html = render_markdown(text)
    assert "<math" not in html and "$" in html


def test_latex_that_does_not_convert_is_shown_as_its_text():
    assert latex_to_mathml(r"\frac{", display=False) == r"$\frac{$"
    assert latex_to_mathml("<b>" * 3000, display=True).startswith("$$&lt;b&gt;")


def test_previews_and_search_keep_the_latex_as_words():
    assert markdown_to_plain(r"The answer is $x^2$ here") == r"The answer is x^2 here"
    assert markdown_to_plain("$$\n\\frac{a}{b}\n$$") == r"\frac{a}{b}"


@pytest.mark.parametrize("latex", [
    r"\text{<img src=x onerror=alert(1)>}",
    r"\text{<script>alert(1)</script>}",
    r"\text{<a href='javascript:alert(1)'>x</a>}",
    r"\href{javascript:alert(1)}{click}",
    r"\text{<style><img src=x onerror=alert(1)></style>}",
    r"\text{<svg><animate onbegin=alert(1) attributeName=x dur=1s>}",
    r"\text{<mglyph><style></math><img src=x onerror=alert(1)>}",
    r"x \mathrm{<iframe srcdoc='<script>alert(1)</script>'>}",
    r"\color{red}{x} \style{background:url(javascript:alert(1))}{y}",
])
@pytest.mark.parametrize("fence", ["$", "$$"])
def test_nothing_but_mathml_comes_out_of_math(latex, fence):
    for html in (render_markdown(f"{fence}{latex}{fence}"), latex_to_mathml(latex, display=fence == "$$")):
        assert tags_of(html) <= ALLOWED_TAGS
        assert not tags_of(html) & {"script", "img", "a", "iframe", "style", "svg", "mglyph"}
        assert not re.search(r"<[^>]*javascript:", html, flags=re.I), html
        assert not re.search(r"<[^>]+\s(on\w+|href|style|src|xlink:href|mathcolor|mathbackground)=", html), html


def test_math_inside_code_stays_code():
    html = render_markdown("`$x^2$` and\n\n```\n$$y$$\n```")
    assert "<math" not in html and "<code>$x^2$</code>" in html


def test_the_mathml_tags_are_all_allowed_by_the_sanitiser():
    assert MATHML_TAGS <= ALLOWED_TAGS
