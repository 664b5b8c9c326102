"""Pairs of any mixing method, drawn through the classifier's own path.

Each augment of a ``MixImageClassifier`` mixes one batch of 2N training
images (the images :mod:`.smmix_pairs` picks for the same seed, or the
image files given) exactly as a training step does: the data preprocessor
(``training=True``), then ``model.mix(augment, inputs, targets)`` and
``model.forward_mixed(result)``, the two calls of ``loss()``, in training
mode (under ``no_grad``: the values are those of training). What is shown
is read from that draw, never recomputed:

- which pixels came from which image: the result's ``partner`` and
  ``partner_share`` (or its ``forwarded`` mixed images, when the batch
  itself trains clean, as RankMixup's);
- the label weights: the targets ``forward_mixed`` returned, i.e. after
  relabelling (TransMix, MixPro's PAL);
- the attention the method read: the record of the clean pass it asked
  the model for (SMMix), or of the mixed forward its relabelling read
  (TransMix, PAL), with the method's own statistic.

N of the 2N images are drawn, each with its partner: the first ones that
mixed with another image (a random permutation may pair an image with
itself, which shows nothing mixed), then self-paired ones if too few.
"""
import os.path as osp
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import set_random_seed
from mmpretrain.models.losses import CrossEntropyLoss, LabelSmoothLoss

from mmsmmix.models import build_config_model
from mmsmmix.models.augments import MixAugment, MixResult
from mmsmmix.models.augments.mmpretrain_adapter import MMPretrainAugment
from mmsmmix.models.classifiers import MixImageClassifier
from mmsmmix.utils import global_rng_state, set_global_rng_state
from mmsmmix.visualization import MixingRows, mixing_grid_figure, to_display
from .smmix_pairs import collate, load_samples


def class_names(cfg: Config, num_classes: int) -> List[str]:
    """The training set's class names (its dataset class's metainfo, or
    ``class k``)."""
    from mmpretrain.registry import DATASETS
    dataset_cfg = cfg.train_dataloader.dataset
    classes = dataset_cfg.get('metainfo', {}).get('classes')
    if classes is None:
        kind = dataset_cfg.get('type')
        kind = DATASETS.get(kind) if isinstance(kind, str) else kind
        classes = getattr(kind, 'METAINFO', {}).get('classes')
    if classes is None or len(classes) != num_classes:
        return [f'class {k}' for k in range(num_classes)]
    return list(classes)


def load_data(model, cfg: Config, count: int, seed: int,
              images: Optional[Sequence[str]] = None) -> Tuple[dict, list]:
    """``count`` training samples (as :func:`.smmix_pairs.load_samples`
    picks them for ``seed``) through the training pipeline, with the
    global generators seeded by ``seed`` (then given back their states),
    collated as the train dataloader does: what ``model.train_step`` takes.
    Image files (``images``) carry no label: file k gets class k.

    Returns:
        tuple: The batch and the images' names.
    """
    mean = getattr(model.data_preprocessor, 'mean', None)
    in_channels = mean.numel() if mean is not None else 3
    state = global_rng_state()
    set_random_seed(seed)
    try:
        samples, names = load_samples(cfg, count, seed, images, in_channels)
    finally:
        set_global_rng_state(state)
    for k, sample in enumerate(samples):
        if 'gt_label' not in sample['data_samples']:
            sample['data_samples'].set_gt_label(k)
    return collate(cfg, samples), names


def load_batch(model, cfg: Config, count: int, seed: int,
               images: Optional[Sequence[str]] = None) -> Tuple[dict, list]:
    """:func:`load_data` through the model's data preprocessor
    (``training=True``).

    Returns:
        tuple: The preprocessed batch (``inputs``, ``data_samples``) and
        the images' names.
    """
    data, names = load_data(model, cfg, count, seed, images)
    return model.data_preprocessor(data, training=True), names


