# TL-Align (Xiao et al., ICCV 2023), the official mixing: each batch token
# CutMix (alpha 1.0) on the 4x4 token grid, labels propagated through every
# block's attention to the class token; label smoothing 0.1 in the augment
# (so the head is a plain soft cross-entropy).
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        augments=dict(
            type='TLAlign', tokenmix_alpha=1.0, label_smoothing=0.1)))
