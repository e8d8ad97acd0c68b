"""Colours shared by every chart (dashboard/charts/palette.py)."""

from __future__ import annotations

from dashboard import charts, profile
from tests.chart_inputs import COLORS, catalogue, purchases, recs


def test_category_colours_are_stable_and_distinct():
    colors = charts.category_colors(["travel", "dining", "travel", None, "groceries"])
    assert list(colors) == ["dining", "groceries", "travel", charts.UNKNOWN_CATEGORY]
    assert len(set(colors.values())) == 4
    assert charts.category_colors(["groceries", "travel", "dining"]) == colors


def test_a_category_has_the_same_colour_on_every_chart():
    by_chart = []
    rec_fig = charts.recommendations_bar(recs(), COLORS)
    by_chart.append({t.name: t.marker.color for t in rec_fig.data})
    top = profile.top_products(purchases(), catalogue())
    top_fig = charts.top_products_bar(top, COLORS)
    by_chart.append({t.name: t.marker.color for t in top_fig.data})
    mix = profile.category_mix(purchases(), catalogue())
    mix_fig = charts.category_mix(mix, COLORS)
    by_chart.append(dict(zip(mix_fig.data[0].y, mix_fig.data[0].marker.color, strict=True)))
    for colours in by_chart:
        for category, colour in colours.items():
            assert colour == COLORS[category]