@dataclass
class MixingDraw:
    """One augment's draw on a batch, and what training made of it.

    Attributes:
        augment (MixAugment): The augment.
        inputs (Tensor): (B, C, H, W) the unmixed batch, normalised.
        result (MixResult): What ``model.mix`` returned.
        targets (Tensor): (B, K) the targets the head trains on: those of
            ``model.forward_mixed`` (after relabelling).
        attention (Tensor, optional): (B, h, w) the attention scores the
            method read, on its token grid.
        attention_on (str): ``'own'`` (read on the unmixed batch) or
            ``'mixed'`` (on the mixed forward).
        attn_stat (str, optional): The statistic read.
        loss_terms (list[str]): Names of the augment's own loss terms.
    """
    augment: MixAugment
    inputs: torch.Tensor
    result: MixResult
    targets: torch.Tensor
    attention: Optional[torch.Tensor] = None
    attention_on: str = 'own'
    attn_stat: Optional[str] = None
    loss_terms: List[str] = field(default_factory=list)

    def pictured(self) -> Tuple[torch.Tensor, Optional[torch.Tensor],
                                torch.Tensor, Optional[torch.Tensor]]:
        """What the figure shows of each image i of the batch: its own
        index, its partner's, the mixed image and the partner share.

        The trained batch, or the ``forwarded`` images when the trained
        batch is clean (RankMixup: the first mixed image of each i).

        Returns:
            tuple: (B,) own and partner indices (partner None if not said),
            (B, C, H, W) mixed images, (B, 1, H, W) shares (None if not
            said).
        """
        result = self.result
        share = result.partner_share
        forwarded = result.forwarded
        if forwarded is not None and (share is None or not share.any()):
            first = torch.stack([
                (forwarded.own == i).nonzero()[0, 0]
                for i in range(len(self.inputs))])
            return (forwarded.own[first], forwarded.partner[first],
                    forwarded.inputs[first], forwarded.partner_share[first])
        own = torch.arange(len(self.inputs), device=self.inputs.device)
        return own, result.partner, result.inputs, share

    def rows(self, num: int) -> List[int]:
        """Which ``num`` of the :meth:`pictured` images to show, in order:
        those mixed with another image first (a permutation may pair an
        image with itself, which shows nothing mixed), then self-paired
        ones if too few."""
        own, partner, _, _ = self.pictured()
        if partner is None:
            return list(range(num))
        paired = (partner != own).tolist()
        order = [r for r in range(len(own)) if paired[r]] + \
            [r for r in range(len(own)) if not paired[r]]
        return sorted(order[:num])


def draw_mixing(model: MixImageClassifier, batch: dict,
                augment: MixAugment) -> MixingDraw:
    """Mix ``batch`` with ``augment`` as a training step does.

    Args:
        model (MixImageClassifier): The classifier (its mode is restored).
        batch (dict): ``inputs`` and ``data_samples`` from the data
            preprocessor (``training=True``); not changed.
        augment (MixAugment): One of ``model.augments``.

    Returns:
        MixingDraw: The draw and its training targets.
    """
    inputs = batch['inputs']
    targets = model.batch_targets(inputs, batch['data_samples'])
    reads = []
    context = model.mix_context
    clean_forward = context.clean_forward

    def read_clean(images, attn_stat='patch', *args, **kwargs):
        logits, record = clean_forward(images, attn_stat, *args, **kwargs)
        reads.append(('own', record, attn_stat))
        return logits, record

    was_training = model.training
    context.clean_forward = read_clean
    model.train()
    try:
        with torch.no_grad():
            # a copy: MMPretrain's CutMix pastes into its input
            result = model.mix(augment, inputs.clone(), targets)
            relabel = result.relabel
            if relabel is not None:

                def read_mixed(record, logits):
                    reads.append(('mixed', record, relabel.attn_stat))
                    return relabel.fn(record, logits)

                result.relabel = replace(relabel, fn=read_mixed)
            feats, trained = model.forward_mixed(result)
            terms = [] if result.loss_terms is None else sorted(
                result.loss_terms(model.head(feats)))
            result.relabel = relabel
    finally:
        del context.clean_forward
        model.train(was_training)
    draw = MixingDraw(augment, inputs, result, trained, loss_terms=terms)
    if reads:
        draw.attention_on, record, draw.attn_stat = reads[-1]
        scores = record.scores(draw.attn_stat)
        draw.attention = scores.reshape(len(scores), *record.grid)
    return draw


def top_weights(weights: torch.Tensor, classes: Sequence[str],
                top: int = 3) -> Tuple[List[Tuple[str, float]], int, float]:
    """The largest label weights and the rest.

    Returns:
        tuple: Up to ``top`` ``(class, weight)`` pairs with weight >= 5e-5,
        largest first; how many classes are left and their total weight.
    """
    weights = weights.detach().double().cpu()
    order = torch.argsort(weights, descending=True, stable=True)
    shown = [(classes[int(k)], float(weights[k])) for k in order[:top]
             if weights[k] >= 5e-5]
    rest = order[len(shown):]
    return shown, len(rest), float(weights[rest].sum())


