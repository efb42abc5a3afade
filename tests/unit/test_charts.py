"""The editor's per-label charts: well-formed SVG a screen reader can summarise, with the
thresholds drawn where they are."""

import xml.etree.ElementTree as ET

import pytest

from moderation.charts import label_histogram_svg
from moderation.services.replay import EDGES, LabelHistogram

SVG = "{http://www.w3.org/2000/svg}"


def histogram(label: str = "toxicity") -> LabelHistogram:
    approved, rejected, undecided = [0] * 50, [0] * 50, [0] * 50
    approved[1], undecided[1] = 900, 4000  # the harmless crowd near zero
    rejected[47], approved[47] = 3, 1  # a sparse, risky tail
    return LabelHistogram(label=label, edges=EDGES.tolist(), approved=approved,
                          rejected=rejected, undecided=undecided)


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def lines(root: ET.Element, *classes: str) -> list[ET.Element]:
    return [line for line in root.iter(f"{SVG}line")
            if set(classes) <= set(line.get("class", "").split())]


def test_the_chart_is_accessible_svg_with_both_policies_thresholds():
    root = parse(label_histogram_svg(histogram(), now=(0.3, 0.9), proposed=(0.2, 0.8)))

    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert "toxicity" in root.get("aria-label") and "reject at 0.80" in root.get("aria-label")
    assert root.find(f"{SVG}title").text == "toxicity score distribution"
    assert "square root" in root.find(f"{SVG}desc").text
    axis = lines(root, "axis")[0]
    left, right = float(axis.get("x1")), float(axis.get("x2"))

    reject = lines(root, "line-reject", "line-proposed")
    assert len(reject) == 1
    assert float(reject[0].get("x1")) == pytest.approx(left + 0.8 * (right - left), abs=0.01)
    assert reject[0].get("stroke") and reject[0].get("stroke-dasharray") is None
    dashed = lines(root, "line-now")
    assert len(dashed) == 2 and all(line.get("stroke-dasharray") for line in dashed)
    assert float(lines(root, "line-approve", "line-now")[0].get("x1")) == pytest.approx(
        left + 0.3 * (right - left), abs=0.01)
    assert [text.text for text in root.iter(f"{SVG}text")] == ["0", "0.25", "0.5", "0.75", "1"]


def test_the_sparse_risky_tail_stays_visible():
    root = parse(label_histogram_svg(histogram(), now=None, proposed=None))
    bars = {rect.get("class"): rect for rect in root.iter(f"{SVG}rect")
            if float(rect.get("x")) > 300 * 0.9}
    # 4 comments beside a bin of 4900: sqrt makes the tail 2/70 of the height, not 4/4900.
    assert float(bars["chart-rejected"].get("height")) > 2
    assert bars["chart-rejected"].get("fill")  # a colour even without the stylesheet
    assert not lines(root, "line-now") and not lines(root, "line-proposed")


def test_a_label_that_is_off_is_greyed_out_and_says_so():
    root = parse(label_histogram_svg(histogram("threat"), now=(0.1, 0.6), proposed=None,
                                     enabled=False))
    assert "chart-off" in root.get("class")
    assert [text.text for text in root.iter(f"{SVG}text")][-1] == "off"
    plot = next(group for group in root.iter(f"{SVG}g") if group.get("class") == "chart-plot")
    assert float(plot.get("opacity")) < 1


def test_the_label_is_escaped():
    markup = label_histogram_svg(histogram('<b>"odd"&label'), now=None, proposed=None)
    root = parse(markup)
    assert root.find(f"{SVG}title").text == '<b>"odd"&label score distribution'
    assert root.get("aria-label").startswith('<b>"odd"&label:')


def test_an_empty_histogram_still_renders():
    empty = LabelHistogram("insult", EDGES.tolist(), [0] * 50, [0] * 50, [0] * 50)
    root = parse(label_histogram_svg(empty, now=(0.3, 0.9), proposed=(0.3, 0.9)))
    assert not list(root.iter(f"{SVG}rect"))
    assert "no scored comments" in [text.text for text in root.iter(f"{SVG}text")]
