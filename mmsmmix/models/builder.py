"""The model of a config, built as the Runner builds it (one copy for the
benchmarks and the visualisers)."""
import copy
import logging
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS

from mmsmmix.utils import load_weights


def build_config_model(cfg: Config,
                       checkpoint: Optional[str] = None) -> torch.nn.Module:
    """``cfg.model`` (its data preprocessor from the config's top-level
    ``data_preprocessor`` unless it has one), with ``checkpoint``'s weights
    loaded strictly, or initialised as the Runner does (``init_weights``,
    without its per-parameter log). Seed torch first for a reproducible
    initialisation.

    Raises:
        CheckpointFileError, CheckpointMismatchError, FileNotFoundError:
            A checkpoint that is not one, or does not fit.
    """
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor',
                             copy.deepcopy(cfg.data_preprocessor))
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_weights(model, checkpoint)
        return model
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model
