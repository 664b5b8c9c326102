# SMMix + Decoupled Mixup (Liu et al., NeurIPS 2023): the SMMix recipe with
# the decoupled regulariser (eta 0.1) in the head's loss; the loss undoes
# SMMix's label smoothing (0.1) to read each sample's lam.
_base_ = './vit-mini-p7_smmix_1xb64_fmnist.py'
model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='DecoupledMixupLoss',
            eta=0.1,
            label_smoothing=0.1)))
