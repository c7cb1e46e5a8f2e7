"""Vega-Lite specs to SVG (pages, the report) and PNG (the command line) by vl-convert: Vega in
an embedded JavaScript engine, no browser, nothing fetched (the data are inline).

vl-convert escapes every text it draws (titles, labels, tooltips) in the SVG it returns, so an
SVG can be placed inline in a page as it is. Its engine starts on the first conversion of a
process (about 0.5–5 s on a loaded machine); a conversion after that takes ~0.1–0.5 s, which is
why the callers cache SVGs per snapshot token.
"""

from __future__ import annotations

from typing import Any


def svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document (no script, no external reference)."""
    import vl_convert  # here: its engine is loaded only by a command that draws

    text: str = vl_convert.vegalite_to_svg(spec)
    return text


def png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    """The chart as a PNG image, `scale` pixels per unit of the spec's size."""
    import vl_convert

    data: bytes = vl_convert.vegalite_to_png(spec, scale=scale)
    return data
