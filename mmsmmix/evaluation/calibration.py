"""Calibration of a classifier's confidences: ECE, MCE, NLL and a diagram.

Plain torch/numpy/matplotlib, no registry. The binning follows the common
implementation of Guo et al., *On Calibration of Modern Neural Networks*
(ICML 2017): ``n_bins`` equal-width bins over the confidence, each bin
half-open on the left, ``(lo, hi]``, so a confidence exactly on an edge
belongs to the lower bin (0.6 with 5 bins is in (0.4, 0.6]).
"""
from typing import Sequence, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]


def check_n_bins(n_bins: int) -> int:
    """Return ``n_bins`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) \
            or n_bins < 1:
        raise ValueError(f'n_bins must be an integer >= 1, got {n_bins!r}')
    return int(n_bins)


def calibration_errors(probs: ArrayLike, labels: ArrayLike,
                       n_bins: int = 15) -> dict:
    """Expected/maximum calibration error and negative log-likelihood.

    With confidence ``c_i = max_k probs[i, k]`` and correctness
    ``a_i = (argmax_k probs[i, k] == labels[i])``, sample i falls in bin
    ``b`` when ``b/n_bins < c_i <= (b+1)/n_bins`` (bins ``(lo, hi]``; a
    confidence of 0 goes to the first bin). Then

    - ``ece = sum_b |B_b| / N * |acc_b - conf_b|``,
    - ``mce = max_b |acc_b - conf_b|`` over non-empty bins,
    - ``nll = mean_i -log probs[i, labels[i]]``, the probability clamped
      below at the smallest normal number of its dtype (a zero probability
      costs about 87.3 nats in float32 instead of ``inf``).

    Bin edges are computed in the dtype of ``probs`` (float32 or wider), so
    a float32 confidence of 0.6 lies exactly on the edge 3/5; sums are
    accumulated in float64.

    Args:
        probs (Tensor | ndarray): (N, K) class probabilities (rows summing
            to 1, e.g. mmpretrain's ``pred_score``).
        labels (Tensor | ndarray): (N,) integer ground-truth classes.
        n_bins (int): Number of equal-width confidence bins. Defaults to 15.

    Returns:
        dict: ``ece``, ``mce`` (fractions in [0, 1]), ``nll`` (nats),
        ``n_samples`` (N) as Python numbers, and per bin, as lists of length
        ``n_bins``: ``bin_edges`` (``n_bins + 1`` values), ``bin_counts``,
        ``bin_confidence`` (mean confidence) and ``bin_accuracy``; the two
        means are 0 for empty bins (see ``bin_counts``).
    """
    n_bins = check_n_bins(n_bins)
    probs = torch.as_tensor(probs)
    labels = torch.as_tensor(labels)
    if probs.dim() != 2 or labels.dim() != 1 \
            or probs.shape[0] != labels.shape[0]:
        raise ValueError('probs must be (N, K) and labels (N,), got '
                         f'{tuple(probs.shape)} and {tuple(labels.shape)}')
    if probs.shape[0] == 0:
        raise ValueError('calibration_errors needs at least one sample')
    if not probs.is_floating_point() or probs.dtype in (torch.float16,
                                                        torch.bfloat16):
        probs = probs.float()
    labels = labels.long()
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f'labels must lie in [0, {probs.shape[1]}), got '
                         f'[{int(labels.min())}, {int(labels.max())}]')

    confidence, pred = probs.max(dim=1)
    correct = (pred == labels).double()
    edges = torch.arange(n_bins + 1, dtype=probs.dtype) / n_bins
    # bucketize(right=False) gives i with edges[i-1] < c <= edges[i]
    bin_index = torch.bucketize(confidence, edges[1:-1], right=False)

    counts = torch.bincount(bin_index, minlength=n_bins).double()
    conf_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(
        0, bin_index, confidence.double())
    acc_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(
        0, bin_index, correct)
    nonempty = counts > 0
    safe_counts = counts.clamp_min(1)
    bin_conf = conf_sum / safe_counts
    bin_acc = acc_sum / safe_counts
    gap = (bin_acc - bin_conf).abs()

    n = probs.shape[0]
    p_label = probs.gather(1, labels[:, None])[:, 0]
    p_label = p_label.clamp_min(torch.finfo(probs.dtype).tiny)
    return dict(
        ece=float((counts / n * gap).sum()),
        mce=float(gap[nonempty].max()),
        nll=float(-p_label.double().log().mean()),
        n_samples=n,
        bin_edges=(torch.arange(n_bins + 1, dtype=torch.float64) /
                   n_bins).tolist(),
        bin_counts=[int(c) for c in counts.tolist()],
        bin_confidence=bin_conf.tolist(),
        bin_accuracy=bin_acc.tolist(),
    )


def draw_reliability_diagram(bins: dict,
                             path: str,
                             title: str = 'Reliability diagram',
                             figsize: Sequence[float] = (5., 6.),
                             dpi: int = 100) -> str:
    """Write a reliability diagram as a PNG.

    Top: per-bin accuracy as bars against the diagonal (perfect
    calibration), with the gap between each bin's accuracy and its mean
    confidence shaded; the title ends with the ECE in percent. Bottom: the
    share of samples in each bin. Uses matplotlib's Agg canvas directly (no
    pyplot, no global backend change). The image is
    ``figsize[0] * dpi`` x ``figsize[1] * dpi`` pixels.

    Args:
        bins (dict): Output of :func:`calibration_errors`.
        path (str): PNG file to write.
        title (str): Title prefix. Defaults to ``'Reliability diagram'``.
        figsize (Sequence[float]): (width, height) in inches.
            Defaults to (5, 6).
        dpi (int): Dots per inch. Defaults to 100.

    Returns:
        str: ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from mmsmmix.visualization import save_png

    edges = np.asarray(bins['bin_edges'])
    counts = np.asarray(bins['bin_counts'], dtype=float)
    acc = np.asarray(bins['bin_accuracy'])
    conf = np.asarray(bins['bin_confidence'])
    left, width = edges[:-1], np.diff(edges)
    full = counts > 0

    fig = Figure(figsize=tuple(figsize), dpi=dpi)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw=dict(height_ratios=(3, 1)))
    top.bar(left[full], acc[full], width[full], align='edge',
            color='tab:blue', edgecolor='black', linewidth=0.5,
            label='Accuracy')
    top.bar(left[full], conf[full] - acc[full], width[full],
            bottom=acc[full], align='edge', fill=False, hatch='///',
            edgecolor='tab:red', linewidth=1, label='Gap to mean confidence')
    top.plot([0, 1], [0, 1], '--', color='gray', label='Perfect calibration')
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel='Accuracy',
            title=f"{title}\nECE {100 * bins['ece']:.2f}%   "
            f"MCE {100 * bins['mce']:.2f}%   NLL {bins['nll']:.3f}")
    top.legend(loc='upper left', fontsize='small')
    top.grid(alpha=0.3)

    bottom.bar(left, counts / counts.sum(), width, align='edge',
               color='gray', edgecolor='black', linewidth=0.5)
    bottom.set(xlabel='Confidence', ylabel='Share of samples', ylim=(0, 1))
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)
