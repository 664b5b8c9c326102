# Mask R-CNN + Swin-T on COCO, 1x schedule: mmdetection's own recipe
# (swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py, AdamW 1e-4), with the backbone
# initialised from an SMMix Swin-T classifier instead of Swin's release.
# Convert first (MMPretrain's Swin names, which are mmdet's, under
# mmdet's `backbone.` prefix; norm0-norm2, which the classifier lacks,
# written as identity LayerNorms):
#   python tools/model_converters/mmsmmix2dense.py \
#       work_dirs/<swin-tiny smmix config>/epoch_300.pth \
#       pretrain/swin-tiny_smmix_mmdet.pth --to mmdet-swin
_base_ = ['mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py']

# convert_weights=False: the recipe's True runs mmdet's swin_converter, meant
# for the official Swin release's names; it fails on the converted file
# (KeyError on `backbone.stages...relative_position_bias_table`) and, on an
# unprefixed one, renames the patch embedding to nothing, which mmdet's
# non-strict load then skips without a word.
model = dict(
    backbone=dict(
        convert_weights=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/swin-tiny_smmix_mmdet.pth')))
