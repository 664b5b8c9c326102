"""How often SMMix's windows from a low-precision motivating pass are the
windows of the official float32 pass (``SMMix(motivating_dtype=...)``)."""
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

from mmsmmix.datasets import first_training_batches
from mmsmmix.utils import load_weights
from .timing import build_model


def window_agreement(cfg: Config,
                     checkpoint: Optional[str],
                     dtype: torch.dtype,
                     images: int = 2000,
                     batch_size: int = 64) -> Dict[str, object]:
    """Compare the windows of a float32 and a ``dtype`` motivating pass.

    The model of ``cfg`` (an SMMix config) with ``checkpoint``'s weights
    (None: its initialisation) runs both clean passes on the same real
    training batches; for every region side of the augment's range, each
    image's destination (least-attended) and source (most-attended) window
    are chosen from either pass's scores.

    Returns:
        dict: ``agreement`` (share of image x side pairs whose two windows
        are both identical), ``per_side`` (side -> share), ``images``,
        ``sides``, ``score_max_abs_diff`` (largest patch-score difference).
    """
    torch.manual_seed(0)
    model, _ = build_model(cfg, torch.device('cpu'))
    if checkpoint:
        load_weights(model, checkpoint)
    aug = model.augments[0]
    same: Dict[int, int] = {}
    seen, worst = 0, 0.
    sides: List[int] = []
    for data in first_training_batches(cfg, images, batch_size):
        inputs = model.data_preprocessor(data, True)['inputs']
        scores = []
        for pass_dtype in (torch.float32, dtype):
            _, record = model.mix_context.clean_forward(
                inputs, aug.attn_stat, pass_dtype)
            scores.append(aug.window_scores(inputs, record))
        worst = max(worst,
                    float((scores[0].scores - scores[1].scores).abs().max()))
        sides = scores[0].sizes
        for side in sides:
            full, low = (aug.windows(inputs, s, side) for s in scores)
            agree = (full.target_windows == low.target_windows) & \
                (full.source_windows == low.source_windows)
            same[side] = same.get(side, 0) + int(agree.sum())
        seen += len(inputs)
    return dict(
        agreement=sum(same.values()) / (seen * len(sides)),
        per_side={side: n / seen for side, n in same.items()},
        images=seen,
        sides=sides,
        score_max_abs_diff=worst)
