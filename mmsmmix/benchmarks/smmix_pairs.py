"""SMMix pairs of a config's training data, drawn: windows, scores, mixes.

The training path of one SMMix batch with the real pieces: the training
pipeline, the model's data preprocessor (``training=True``), the eval-mode,
no-grad motivating forward, and the augment's own window choice
(:meth:`SMMix.window_scores` and :meth:`SMMix.windows`, whose windows are
what the figure outlines). The region side r is one draw from
the augment's sides (or given), one for the whole batch as in training.

Pairing: SMMix pairs sample i of a batch of B with sample B-1-i. For N pairs
a batch of B = 2N images is mixed and rows 0..N-1 drawn: row i is target i
with partner 2N-1-i, so the N rows are N different pairs. Each image's
scores and windows depend on that image alone, so the batch size changes
nothing else. The 2N images are distinct random training samples (seeded,
as a shuffling loader would draw them), or the first 2N image files given,
run through the training pipeline.
"""
import glob
import os.path as osp
import random
from dataclasses import dataclass
from functools import partial
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from matplotlib.figure import Figure
from mmengine.config import Config
from mmengine.dataset import Compose

from mmsmmix.models.augments import SMMix
from mmsmmix.models.classifiers import MixImageClassifier
from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.ops import RegionMix, window_box
from mmsmmix.visualization import smmix_grid_figure, to_display

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')


@dataclass
class SMMixPairs:
    """What was drawn.

    Attributes:
        figure (Figure): One row per pair.
        region_size (int): The region side r in tokens.
        sizes (list[int]): The sides training draws from.
        side (int): The token grid side S.
        region (RegionMix): The mix of the whole batch (windows, lam).
    """
    figure: Figure
    region_size: int
    sizes: List[int]
    side: int
    region: RegionMix


def find_smmix(model) -> Tuple[SMMix, bool]:
    """The model's SMMix augment, or one with the default settings, and
    whether it is the model's own."""
    for aug in getattr(model, 'augments', []):
        if isinstance(aug, SMMix):
            return aug, True
    return SMMix(), False


def image_files(paths: Sequence[str]) -> List[str]:
    """Image files of ``paths`` (files, or folders read non-recursively and
    sorted).

    Raises:
        FileNotFoundError: Naming a path that does not exist.
    """
    files = []
    for path in paths:
        if osp.isdir(path):
            files += sorted(
                f for f in glob.glob(osp.join(path, '*'))
                if f.lower().endswith(IMAGE_EXTS))
        elif osp.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f'--images: {path} does not exist')
    return files


def load_samples(cfg: Config, count: int, seed: int,
                 images: Optional[Sequence[str]],
                 in_channels: int) -> Tuple[list, List[str]]:
    """``count`` samples after the training pipeline, and their names.

    Args:
        cfg (Config): The config (``train_dataloader.dataset``).
        count (int): How many samples.
        seed (int): Seed of the choice of training samples.
        images (list[str], optional): Image files or folders to use
            instead of the training set.
        in_channels (int): Channels the model takes; image files read for a
            pipeline without a loading transform are read in gray for 1.

    Raises:
        ValueError: Too few images.
        FileNotFoundError: An image path, or the training set, is missing.
    """
    dataset_cfg = cfg.train_dataloader.dataset
    if images:
        files = image_files(images)
        if len(files) < count:
            raise ValueError(f'--images gave {len(files)} image files; '
                             f'{count // 2} pairs need {count}')
        pipeline = list(dataset_cfg.get('pipeline', []))
        loads = bool(pipeline) and pipeline[0].get('type') in (
            'LoadImageFromFile', 'mmcv.LoadImageFromFile')
        pipeline = Compose(pipeline)
        samples = []
        for path in files[:count]:
            if loads:
                samples.append(pipeline(dict(img_path=path)))
            else:  # a dataset that holds decoded arrays (Fashion-MNIST)
                flag = 'grayscale' if in_channels == 1 else 'color'
                img = mmcv.imread(path, flag=flag)
                samples.append(pipeline(dict(img=img, img_path=path)))
        return samples, [osp.basename(f) for f in files[:count]]

    from mmpretrain.registry import DATASETS
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, OSError, RuntimeError) as err:
        raise FileNotFoundError(
            f'cannot build the training set ({err}); pass image files with '
            '--images DIR_OR_FILES instead') from err
    if len(dataset) < count:
        raise ValueError(f'the training set has {len(dataset)} images; '
                         f'{count // 2} pairs need {count}')
    classes = dataset.metainfo.get('classes')
    rng = np.random.default_rng(seed)
    samples, names = [], []
    for idx in rng.choice(len(dataset), count, replace=False):
        sample = dataset[int(idx)]
        samples.append(sample)
        label = sample['data_samples'].get('gt_label')
        name = f'#{idx}'
        if label is not None and classes:
            name += f' {classes[int(label[0])]}'
        names.append(name)
    return samples, names


