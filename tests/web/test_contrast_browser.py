"""Contrast measured in Debian's Chromium (issue 19: keyboard and screen-reader friendly, with
contrast): on each main page, at 1400 and 360 px, every visible piece of text (HTML text, form
controls' values, the charts' SVG text) against its effective background must reach the WCAG
2.x contrast ratio: 4.5:1 for normal text, 3:1 for large text (24 px and more, or 18.66 px and
more in bold). The colours are the computed ones: the text's colour (an SVG text's fill) with
its alpha and the opacity of every ancestor, over the background colours of the element and its
ancestors composited from the page's white canvas up.

An SVG text's background is every filled shape painted before it under its centre (the bar a
label sits on), over the page behind the SVG. What it does not judge: text over a background
image or gradient (the test fails if it meets one: none on these pages).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.test_browser import Server, ada_id, browser, log_in, server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "server"]  # the fixtures, shared with tests/web/test_browser.py

PAGES = ("/", "/people", "PERSON", "/influencers?issue=Meetups", "/campaigns", "/charts",
         "/issues")  # fmt: skip

# The measure, in the page: one entry per visible text with its colours, size and ratio (with
# `focus`, the focused element's outline instead: its colour against what lies behind it).
MEASURE = """(focus) => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]*)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {  // `top` (with alpha) composited over the opaque `under`
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (el) => {  // the colours behind `el`, from the white canvas up
    const chain = [];
    let imaged = false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage && s.backgroundImage !== 'none') imaged = true;
      chain.push(parse(s.backgroundColor));
    }
    let bg = [255, 255, 255, 1];
    for (const c of chain.reverse()) if (c && c[3] > 0) bg = over(c, bg);
    return {bg: el.ownerSVGElement ? underSvgText(el, bg) : bg, imaged};
  };
  const shapes = new Map();  // svg -> its filled shapes, in painting order
  const filled = (svg) => {
    if (!shapes.has(svg)) {
      const found = [];
      for (const shape of svg.querySelectorAll('rect, path, circle, ellipse, polygon')) {
        const s = getComputedStyle(shape);
        const fill = parse(s.fill);
        if (!fill || s.visibility !== 'visible' || s.display === 'none') continue;
        found.push({shape, fill: [fill[0], fill[1], fill[2],
                                  fill[3] * Number(s.fillOpacity) * opacity(shape)]});
      }
      shapes.set(svg, found);
    }
    return shapes.get(svg);
  };
  const underSvgText = (el, base) => {  // the shapes painted under the text's centre
    const r = el.getBoundingClientRect();
    const centre = new DOMPoint(r.left + r.width / 2, r.top + r.height / 2);
    let bg = base;
    for (const {shape, fill} of filled(el.ownerSVGElement)) {
      if (!(el.compareDocumentPosition(shape) & Node.DOCUMENT_POSITION_PRECEDING)) continue;
      const m = shape.getScreenCTM();
      if (m && shape.isPointInFill(centre.matrixTransform(m.inverse()))) bg = over(fill, bg);
    }
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      o *= Number(getComputedStyle(e).opacity);
    }
    return o;
  };
  const visible = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility !== 'visible' || s.display === 'none') return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const doc = document.documentElement;
    return r.right > 0 && r.bottom > 0 && r.left < doc.scrollWidth && r.top < doc.scrollHeight;
  };
  if (focus) {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const ring = parse(s.outlineColor);
    const r = el.getBoundingClientRect();  // what is painted where the ring is: left of it
    const gap = parseFloat(s.outlineOffset || '0') + parseFloat(s.outlineWidth || '0') / 2;
    const x = r.left - gap >= 0 ? r.left - gap : r.right + gap;
    const under = document.elementsFromPoint(x, r.top + r.height / 2)
      .find(e => e !== el && !el.contains(e)) || el.parentElement;
    const behind = background(under).bg;
    return {
      html: el.outerHTML.slice(0, 120), style: s.outlineStyle, width: parseFloat(s.outlineWidth),
      ring: ring && over(ring, behind).slice(0, 3), bg: behind.slice(0, 3),
      ratio: ring ? Math.round(ratio(over(ring, behind), behind) * 100) / 100 : 0,
    };
  }
  const texts = [];
  for (const el of document.body.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'style', 'option', 'title', 'noscript'].includes(tag)) continue;
    if (el.closest('[aria-hidden="true"]') || el.matches(':disabled')) continue;
    let shown = '';
    if (tag === 'input' && !['hidden', 'checkbox', 'radio', 'submit'].includes(el.type)) {
      shown = el.value || '';
    } else if (tag === 'select') {
      shown = el.selectedOptions.length ? el.selectedOptions[0].text : '';
    } else {
      for (const n of el.childNodes) if (n.nodeType === 3) shown += n.textContent;
      if (tag === 'input' && el.type === 'submit') shown = el.value || '';
    }
    shown = shown.trim();
    if (!shown || !visible(el)) continue;
    const s = getComputedStyle(el);
    const svgText = el instanceof SVGElement;
    let fg = parse(svgText ? s.fill : s.color);
    if (!fg) continue;
    const alpha = (svgText ? Number(s.fillOpacity) : 1) * opacity(el);
    if (alpha === 0) continue;  // not drawn (Vega hides the labels that would overlap)
    fg = [fg[0], fg[1], fg[2], fg[3] * alpha];
    const {bg, imaged} = background(el);
    const size = parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    texts.push({
      text: shown.slice(0, 60), tag, html: el.outerHTML.slice(0, 200), cls: String(el.className.baseVal ?? el.className),
      fg: over(fg, bg).slice(0, 3), bg: bg.slice(0, 3), size, bold, large, imaged,
      ratio: Math.round(ratio(over(fg, bg), bg) * 100) / 100,
    });
  }
  return texts;
}"""


@pytest.fixture(params=(1400, 360), ids=lambda w: f"{w}px")
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # the first rescore and the charts, on a shared machine
    yield pg
    context.close()


def failing(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in texts if t["ratio"] < (3.0 if t["large"] else 4.5)]


def test_every_text_on_the_main_pages_has_enough_contrast(page: Page, server: Server) -> None:
    log_in(page, server, "organizer")
    person = f"/people/{ada_id(page, server)}"
    bad: dict[str, list[str]] = {}

    def measure(target: str) -> list[dict[str, Any]]:
        texts: list[dict[str, Any]] = page.evaluate(MEASURE, False)
        assert len(texts) > 10, target  # the measure found the page's text
        assert not [t for t in texts if t["imaged"]], target  # nothing it cannot judge
        if found := failing(texts):
            bad[target] = [f"{t['ratio']}:1 {t['tag']}.{t['cls']} {t['text']!r} "
                           f"fg {t['fg']} bg {t['bg']} {t['size']}px" for t in found]  # fmt: skip
        return texts

    for path in PAGES:
        target = person if path == "PERSON" else path
        page.goto(server.url + target)
        texts = measure(target)
        if target == "/charts":
            assert [t for t in texts if t["tag"] == "text"], "the charts' SVG text is measured"
    # a campaign, planned: its facts, the plan's status and target notes, its asks
    page.goto(f"{server.url}/campaigns")
    if not page.locator("#campaigns").count():
        page.get_by_label("Name", exact=True).fill("Contrast drive")
        page.get_by_label("Target reach (optional)").fill("0.1")
        page.get_by_role("button", name="Create").click()
        page.wait_for_url("**/campaigns?name=*")
    else:
        page.locator("#campaigns a").first.click()
    page.get_by_role("button", name="Plan", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#plan").count() == 1
    measure("a campaign's plan")
    assert bad == {}


def test_the_measure_finds_low_contrast(page: Page, server: Server) -> None:
    """The measure fails what it should: grey on white, light text on a tinted box, a faded
    paragraph, a light SVG label, dark SVG text on a dark bar; and passes large text at 3:1."""
    log_in(page, server, "viewer")
    page.goto(f"{server.url}/people")
    page.evaluate("""() => {  // styles set through the CSSOM: the CSP refuses inline ones
      const main = document.querySelector('main');
      const add = (parent, tag, text, style) => {
        const e = document.createElement(tag);
        e.textContent = text;
        Object.assign(e.style, style);
        parent.append(e);
        return e;
      };
      add(main, 'p', 'grey on white, 2.85:1', {color: '#999'});
      const box = add(main, 'div', '', {background: '#0b5cad'});
      add(box, 'span', 'on blue', {color: '#4a90d9'});
      add(main, 'p', 'faded ink', {opacity: '0.4'});
      add(main, 'p', 'large grey, 3.03:1', {color: '#949494', fontSize: '24px'});
      add(main, 'p', '#767676 on white: 4.54:1', {color: '#767676'});
      const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('width', '200');
      svg.setAttribute('height', '40');
      const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      t.setAttribute('x', '5');
      t.setAttribute('y', '20');
      t.setAttribute('fill', '#aaa');
      t.textContent = 'svg label';
      const bar = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      for (const [k, v] of [['x', '100'], ['y', '0'], ['width', '100'], ['height', '40'],
                            ['fill', '#0b5cad']]) bar.setAttribute(k, v);
      const on = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      for (const [k, v] of [['x', '110'], ['y', '25'], ['fill', '#1b1f24']]) on.setAttribute(k, v);
      on.textContent = 'ink on a bar';
      svg.append(t, bar, on);
      main.append(svg);
    }""")
    texts = {t["text"]: t for t in page.evaluate(MEASURE, False)}
    failed = {t["text"] for t in failing(list(texts.values()))}
    assert {"grey on white, 2.85:1", "on blue", "faded ink", "svg label", "ink on a bar"} <= failed
    assert texts["ink on a bar"]["bg"] == [11, 92, 173]  # the bar under it, not the page
    assert texts["grey on white, 2.85:1"]["ratio"] == pytest.approx(2.85, abs=0.01)
    assert texts["large grey, 3.03:1"]["large"] and "large grey, 3.03:1" not in failed
    assert texts["#767676 on white: 4.54:1"]["ratio"] == pytest.approx(4.54, abs=0.01)
    assert "#767676 on white: 4.54:1" not in failed


def test_the_keyboard_focus_ring_stands_out_everywhere(page: Page, server: Server) -> None:
    """WCAG 1.4.11 (non-text contrast): the ring around the focused control, 3:1 at least
    against what lies behind it, on the dark header as on the page; every control reached by
    Tab shows one."""
    log_in(page, server, "organizer")
    person = f"/people/{ada_id(page, server)}"
    bad: list[str] = []
    dates = 0  # date fields reached: Chromium focuses their day, month or year part
    for target in ("/", person, "/campaigns"):
        page.goto(server.url + target)
        page.locator("body").focus()
        seen = 0
        for _ in range(40):
            page.keyboard.press("Tab")
            ring = page.evaluate(MEASURE, True)
            if ring is None:
                break
            seen += 1
            dates += 'type="date"' in ring["html"]
            if ring["style"] == "none" or ring["width"] < 2 or ring["ratio"] < 3:
                bad.append(f"{target}: {ring['ratio']}:1 {ring['style']} {ring['width']}px "
                           f"ring {ring['ring']} on {ring['bg']}: {ring['html']}")  # fmt: skip
        assert seen >= 10, target
    assert bad == []
    assert dates >= 1  # the new campaign form's deadline at least
