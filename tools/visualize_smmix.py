"""Show what SMMix does to training pairs: windows, scores, mixed images.

Example:
    python tools/visualize_smmix.py CONFIG --checkpoint CKPT --num 4 \\
        --out work_dirs/demo/smmix_pairs.png
    # a config whose training set is absent (ImageNet): image files instead
    python tools/visualize_smmix.py \\
        configs/smmix/deit-tiny_smmix_4xb256_in1k.py \\
        --images DIR_OR_FILES --out pairs.png

It runs the training path of one SMMix batch with the real ops: the training
pipeline, the model's data preprocessor (``training=True``), the eval-mode,
no-grad motivating forward, the config's score statistic, ``window_sums``
argmin/argmax and ``max_min_region_mix``. The region side r is one draw from
the augment's allowed sides (or ``--region-size``), one for the whole batch
as in training.

Pairing: SMMix pairs sample i of a batch of B with sample B-1-i. For N pairs
the tool builds a batch of B = 2N images and draws the mixed images 0..N-1:
row i is target i with partner 2N-1-i, so the N rows are N different pairs.
(Mixed images N..2N-1 are the same pairs with the roles swapped.) Each
image's scores and windows depend on that image alone, so the batch size
changes nothing else. The 2N images are distinct random training samples
(seeded by ``--seed``, as a shuffling loader would draw them), or the first
2N files of ``--images`` run through the training pipeline.

Without ``--checkpoint`` the model is initialised as the Runner would
(``init_weights``). A model that is not a ``MixImageClassifier``, or has no
SMMix in ``model.train_cfg``, is probed on its backbone with the SMMix
defaults (``score='patch'``, side ratios 0.25..0.75). Outlines: cyan = the
target's min (destination) window, green = the partner's max (source)
window and the pasted box.
"""
import argparse
import glob
import os
import os.path as osp
import random
from functools import partial

import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
from mmsmmix.models.augments import SMMix
from mmsmmix.models.augments.smmix import token_grid_side
from mmsmmix.models.classifiers import MixImageClassifier
from mmsmmix.models.probes import build_attention_probe
from mmsmmix.ops import (max_min_region_mix, patch_attention_score,
                         region_sizes, window_sums)
from mmsmmix.utils import (CheckpointFileError, CheckpointMismatchError,
                           load_weights)
from mmsmmix.visualization import (save_png, smmix_grid_figure, to_display,
                                  window_box)

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw SMMix pairs of the training set')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--checkpoint', help='checkpoint to load (default: untrained model)')
    parser.add_argument(
        '--num', type=int, default=4, help='number of pairs (rows)')
    parser.add_argument(
        '--region-size',
        type=int,
        help='region side r in tokens (default: drawn like in training)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of samples and draws')
    parser.add_argument(
        '--images',
        nargs='+',
        help='image files or folders to use instead of the training set '
        '(run through the training pipeline)')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def find_smmix(model) -> SMMix:
    """The model's SMMix augment, or one with default settings.

    Args:
        model (nn.Module): The built model.

    Returns:
        SMMix: Its augment (score statistic, side ratios).
    """
    for aug in getattr(model, 'augments', []):
        if isinstance(aug, SMMix):
            return aug
    print(f'{type(model).__name__} has no SMMix augment in '
          'model.train_cfg; using the SMMix defaults (score, side ratios).')
    return SMMix()


