"""Math in replies: ``$…$`` inline and ``$$…$$`` displayed, rendered on the server to MathML.

mdit-py-plugins' dollarmath finds the math in markdown-it's parse; latex2mathml turns its LaTeX into
MathML, which browsers display natively (no script, nothing under the CSP to allow). The MathML is
cleaned here to MathML elements alone (latex2mathml copies ``\\text{…}`` verbatim, tags and all),
and again with the whole reply by ``chat.rendering``, whose allowed tags include ``MATHML_TAGS``.
LaTeX that does not convert is shown as the text it was.

Amounts of money stay text: a ``$`` followed by a space or a digit opens no math, nor does one
preceded by a space close it ("from $5 to $10").
"""

from __future__ import annotations

import html
import logging

import nh3
from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

logger = logging.getLogger(__name__)

MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
    "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle",
    "mpadded", "mphantom", "menclose", "merror", "mfenced", "mmultiscripts", "mprescripts", "none",
}
# Layout only: no href (a link by another name), no style, no colours, no event handlers.
_LAYOUT = {
    "display", "displaystyle", "scriptlevel", "mathvariant", "mathsize", "dir", "stretchy", "fence", "separator",
    "lspace", "rspace", "accent", "accentunder", "form", "largeop", "movablelimits", "symmetric", "minsize",
    "maxsize", "width", "height", "depth", "linethickness", "columnalign", "rowalign", "columnspacing",
    "rowspacing", "columnlines", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns", "notation",
    "open", "close", "separators", "align", "voffset", "bevelled", "numalign", "denomalign", "encoding",
}
MATHML_ATTRIBUTES = {tag: _LAYOUT for tag in MATHML_TAGS}
# A bound on what one formula may cost to convert; longer ones are shown as their text.
MAX_LATEX_CHARS = 5000


def latex_to_mathml(latex: str, *, display: bool) -> str:
    """The MathML of ``latex`` (MathML elements only), or the LaTeX itself, escaped, when it does not convert."""
    if len(latex) <= MAX_LATEX_CHARS:
        try:
            mathml = convert(latex, display="block" if display else "inline")
            return nh3.clean(mathml, tags=MATHML_TAGS, attributes=MATHML_ATTRIBUTES)
        except Exception:  # latex2mathml raises many kinds on bad input: the text is still worth showing
            logger.debug("LaTeX that does not convert to MathML", exc_info=True)
    fence = "$$" if display else "$"
    return html.escape(f"{fence}{latex}{fence}")


def _render(latex: str, options: dict) -> str:
    return latex_to_mathml(latex, display=bool(options.get("display_mode")))


def use_math(md: MarkdownIt) -> MarkdownIt:
    """``md`` with ``$…$`` and ``$$…$$`` rendered as MathML."""
    return md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
                  double_inline=True, renderer=_render)
