# DeiT-S with MixPro in the official geometry
# (fistyee/MixPro configs/deit/deit_small_patch14_mask56_224_alpha1.yaml):
# 14-px patches at 224 px (a 16x16 token grid) and 56-px cells (4x4 cells of
# 4 tokens that tile the grid), every MaskMix switch at its official value
# (a cell permutation per image, a random partner, lam = kept cells / 16).
# Only PAL differs from that file (on here; set pal=False for MaskMix alone).
# This is a different model from DeiT-S/16 (256 patch tokens, not 196).
_base_ = './deit-small_mixpro_4xb256_in1k.py'

model = dict(
    backbone=dict(patch_size=14),
    train_cfg=dict(augments=dict(area_lam='cells')))