def collate(cfg: Config, samples: list) -> dict:
    """Batch samples with the train dataloader's ``collate_fn``."""
    from mmengine.registry import FUNCTIONS
    collate_cfg = dict(
        cfg.train_dataloader.get('collate_fn', dict(type='pseudo_collate')))
    fn = collate_cfg.pop('type')
    fn = FUNCTIONS.get(fn) if isinstance(fn, str) else fn
    return partial(fn, **collate_cfg)(samples)


def attention_forward(model, inputs: torch.Tensor,
                      attn_stat: str) -> AttentionRecord:
    """The motivating pass of training (a ``MixImageClassifier``), or the
    same eval-mode, no-grad forward of any other model's backbone, probed.
    """
    if isinstance(model, MixImageClassifier):
        return model.mix_context.clean_forward(inputs, attn_stat)[1]
    probe = build_attention_probe(model.backbone)
    model.eval()
    with torch.no_grad(), probe.capture(attn_stat) as record:
        model.backbone(inputs.float())
    return record


def draw_smmix_pairs(model,
                     cfg: Config,
                     num: int,
                     seed: int = 0,
                     region_size: Optional[int] = None,
                     images: Optional[Sequence[str]] = None,
                     title: str = '') -> SMMixPairs:
    """Draw ``num`` SMMix pairs of ``cfg``'s training data with ``model``.

    Raises:
        ValueError: A region side training never draws, too few images, a
            grid SMMix cannot mix on.
    """
    smmix, _ = find_smmix(model)
    preprocessor = model.data_preprocessor
    mean = getattr(preprocessor, 'mean', None)
    in_channels = mean.numel() if mean is not None else 3
    samples, names = load_samples(cfg, 2 * num, seed, images, in_channels)
    inputs = preprocessor(collate(cfg, samples), training=True)['inputs']
    inputs = inputs.float()

    record = attention_forward(model, inputs, smmix.attn_stat)
    window_scores = smmix.window_scores(inputs, record)
    side, sizes = window_scores.side, window_scores.sizes
    scores = window_scores.scores
    r = region_size or random.Random(seed).choice(sizes)
    if r not in sizes:
        raise ValueError(f'--region-size {r}: SMMix draws r from {sizes} on '
                         f'this {side}x{side} grid')
    region = smmix.windows(inputs, window_scores, r)

    b = inputs.shape[0]
    bgr = inputs.shape[1] == 3 and not getattr(preprocessor, 'to_rgb', True)
    std = getattr(preprocessor, 'std', None)
    mean, std = (None, None) if mean is None else (mean.flatten().tolist(),
                                                   std.flatten().tolist())

    def show(x):
        return to_display(x[:num].cpu().numpy(), mean, std, bgr)

    notes = [[f'target  i={i}: {names[i]}',
              f'partner j={b - 1 - i}: {names[b - 1 - i]}']
             for i in range(num)]
    sources = region.source_windows.flip(0)  # the window pasted into i
    figure = smmix_grid_figure(
        show(inputs), show(inputs.flip(0)), show(region.mixed),
        scores.reshape(-1, side, side)[:num].cpu().numpy(),
        [window_box(w, side, r) for w in region.target_windows[:num]],
        [window_box(w, side, r) for w in sources[:num]], r, region.lam,
        row_notes=notes,
        title=f"{title}attn_stat='{smmix.attn_stat}', {side}x{side} tokens,"
        f' r={r} (drawn from {sizes}), batch B={b}')
    return SMMixPairs(figure, r, sizes, side, region)
