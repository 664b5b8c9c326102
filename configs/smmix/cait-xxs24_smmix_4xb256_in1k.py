# CaiT-XXS-24 + SMMix on ImageNet-1k: the DeiT-T SMMix recipe (see
# deit-tiny_smmix_4xb256_in1k.py) with timm's CaiT-XXS-24 as the backbone.
# No official SMMix code exists for CaiT; our choices (docs/methods/smmix.md,
# "Backbones"):
#   * patch importance (attn_stat='patch'): the last self-attention block's
#     talking-heads attention, after the softmax and the post-softmax head
#     mixing, column mean over heads and queries (CaiT's self-attention
#     blocks hold no class token, so every token is a patch);
#     attn_stat='cls' reads the last class-attention block's class row instead;
#   * the token head pools the final-norm patch tokens (the self-attention
#     output: the class-attention blocks change only the class token);
#   * stochastic depth 0.1 as for every official SMMix model (CaiT's own
#     recipe uses 0.05 for XXS); CaiT's DeiT-like recipe otherwise.
# 14x14 grid at 224 px, region sides 3..10, as DeiT.
_base_ = './deit-tiny_smmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='CaiT',
        arch='xxs24',
        drop_path_rate=0.1,
        out_type='raw'),
    head=dict(in_channels=192),
)
