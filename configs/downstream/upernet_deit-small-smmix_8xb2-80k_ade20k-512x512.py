# UperNet + DeiT-S on ADE20K 512x512, 80k iterations: mmsegmentation's own
# recipe (vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py), with the backbone
# initialised from an SMMix DeiT-S classifier instead of DeiT's release.
# Convert the classification checkpoint first (mmseg's ViT ignores
# init_cfg.prefix and loads non-strictly, so a raw MMPretrain checkpoint
# would load as nothing):
#   python tools/model_converters/mmsmmix2dense.py \
#       work_dirs/deit-small_smmix_4xb256_in1k/epoch_300.pth \
#       pretrain/deit-small_smmix_mmseg.pth --to mmseg-vit
_base_ = ['mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py']

# patch_bias: DeiT's patch embedding has a bias, which mmseg's recipe leaves
# out (its ViT defaults to patch_bias=False and loads non-strictly, so the
# bias would be dropped silently and the features would no longer be the
# classifier's).
model = dict(
    pretrained=None,
    backbone=dict(
        patch_bias=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/deit-small_smmix_mmseg.pth')))
