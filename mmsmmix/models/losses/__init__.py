from .smmix_consistency_loss import SMMixConsistencyLoss

__all__ = ['SMMixConsistencyLoss']
