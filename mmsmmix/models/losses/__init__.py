from .decoupled_mixup_loss import DecoupledMixupLoss
from .smmix_consistency_loss import SMMixConsistencyLoss

__all__ = ['DecoupledMixupLoss', 'SMMixConsistencyLoss']
