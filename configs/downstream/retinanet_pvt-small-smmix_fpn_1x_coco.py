# RetinaNet + PVT-S on COCO, 1x schedule: mmdetection's own recipe
# (pvt/retinanet_pvt-s_fpn_1x_coco.py, AdamW 1e-4), with the backbone
# initialised from an SMMix PVT-S classifier instead of PVT's release.
# Convert first (official PVT-v1 names, which mmdet's PyramidVisionTransformer
# converts itself, dropping the class token):
#   python tools/model_converters/mmsmmix2dense.py \
#       work_dirs/pvt-small_smmix_4xb256_in1k/epoch_300.pth \
#       pretrain/pvt-small_smmix_mmdet.pth --to mmdet-pvt
_base_ = ['mmdet::pvt/retinanet_pvt-s_fpn_1x_coco.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/pvt-small_smmix_mmdet.pth')))
