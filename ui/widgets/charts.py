"""Charts of a comparison report, reusable by any view that has a
:class:`~playground.evaluation.report.ComparisonReport`: a metric per variant with its
confidence interval, and quality against variety over a swept sampling setting."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QBoxPlotSeries,
    QBoxSet,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from playground.evaluation.report import ComparisonReport
from playground.evaluation.scales import column_label, metric_label, shown
from playground.evaluation.stats import Estimate

QUALITY_COLOUR = QColor("#4c78a8")
VARIETY_COLOUR = QColor("#e45756")


def _view(chart: QChart) -> QChartView:
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(200)
    return view


def empty_chart(message: str = "Run a comparison to see its chart") -> QChartView:
    chart = QChart()
    chart.setTitle(message)
    chart.legend().hide()
    return _view(chart)


def metric_bar_chart(
    report: ComparisonReport,
    metric: str,
    *,
    estimates: Mapping[str, Estimate | None] | None = None,
) -> QChartView:
    """One bar per variant (the metric's mean) with a whisker over its 95% interval, on the
    scale the tables show (BLEU and chrF divided by 100, so every overlap metric is on 0–1).

    ``estimates`` (variant -> estimate) replace the report's, e.g. intervals over the samples
    of a single input. The whiskers are a box plot whose box is flattened onto the mean, drawn
    on the same category axis as the bars, so each whisker stands on its own bar. A variant
    without a score (all its runs failed, or N/A) gets an empty bar and no whisker.
    """
    chart = QChart()
    chart.setTitle(f"{metric_label(metric)} by variant: mean with its 95 % interval")
    bars = QBarSet(column_label(metric))
    bars.setColor(QUALITY_COLOUR)
    whiskers = QBoxPlotSeries()
    whiskers.setName("95 % interval")
    whiskers.setBoxWidth(0.15)
    whiskers.setPen(QPen(QColor("#222222"), 2))
    names: list[str] = []
    top = 0.0
    for summary in report.variants:
        names.append(summary.name)
        estimate = (estimates.get(summary.name) if estimates is not None
                    and summary.name in estimates else summary.metrics.get(metric))
        if estimate is None or estimate.n == 0:
            bars.append(0.0)
            whiskers.append(QBoxSet(0.0, 0.0, 0.0, 0.0, 0.0, summary.name))
            continue
        mean, low, high = (shown(metric, v) for v in (estimate.mean, estimate.low, estimate.high))
        bars.append(mean)
        whiskers.append(QBoxSet(low, mean, mean, mean, high, summary.name))
        top = max(top, high, mean)
    series = QBarSeries()
    series.append(bars)
    series.setLabelsVisible(True)
    series.setLabelsFormat("@value")
    series.setLabelsPrecision(3)
    chart.addSeries(series)
    chart.addSeries(whiskers)
    axis_x = QBarCategoryAxis()
    axis_x.append(names)
    axis_y = QValueAxis()
    axis_y.setRange(0.0, top * 1.1 if top > 0 else 1.0)
    axis_y.setTitleText(column_label(metric))
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    for item in (series, whiskers):
        item.attachAxis(axis_x)
        item.attachAxis(axis_y)
    return _view(chart)


def sweep_variety_metric(report: ComparisonReport) -> str:
    """Distinct-2 where the outputs have word pairs to count, else distinct-1."""
    if any(y is not None for _, y in report.sweep_series("distinct_2")):
        return "distinct_2"
    return "distinct_1"


def sweep_chart(report: ComparisonReport, metric: str | None = None) -> QChartView:
    """Quality (``metric``, default the report's primary metric) and variety across samples
    (distinct-n, 0–1) against the swept setting, each on its own axis.

    Variety needs two samples or more per input; with one, only the quality line is drawn.
    """
    chart = QChart()
    quality_metric = metric or report.primary
    if not report.sweep or quality_metric is None:
        chart.setTitle("Not a sweep: the variants differ in more than one setting")
        chart.legend().hide()
        return _view(chart)
    param = report.sweep_param or "setting"
    chart.setTitle(f"{metric_label(quality_metric)} and variety against {param}")
    xs = [x for x, _ in report.sweep]
    axis_x = QValueAxis()
    axis_x.setTitleText(param)
    low, high = min(xs), max(xs)
    pad = (high - low) * 0.05 or 0.5
    axis_x.setRange(low - pad, high + pad)
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)

    quality = QLineSeries()
    quality.setName(column_label(quality_metric))
    quality.setColor(QUALITY_COLOUR)
    quality.setPointsVisible(True)
    points = [(x, shown(quality_metric, y)) for x, y in report.sweep_series(quality_metric)
              if y is not None]
    for x, y in points:
        quality.append(x, y)
    chart.addSeries(quality)
    axis_q = QValueAxis()
    axis_q.setTitleText(column_label(quality_metric))
    top = max((y for _, y in points), default=0.0)
    axis_q.setRange(0.0, top * 1.1 if top > 0 else 1.0)
    chart.addAxis(axis_q, Qt.AlignmentFlag.AlignLeft)
    quality.attachAxis(axis_x)
    quality.attachAxis(axis_q)

    variety_metric = sweep_variety_metric(report)
    variety_points = [(x, y) for x, y in report.sweep_series(variety_metric) if y is not None]
    if variety_points:
        variety = QLineSeries()
        variety.setName(f"{metric_label(variety_metric)} (variety, 0–1)")
        variety.setColor(VARIETY_COLOUR)
        variety.setPointsVisible(True)
        for x, y in variety_points:
            variety.append(x, y)
        chart.addSeries(variety)
        axis_v = QValueAxis()
        axis_v.setTitleText(f"{metric_label(variety_metric)} (0–1)")
        axis_v.setRange(0.0, 1.0)
        chart.addAxis(axis_v, Qt.AlignmentFlag.AlignRight)
        variety.attachAxis(axis_x)
        variety.attachAxis(axis_v)
    return _view(chart)
