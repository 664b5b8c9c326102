from .dense import (TARGETS, check_against, convert_to_dense,
                    load_classifier_weights, reference_backbone)
from .official_smmix import convert_official_smmix, load_official_checkpoint

__all__ = [
    'TARGETS', 'check_against', 'convert_to_dense',
    'load_classifier_weights', 'reference_backbone',
    'convert_official_smmix', 'load_official_checkpoint'
]
