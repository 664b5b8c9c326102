# DeiT-S SMMix + Decoupled Mixup (Liu et al., NeurIPS 2023): the SMMix
# recipe of ../smmix/deit-small_smmix_4xb256_in1k.py with the decoupled
# regulariser (eta 0.1, the authors' ImageNet value) in the head's loss,
# which also serves the token head's region terms (pure labels: plain
# cross-entropy there).
_base_ = '../smmix/deit-small_smmix_4xb256_in1k.py'

model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='DecoupledMixupLoss',
            eta=0.1,
            label_smoothing=0.1)))
