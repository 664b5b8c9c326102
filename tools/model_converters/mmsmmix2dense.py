"""Convert an SMMix classification checkpoint into a dense-prediction
backbone: mmsegmentation's ViT or Swin, mmdetection's PVT or Swin, or timm's
ViT.

SRC may be one of our checkpoints (``work_dirs/.../epoch_300.pth``, or the
output of ``smmix2mmsmmix.py``) or an official SMMix release file. The token
head and the classifier are dropped; DST holds tensors only. When the target
library is installed, the weights are checked against its own backbone and
any missing, unexpected or mis-shaped key stops the conversion.

Example:
    python tools/model_converters/mmsmmix2dense.py \\
        work_dirs/deit-small_smmix_4xb256_in1k/epoch_300.pth \\
        pretrain/deit-small_smmix_mmseg.pth --to mmseg-vit
    python tools/model_converters/mmsmmix2dense.py smmix_pvt_s.pth \\
        pretrain/pvt-small_smmix_mmdet.pth --to mmdet-pvt
    python tools/model_converters/mmsmmix2dense.py smmix_swin_t.pth \\
        pretrain/swin-tiny_smmix_mmdet.pth --to mmdet-swin
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/model_converters/mmsmmix2dense.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read;
    ``--to`` is checked against the converters' targets after)."""
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument('src', help='SMMix classification checkpoint')
    parser.add_argument('dst', help='where to write the backbone weights')
    parser.add_argument(
        '--to', required=True, metavar='TARGET',
        help="target layout: mmseg-vit (mmsegmentation's ViT, from DeiT/ViT "
        "checkpoints), mmdet-pvt (mmdetection's PVT, from PVT-v1 ones), "
        "timm (timm's ViT, from DeiT/ViT ones), mmdet-swin (mmdetection's "
        "Swin, from Swin ones), mmseg-swin (mmsegmentation's Swin, from "
        "Swin ones)")
    add_debug_arg(parser)
    return parser.parse_args(argv)


def convert(argv=None) -> str:
    """Convert SRC and write DST.

    Returns:
        str: DST.
    """
    args = parse_args(argv)
    import os
    import os.path as osp

    import torch

    from mmsmmix.models.converters import (TARGETS, check_against,
                                           convert_to_dense,
                                           load_classifier_weights,
                                           reference_backbone)
    from mmsmmix.utils import UserError
    if args.to not in TARGETS:
        raise UserError(f"--to {args.to}: unknown target; choose from "
                        f"{', '.join(TARGETS)}")
    # a missing, damaged or foreign file: their UserErrors, nothing written
    arch, state = load_classifier_weights(args.src)
    try:
        converted = convert_to_dense(state, arch, args.to)
    except ValueError as err:  # a family the target does not take
        raise UserError(f'{args.src}: {err}') from err
    reference = reference_backbone(converted, args.to)
    if reference is not None:
        check_against(converted, args.to, reference)
    if reference is None:
        print(f'mmsmmix2dense: {args.to} is not installed (make dense), so '
              'the keys were not checked against its backbone')
    else:
        print(f'checked against {type(reference).__module__}.'
              f'{type(reference).__name__}: every key fits')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(converted, args.dst)
    dropped = len([k for k in state if not k.startswith('backbone.')])
    if arch == 'swin':
        added = [k.split('.')[-2] for k in converted
                 if k.endswith('.weight') and 'backbone.' + k not in state
                 and k not in state]
        if added:
            print(f"{', '.join(added)}: not in the classifier (it normalises "
                  'the last stage only); written as identity LayerNorms '
                  "(weight 1, bias 0), the target's own initial values")
    print(f'{args.src}: {arch} backbone, {len(converted)} tensors '
          f'({dropped} head tensors dropped) -> {args.dst} ({args.to})')
    return args.dst


def main(argv=None) -> str:
    """``convert(argv)``; a user's mistake exits 2 in one line."""
    return run(convert, argv, prog=TOOL)


if __name__ == '__main__':
    main()
