# Fine-tune an ImageNet-1k SMMix DeiT-S on FGVC-Aircraft (100 variants) at
# 224 px (paper card: 78.4 top-1): deit-small_smmix-ft_4xb32_cub-224px.py
# with MMPretrain's FGVCAircraft dataset (train+val to train, test to test).
_base_ = './deit-small_smmix-ft_4xb32_cub-224px.py'

num_classes = 100
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(
    dataset=dict(
        type='FGVCAircraft', data_root='data/fgvc_aircraft',
        split='trainval'))
val_dataloader = dict(
    dataset=dict(
        type='FGVCAircraft', data_root='data/fgvc_aircraft', split='test'))
test_dataloader = val_dataloader
