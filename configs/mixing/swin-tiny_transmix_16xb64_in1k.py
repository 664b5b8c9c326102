# Swin-T with TransMix: OURS, not the official method. The official TransMix
# code has no Swin (its paper's Section 4.5 describes a generalisation this
# does not claim to follow), and its class-to-patch attention does not exist
# on a backbone without a class token. Here the pasted share of each label
# is (area + attention mass in the box) / 2 with the 'pooled' statistic
# (ours): the attention each of the last stage's 49 tokens receives,
# averaged over all queries and heads, i.e. the weights of the pooled
# feature the head classifies (they sum to 1). Switched with Mixup at
# TransMix's official switch probability 0.8, on MMPretrain's Swin-T recipe
# of ../smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py.
_base_ = '../smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0, attn_stat='pooled')
        ],
        probs=[0.2, 0.8]))
