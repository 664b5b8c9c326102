from .decoupled_mixup_loss import DecoupledMixupLoss
from .rankmixup_loss import RankMixupLoss
from .smmix_consistency_loss import SMMixConsistencyLoss

__all__ = ['DecoupledMixupLoss', 'RankMixupLoss', 'SMMixConsistencyLoss']