def share_text(share: Optional[torch.Tensor]) -> str:
    """How much of the image came from the partner, in words."""
    if share is None:
        return 'from j: not said'
    if share.min() == share.max() and 0 < float(share.max()) < 1:
        return f'from j: {100 * float(share.max()):.1f} % of each pixel'
    return f'from j: {100 * float(share.float().mean()):.1f} % of pixels'


def row_notes(draw: MixingDraw, num: int, names: Sequence[str],
              classes: Sequence[str]) -> List[List[str]]:
    """Text lines of the rows shown (:meth:`MixingDraw.rows`): the pair,
    the partner share and the label weights trained on."""
    own, partner, _, share = draw.pictured()
    notes = []
    for row in draw.rows(num):
        i = int(own[row])
        lines = [f'i={i} {names[i]}']
        if partner is None:
            lines.append('j: not said')
        else:
            j = int(partner[row])
            itself = ' (itself)' if j == i else ''
            lines.append(f'j={j} {names[j]}{itself}')
        lines.append(share_text(None if share is None else share[row]))
        shown, left, rest = top_weights(draw.targets[i], classes)
        for k, (name, weight) in enumerate(shown):
            lines.append(('trains on ' if k == 0 else ' ' * 10) +
                         f'{weight:.4f} {name}')
        if rest >= 5e-5:
            lines.append(' ' * 10 + f'{rest:.4f} on {left} other' +
                         ('s' if left > 1 else ''))
        notes.append(lines)
    return notes


def describe(model, draw: MixingDraw) -> str:
    """The subtitle of a draw: its chance per batch, branch, attention,
    relabelling, extra terms and the head's own smoothing."""
    augments = model.augments
    probs = model.switch.probs
    k = augments.index(draw.augment)
    p = probs[k] if probs is not None else 1 / len(augments)
    parts = ['mixes every batch' if p == 1 else
             f'mixes {100 * p:g} % of the batches']
    branch = draw.result.info.get('branch')
    if isinstance(branch, str):
        parts.append(f"this draw: branch '{branch}'")
    if draw.attention is not None:
        where = 'unmixed batch' if draw.attention_on == 'own' else \
            'mixed forward'
        parts.append(f"attention of the {where} ('{draw.attn_stat}')")
    if draw.result.relabel is not None:
        parts.append('targets relabelled from that forward')
    if draw.result.forwarded is not None:
        parts.append('trains on the clean images; the mixed ones are '
                     'forwarded for ' + (', '.join(draw.loss_terms) or
                                         'its loss terms'))
    elif draw.loss_terms:
        parts.append('+ ' + ', '.join(draw.loss_terms))
    loss = getattr(getattr(model, 'head', None), 'loss_module', None)
    if isinstance(loss, LabelSmoothLoss):
        parts.append(f'the head smooths by {loss.label_smooth_val:g}')
    elif loss is not None and not isinstance(loss, CrossEntropyLoss):
        parts.append(f'head loss {type(loss).__name__}')
    return '; '.join(parts)


def mixing_rows(model, draw: MixingDraw, num: int, names: Sequence[str],
                classes: Sequence[str], title: str) -> MixingRows:
    """The rows shown of a draw (:meth:`MixingDraw.rows`) as a figure
    block (images de-normalised)."""
    preprocessor = model.data_preprocessor
    mean = getattr(preprocessor, 'mean', None)
    std = getattr(preprocessor, 'std', None)
    bgr = draw.inputs.shape[1] == 3 and not getattr(preprocessor, 'to_rgb',
                                                    True)
    if mean is not None:
        mean, std = mean.flatten().tolist(), std.flatten().tolist()

    def show(x):
        return to_display(x.detach().float().cpu().numpy(), mean, std, bgr)

    own, partner, mixed, share = draw.pictured()
    rows = draw.rows(num)
    gray = np.full((num, *draw.inputs.shape[-2:], 3), 235, np.uint8)
    attention = None
    if draw.attention is not None:  # of image i, or of mixed image i
        attention = draw.attention[own[rows]].cpu().numpy()
    return MixingRows(
        title=title,
        subtitle=describe(model, draw),
        own=show(draw.inputs[own[rows]]),
        partner=gray if partner is None else show(
            draw.inputs[partner[rows]]),
        mixed=show(mixed[rows]),
        share=None if share is None else share[rows, 0].cpu().numpy(),
        attention=attention,
        attention_on=draw.attention_on,
        notes=row_notes(draw, num, names, classes))


