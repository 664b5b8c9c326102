# UperNet + Swin-T on ADE20K 512x512, 160k iterations: mmsegmentation's own
# recipe (swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512
# .py), with the backbone initialised from an SMMix Swin-T classifier instead
# of Swin's release. Convert first (MMPretrain's Swin names, which are
# mmseg's; norm0-norm2, which the classifier lacks, written as identity
# LayerNorms):
#   python tools/model_converters/mmsmmix2dense.py \
#       work_dirs/<swin-tiny smmix config>/epoch_300.pth \
#       pretrain/swin-tiny_smmix_mmseg.pth --to mmseg-swin
_base_ = [
    'mmseg::swin/'
    'swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'
]

model = dict(
    pretrained=None,
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/swin-tiny_smmix_mmseg.pth')))
