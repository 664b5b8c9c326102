# DeiT-S without batch mixing, the lower reference of the comparison: the
# DeiT recipe of ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with no
# batch augment (every batch trains on its clean images; the head's label
# smoothing 0.1 and the data pipeline, RandAugment and RandomErasing
# included, unchanged). MixImageClassifier is kept (an empty `augments`
# leaves every batch unmixed) so that the non-finite guard and the exact
# resume are the same as in the other configs.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(train_cfg=dict(_delete_=True, augments=[]))
