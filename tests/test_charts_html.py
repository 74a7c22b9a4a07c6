"""scoring.charts_html: a bar figure of scoring.charts drawn as HTML shows what the figure holds, where it holds
it, and nothing from the data becomes markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import plotly.graph_objects as go
import pytest

from scoring.charts import plain_text, wrap_label
from scoring.charts_html import bar_figure_html

OUR_TAGS = {"figure", "figcaption", "div", "span", "br"}
OUR_ATTRIBUTES = {"style", "title", "role", "aria-label"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(markup: str) -> _Tags:
    tags = _Tags()
    tags.feed(markup)
    return tags


def only_our_markup(markup: str) -> _Tags:
    """The tags and attributes the renderer writes itself: any other would have come from the data."""
    tags = parsed(markup)
    assert {tag for tag, _ in tags.tags} <= OUR_TAGS
    assert {name for _, attrs in tags.tags for name in attrs} <= OUR_ATTRIBUTES
    assert not any("url(" in (attrs.get("style") or "") for _, attrs in tags.tags)
    return tags


def boxes(markup: str, colour: str) -> list[dict]:
    """The bars of one colour: their place and size across the plot (%), and their tooltip."""
    found = []
    for tag, attrs in parsed(markup).tags:
        style = attrs.get("style") or ""
        if tag == "div" and f"background:{colour}" in style and "position:absolute" in style:
            numbers = dict(re.findall(r"(left|width|top|height):(-?[\d.]+)%", style))
            found.append({k: float(v) for k, v in numbers.items()} | {"title": attrs.get("title")})
    return found


def stacked() -> go.Figure:
    figure = go.Figure()
    for name, colour, counts in (("Hoàn thành", "#009E73", [2, 0]), ("Đang thực hiện", "#0072B2", [1, 3])):
        figure.add_bar(name=name, y=["I. Chỉ đạo", "II. Thể chế"], x=counts, orientation="h", marker_color=colour,
                       text=[str(c) if c else "" for c in counts], textposition="inside", textfont={"color": "white"},
                       hovertemplate="%{y}<br>" + name + ": %{x} hoạt động<extra></extra>")
    figure.update_layout(title="Tiến độ (3/6 hoàn thành)", barmode="stack", bargap=0.3)
    figure.update_xaxes(title_text="Số hoạt động", dtick=1)
    figure.update_yaxes(autorange="reversed")
    return figure


def test_stacked_bars_sit_end_to_end_in_proportion_with_their_counts_and_tooltips():
    markup = bar_figure_html(stacked())
    tags = only_our_markup(markup)
    done, ongoing = boxes(markup, "#009E73"), boxes(markup, "#0072B2")
    high = 3 * 1.05  # the longest row (2 + 1, 0 + 3) with plotly's room past it
    assert [(b["left"], round(b["width"], 2)) for b in done] == [(0, round(2 / high * 100, 2))]  # none for a 0
    assert round(ongoing[0]["left"], 2) == round(2 / high * 100, 2)  # after the green part of its row
    assert round(ongoing[1]["width"], 2) == round(3 / high * 100, 2)
    assert ongoing[1]["title"] == "II. Thể chế — Đang thực hiện: 3 hoạt động"
    text = " ".join(tags.text)
    for shown in ("Tiến độ (3/6 hoàn thành)", "Hoàn thành", "Đang thực hiện", "I. Chỉ đạo", "II. Thể chế", "Số hoạt động"):
        assert shown in text
    assert [t for t in tags.text if t.strip() in {"0", "1", "2", "3", "4"}]  # the axis ticks, one a unit (dtick)
    first_row = markup.index("I. Chỉ đạo")
    assert first_row < markup.index("II. Thể chế")  # autorange reversed: the first category on top, as plotly draws it


def test_overlaid_bars_keep_their_band_and_their_text_outside():
    figure = go.Figure()
    figure.add_bar(name="Điểm tối đa", y=["1. A"], x=[6], orientation="h", marker_color="#d5dde8", width=0.8, offset=-0.4,
                   text=["4/6 (66,7%)<br>đang thẩm định 2/3"], textposition="outside")
    figure.add_bar(name="Điểm tự đánh giá", y=["1. A"], x=[4], orientation="h", marker_color="#0b5cad", width=0.3, offset=-0.3)
    figure.add_bar(name="Điểm thẩm định", y=["1. A"], x=[None], orientation="h", marker_color="#E69F00", width=0.3, offset=0)
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(range=[0, 12])
    figure.update_yaxes(autorange="reversed")
    markup = bar_figure_html(figure)
    (maximum,), (own,) = boxes(markup, "#d5dde8"), boxes(markup, "#0b5cad")
    assert (maximum["width"], maximum["top"], maximum["height"]) == (50, 10, 80)
    assert (round(own["width"], 3), own["top"], own["height"]) == (33.333, 20, 30)
    assert boxes(markup, "#E69F00") == []  # no bar where the figure has none (an appraisal not complete)
    assert "4/6 (66,7%)<br>đang thẩm định 2/3" in markup  # its two lines, as plotly writes them
    assert "aria-label='1. A: Điểm tối đa: 4/6 (66,7%) đang thẩm định 2/3; Điểm tự đánh giá: 4'" in markup


def test_text_from_the_data_is_shown_as_written_never_as_markup():
    hostile = '<a href="http://x">Thủ tục</a> & <img src=x onerror=alert(1)> \'quoted\''
    figure = go.Figure()
    figure.add_bar(name=plain_text(hostile), y=[wrap_label(hostile)], x=[2], orientation="h", marker_color="#0b5cad",
                   text=[plain_text(hostile)], textposition="outside",
                   hovertemplate="%{y}: %{x:.1f}%<extra></extra>")
    figure.update_layout(title=plain_text(hostile))
    markup = bar_figure_html(figure)
    tags = only_our_markup(markup)
    assert "<a" not in markup and "<img" not in markup
    assert tags.text.count(hostile) >= 3  # the title, the legend and the bar's text, each as written
    (bar,) = boxes(markup, "#0b5cad")
    assert bar["title"] == " ".join(hostile.split()) + ": 2%"  # the tooltip reads the text, in Vietnamese numbers


def test_only_horizontal_bars_are_drawn():
    with pytest.raises(ValueError):
        bar_figure_html(go.Figure(go.Heatmap(z=[[1]])))
    with pytest.raises(ValueError):
        bar_figure_html(go.Figure(go.Bar(x=["a"], y=[1])))
