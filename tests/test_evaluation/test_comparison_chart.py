"""Tests of the mixing-comparison dot plot (issue 17): hand-made rows."""
import statistics

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from mmsmmix.benchmarks.comparison.chart import figure, plot


def make_row(method, label, top1, ece, corruption=None):
    """A row as the report builds it, from each run's values."""
    def std(values):
        return statistics.stdev(values) if len(values) > 1 else 0.

    return dict(
        method=method,
        label=label,
        runs=len(top1),
        top1=statistics.fmean(top1) if top1 else float('nan'),
        top1_std=std(top1),
        top1_runs=list(top1),
        ece=statistics.fmean(ece) if ece else float('nan'),
        ece_runs=list(ece),
        corruption_top1=statistics.fmean(corruption) if corruption else None,
        corruption_top1_runs=list(corruption or []),
        step_ratio=None,
        mixing_share=None)


def three_runs(corruption=True):
    """Three methods with 3 runs (SMMix in the middle of the table, but
    best on top-1), one with 1 run and one not run yet."""
    def c(*values):
        return list(values) if corruption else None

    return [
        make_row('nomix', 'no mixing', [81.8, 81.6, 81.7], [5.5, 5.8, 5.6],
                 c(54.1, 55.2, 54.7)),
        make_row('smmix', 'SMMix', [84.1, 84.5, 84.3], [15.2, 15.8, 15.5],
                 c(66.0, 67.5, 67.6)),
        make_row('mixup', 'Mixup', [83.0, 83.6, 83.3], [10.0, 10.2, 9.9],
                 c(68.1, 69.0, 69.8)),
        make_row('cutmix', 'CutMix', [82.4], [14.2], c(58.0)),
        make_row('fmix', 'FMix', [], [], c()),
    ]


def panels(fig):
    return {ax.get_gid(): ax for ax in fig.axes}


def texts(ax):
    return [t.get_text() for t in ax.texts]


def mean_y(ax):
    """method -> y of its mean marker."""
    return {
        line.get_gid().split(':', 1)[1]: line.get_ydata()[0]
        for line in ax.lines
        if (line.get_gid() or '').startswith('mean:')
    }


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig


def test_plot_writes_png(tmp_path):
    path = str(tmp_path / 'chart.png')
    assert plot(three_runs(), path, 'suite, setting, 2026-11-26') == path
    with Image.open(path) as image:
        width, height = image.size
        assert image.format == 'PNG'
    assert 800 <= width <= 2000
    assert 300 <= height <= 1200
    # the figure grows with the number of methods, not a fixed canvas
    rows = three_runs()
    many = rows + [
        make_row(f'm{i}', f'method {i}', [80. + i / 10], [5.], [50.])
        for i in range(8)
    ]
    plot(many, str(tmp_path / 'many.png'), 'title')
    with Image.open(tmp_path / 'many.png') as image:
        assert image.size[1] > height + 200


def test_single_runs_have_no_spread():
    rows = [
        make_row('smmix', 'SMMix', [84.1], [15.2], [66.]),
        make_row('mixup', 'Mixup', [83.0], [10.0], [68.]),
    ]
    fig = drawn(figure(rows, 'one seed', ('smmix', )))
    for ax in fig.axes:
        assert len(ax.texts) == 2
        assert not any('±' in t for t in texts(ax))
        assert not any((line.get_gid() or '').startswith('std:')
                       for line in ax.lines)
    assert '84.10' in texts(panels(fig)['top1'])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert not any('±' in t for t in legend)


def test_spread_only_for_several_runs():
    fig = figure(three_runs(), 'title', ('smmix', ))
    ax = panels(fig)['top1']
    with_std = [t for t in texts(ax) if '±' in t]
    assert len(with_std) == 3 and len(ax.texts) == 4
    assert f'{84.3:.2f} ± {0.2:.2f}' in with_std
    stds = {line.get_gid() for line in ax.lines
            if (line.get_gid() or '').startswith('std:')}
    assert stds == {'std:nomix', 'std:smmix', 'std:mixup'}
    # every run is drawn, one hollow dot each
    runs = {line.get_gid(): line for line in ax.lines
            if (line.get_gid() or '').startswith('runs:')}
    assert list(runs['runs:smmix'].get_xdata()) == [84.1, 84.5, 84.3]
    assert runs['runs:smmix'].get_markerfacecolor() == 'white'
    assert len(runs['runs:cutmix'].get_xdata()) == 1


