# Mask R-CNN + PVT-S on COCO, 1x schedule, as in the PVT paper (AdamW 1e-4,
# weight decay 1e-4, 12 epochs). mmdetection 3.3 ships no Mask R-CNN PVT
# config, so this one composes its Mask R-CNN R-50 1x recipe with PVT-S and
# the optimiser of its PVT RetinaNet configs; the backbone starts from an
# SMMix PVT-S classifier (convert it as for the RetinaNet config):
#   python tools/model_converters/mmsmmix2dense.py \
#       work_dirs/pvt-small_smmix_4xb256_in1k/epoch_300.pth \
#       pretrain/pvt-small_smmix_mmdet.pth --to mmdet-pvt
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformer',
        num_layers=[3, 4, 6, 3],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/pvt-small_smmix_mmdet.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001))