def augment_title(augment: MixAugment, config: str, weights: str) -> str:
    """``'CutMix (MMPretrain's) · vit-..._fmnist.py · untrained'``."""
    name = augment.name + (" (MMPretrain's)"
                           if isinstance(augment, MMPretrainAugment) else '')
    return f'{name} · {osp.basename(config)} · {weights}'


@dataclass
class ConfigDraws:
    """The draws of one config's augments.

    Attributes:
        config (str): The config file.
        weights (str): ``'untrained'`` or the checkpoint's file name.
        draws (list[MixingDraw]): One per augment, in order.
        names (list[str]): Names of the batch's images.
        classes (list[str]): Class names.
        blocks (list[MixingRows]): The figure blocks of the draws.
    """
    config: str
    weights: str
    draws: List[MixingDraw]
    names: List[str]
    classes: List[str]
    blocks: List[MixingRows]


def draw_config(cfg: Config,
                config: str,
                num: int,
                seed: int = 0,
                checkpoint: Optional[str] = None,
                images: Optional[Sequence[str]] = None) -> ConfigDraws:
    """Draw ``num`` pairs with every augment of a config's model.

    The model is built and its streams seeded from ``seed`` as if alone
    (so a config draws the same with or without others); every augment
    mixes the same 2N images. Image files (``images``) are labelled by
    their order: file k is class k, named after the file.

    Raises:
        ValueError: The model is no ``MixImageClassifier`` with augments,
            or too few images.
        FileNotFoundError: A missing checkpoint, image or training set.
    """
    set_random_seed(seed)
    model = build_config_model(cfg, checkpoint)
    if not isinstance(model, MixImageClassifier) or not model.augments:
        raise ValueError(
            f'{config}: {type(model).__name__} mixes nothing in training '
            '(draws need a MixImageClassifier with model.train_cfg.augments)')
    num_classes = model.head.num_classes
    if images and 2 * num > num_classes:
        raise ValueError(f'--images: {2 * num} files need {2 * num} '
                         f'classes to label them, the model has '
                         f'{num_classes}')
    batch, names = load_batch(model, cfg, 2 * num, seed, images)
    classes = class_names(cfg, num_classes)
    if images:  # file k is class k (load_data), named after the file
        classes[:len(names)] = names
    weights = osp.basename(checkpoint) if checkpoint else 'untrained'
    draws, blocks = [], []
    for augment in model.augments:
        draw = draw_mixing(model, batch, augment)
        draws.append(draw)
        blocks.append(mixing_rows(model, draw, num, names, classes,
                                  augment_title(augment, config, weights)))
    return ConfigDraws(config, weights, draws, names, classes, blocks)


def mixing_figure(drawn: Sequence[ConfigDraws], title: str = '',
                  columns: Optional[int] = None):
    """One figure of every block of ``drawn`` (see
    :func:`mmsmmix.visualization.mixing_grid_figure`)."""
    return mixing_grid_figure([b for d in drawn for b in d.blocks],
                              title=title, columns=columns)


def print_lines(drawn: ConfigDraws, num: int) -> List[str]:
    """What the tool prints of a config's draws: per augment its title and
    subtitle, then per row the pair, the partner share and the label
    weights trained on (4 decimals)."""
    lines = []
    for draw, block in zip(drawn.draws, drawn.blocks):
        lines += [block.title, '  ' + block.subtitle]
        own, partner, _, share = draw.pictured()
        for row in draw.rows(num):
            i = int(own[row])
            j = '?' if partner is None else int(partner[row])
            shown, left, rest = top_weights(draw.targets[i],
                                            drawn.classes)
            weights = ', '.join(f'{name} {w:.4f}' for name, w in shown)
            if left:
                weights += f', {left} other(s) {rest:.4f}'
            lines.append(
                f'  i={i} j={j} '
                f'{share_text(None if share is None else share[row])}; '
                f'trains on {weights}')
    return lines