@pytest.mark.parametrize('corruption', [True, False])
def test_axes_are_honest(corruption):
    fig = drawn(figure(three_runs(corruption), 'title'))
    axes = panels(fig)
    truncated = ['top1'] + (['corruption_top1'] if corruption else [])
    for key in truncated:
        ax = axes[key]
        low, high = ax.get_xlim()
        assert low == 0 or (f'from {low:g} to {high:g}, not from 0'
                            in ax.get_xlabel())
    assert axes['top1'].get_xlim()[0] > 0  # 81.6 .. 84.5: truncated here
    assert axes['ece'].get_xlim()[0] == 0
    assert 'axis from 0' in axes['ece'].get_xlabel()
    for ax in fig.axes:  # no value drawn off its axis
        low, high = ax.get_xlim()
        for line in ax.lines:
            if line.get_gid():
                assert all(low <= x <= high for x in line.get_xdata())


def test_methods_sorted_by_top1_in_every_panel():
    rows = three_runs()
    fig = drawn(figure(rows, 'title'))
    order = ['smmix', 'mixup', 'cutmix', 'nomix']  # fmix: no run, left out
    for ax in fig.axes:
        ys = mean_y(ax)
        assert sorted(ys, key=ys.get, reverse=True) == order
        assert ys == mean_y(fig.axes[0])
    ticks = sorted(((t.get_position()[1], t.get_text())
                    for t in fig.axes[0].get_yticklabels()), reverse=True)
    labels = [text for _, text in ticks]
    assert [label.split(' (')[0] for label in labels] == [
        'SMMix', 'Mixup', 'CutMix', 'no mixing'
    ]
    # the run counts differ: each label says its count
    assert labels[0] == 'SMMix (3 runs)' and labels[2] == 'CutMix (1 run)'


def test_legend_names_highlight_and_seeds():
    fig = figure(three_runs(), 'title', ('smmix', 'smmix_dm'))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert 'highlighted: SMMix' in legend
    assert 'one run (seed)' in legend
    assert any('mean ± std over' in t and '3 seeds' in t for t in legend)
    rows = [r for r in three_runs() if r['runs'] == 3]
    legend = [t.get_text() for t in
              figure(rows, 't', ('smmix', )).legends[0].get_texts()]
    assert 'mean ± std over 3 seeds' in legend
    legend = [t.get_text() for t in
              figure(rows, 't', ('mixup', 'nomix')).legends[0].get_texts()]
    assert 'highlighted: no mixing, Mixup' in legend  # table order


def test_no_corruption_panel_without_results(tmp_path):
    fig = figure(three_runs(corruption=False), 'title')
    assert sorted(panels(fig)) == ['ece', 'top1']
    assert len(fig.axes) == 2
    assert sorted(panels(figure(three_runs(), 'title'))) == [
        'corruption_top1', 'ece', 'top1'
    ]
    plot(three_runs(corruption=False), str(tmp_path / 'c.png'), 'title')
    with Image.open(tmp_path / 'c.png') as image:
        assert image.size[0] < 1100  # narrower than with three panels


def test_long_title_wrapped():
    title = 'Fashion-MNIST, first 5000 training images, ' * 6
    fig = figure(three_runs(corruption=False), title)
    assert '\n' in fig.get_suptitle()
    assert figure(three_runs(), 'short').get_suptitle() == 'short'
    # the caller's own line breaks stay (setting, then date and machine)
    text = figure(three_runs(), 'what was trained\n2026-11-26, a CPU')
    assert text.get_suptitle() == 'what was trained\n2026-11-26, a CPU'
