# Fine-tune an ImageNet-1k SMMix DeiT-S on Stanford Cars (196 classes) at
# 224 px (paper card: 91.93 top-1): deit-small_smmix-ft_4xb32_cub-224px.py
# with MMPretrain's StanfordCars dataset.
_base_ = './deit-small_smmix-ft_4xb32_cub-224px.py'

num_classes = 196
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(
    dataset=dict(
        type='StanfordCars', data_root='data/stanfordcars', split='train'))
val_dataloader = dict(
    dataset=dict(
        type='StanfordCars', data_root='data/stanfordcars', split='test'))
test_dataloader = val_dataloader