def image_files(paths) -> list:
    """Image files of ``paths``.

    Args:
        paths (list[str]): Files, or folders (read non-recursively).

    Returns:
        list[str]: The image files, folders' contents sorted.
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
            raise SystemExit(f'--images: {path} does not exist')
    return files


def load_samples(cfg: Config, args: argparse.Namespace, num_images: int,
                 in_channels: int) -> tuple:
    """``num_images`` samples after the training pipeline, and their names.

    Args:
        cfg (Config): The config (``train_dataloader.dataset``).
        args (Namespace): ``images``, ``seed``, ``num`` and ``config``.
        num_images (int): How many samples.
        in_channels (int): Channels the model takes; image files read for a
            pipeline without a loading transform are read in gray for 1.

    Returns:
        tuple: (list of pipeline outputs, list of per-sample names).
    """
    dataset_cfg = cfg.train_dataloader.dataset
    rng = np.random.default_rng(args.seed)
    if args.images:
        files = image_files(args.images)
        if len(files) < num_images:
            raise SystemExit(f'--images gave {len(files)} image files; '
                             f'{args.num} pairs need {num_images}')
        pipeline = list(dataset_cfg.get('pipeline', []))
        loads = bool(pipeline) and pipeline[0].get('type') in (
            'LoadImageFromFile', 'mmcv.LoadImageFromFile')
        pipeline = Compose(pipeline)
        samples = []
        for path in files[:num_images]:
            if loads:
                samples.append(pipeline(dict(img_path=path)))
            else:  # a dataset that holds decoded arrays (Fashion-MNIST)
                flag = 'grayscale' if in_channels == 1 else 'color'
                img = mmcv.imread(path, flag=flag)
                samples.append(pipeline(dict(img=img, img_path=path)))
        return samples, [osp.basename(f) for f in files[:num_images]]

    from mmpretrain.registry import DATASETS
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, OSError, RuntimeError) as err:
        raise SystemExit(
            f'cannot build the training set of {args.config} ({err}); pass '
            'image files with --images DIR_OR_FILES instead') from err
    if len(dataset) < num_images:
        raise SystemExit(f'the training set has {len(dataset)} images; '
                         f'{args.num} pairs need {num_images}')
    classes = dataset.metainfo.get('classes')
    indices = rng.choice(len(dataset), num_images, replace=False)
    samples, names = [], []
    for idx in indices:
        sample = dataset[int(idx)]
        samples.append(sample)
        label = sample['data_samples'].get('gt_label')
        name = f'#{idx}'
        if label is not None and classes:
            name += f' {classes[int(label[0])]}'
        names.append(name)
    return samples, names


def collate(cfg: Config, samples: list):
    """Batch samples with the train dataloader's ``collate_fn``.

    Args:
        cfg (Config): The config (``train_dataloader.collate_fn``).
        samples (list[dict]): Pipeline outputs.

    Returns:
        dict: The batch, ready for the data preprocessor.
    """
    from mmengine.registry import FUNCTIONS
    collate_cfg = dict(
        cfg.train_dataloader.get('collate_fn', dict(type='pseudo_collate')))
    fn = collate_cfg.pop('type')
    fn = FUNCTIONS.get(fn) if isinstance(fn, str) else fn
    return partial(fn, **collate_cfg)(samples)


def attention_forward(model, inputs: torch.Tensor, score: str):
    """Eval-mode, no-grad forward; return the attention ``score`` reads.

    ``MixImageClassifier.clean_forward`` is the motivating pass of training;
    any other model is probed on its backbone.

    Args:
        model (nn.Module): The model, with a probe-able ``backbone``.
        inputs (Tensor): (B, C, H, W) normalised images.
        score (str): The statistic (``'patch'`` or ``'cls'``).

    Returns:
        AttentionRecord: The attention, grid and patch size.
    """
    if isinstance(model, MixImageClassifier):
        return model.clean_forward(inputs, score)[1]
    probe = build_attention_probe(model.backbone)
    model.eval()
    with torch.no_grad(), probe.capture(score) as record:
        model.backbone(inputs.float())
    return record


def main(argv=None) -> str:
    """Draw the pairs and save the PNG.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        str: The output path (also printed).
    """
    args = parse_args(argv)
    if args.num < 1:
        raise SystemExit('--num must be >= 1')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    # the 'current' logger: keeps init_weights' per-parameter report quiet
    MMLogger.get_instance('visualize_smmix', log_level='WARNING')
    set_random_seed(args.seed)

    from mmpretrain.registry import MODELS
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    backbone = getattr(model, 'backbone', None)
    try:
        build_attention_probe(backbone)
    except TypeError as err:
        raise SystemExit(f'{args.config}: this model cannot be drawn with '
                         f'SMMix: {err}') from err
    if args.checkpoint:
        try:
            load_weights(model, args.checkpoint)
        except (CheckpointFileError, CheckpointMismatchError,
            FileNotFoundError) as err:
            raise SystemExit(f'tools/visualize_smmix.py: {err}') from err
    else:
        model.init_weights()
    model.eval()
    smmix = find_smmix(model)

    preprocessor = model.data_preprocessor
    mean = getattr(preprocessor, 'mean', None)
    in_channels = mean.numel() if mean is not None else 3
    samples, names = load_samples(cfg, args, 2 * args.num, in_channels)
    data = preprocessor(collate(cfg, samples), training=True)
    inputs = data['inputs'].float()

    record = attention_forward(model, inputs, smmix.score)
    try:
        side = token_grid_side(record, inputs.shape[-2:])
    except ValueError as err:
        raise SystemExit(str(err)) from err
    scores = patch_attention_score(record.attn, smmix.score,
                                   record.num_extra_tokens)
    sizes = region_sizes(side, smmix.min_side_ratio, smmix.max_side_ratio)
    r = args.region_size or random.Random(args.seed).choice(sizes)
    if r not in sizes:
        raise SystemExit(f'--region-size {r}: SMMix draws r from {sizes} on '
                         f'this {side}x{side} grid')
    mixed, source_mask, lam = max_min_region_mix(inputs, scores, r)
    sums = window_sums(scores.reshape(-1, side, side), r)
    dst, src = sums.argmin(dim=1), sums.argmax(dim=1)
    for i, corner in enumerate(dst.tolist()):  # the boxes drawn = the mask
        top, left, bottom, right = window_box(corner, side, r)
        box = torch.zeros(side, side, dtype=torch.bool)
        box[top:bottom, left:right] = True
        if not torch.equal(box.flatten(), source_mask[i].cpu()):
            raise RuntimeError(f'window {corner} of image {i} does not match '
                               'the source mask of max_min_region_mix')

    n, b = args.num, inputs.shape[0]
    bgr = inputs.shape[1] == 3 and not getattr(preprocessor, 'to_rgb', True)
    std = getattr(preprocessor, 'std', None)
    mean, std = (None, None) if mean is None else (mean.flatten().tolist(),
                                                   std.flatten().tolist())

    def show(x):
        return to_display(x[:n].cpu().numpy(), mean, std, bgr)

    partners = inputs.flip(0)
    notes = [[f'target  i={i}: {names[i]}',
              f'partner j={b - 1 - i}: {names[b - 1 - i]}'] for i in range(n)]
    ckpt = osp.basename(args.checkpoint) if args.checkpoint else 'untrained'
    title = (f'SMMix pairs of {osp.basename(args.config)} ({ckpt}): '
             f"score='{smmix.score}', {side}x{side} tokens, r={r} "
             f'(drawn from {sizes}), batch B={b}')
    fig = smmix_grid_figure(
        show(inputs), show(partners), show(mixed),
        scores.reshape(-1, side, side)[:n].cpu().numpy(), dst[:n].tolist(),
        src.flip(0)[:n].tolist(), r, lam, row_notes=notes, title=title)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    save_png(fig, args.out)
    print(args.out)
    return args.out


if __name__ == '__main__':
    main()
