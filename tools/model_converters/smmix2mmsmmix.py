"""Convert an official SMMix release checkpoint (DeiT or PVT-v1) into
weights for our ``MixImageClassifier`` configs.

Example:
    python tools/model_converters/smmix2mmsmmix.py smmix_deit_t.pth \\
        deit-tiny_smmix_official.pth
    python tools/test.py configs/smmix/deit-tiny_smmix_4xb256_in1k.py \\
        deit-tiny_smmix_official.pth
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/model_converters/smmix2mmsmmix.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read)."""
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official SMMix checkpoint (.pth)')
    parser.add_argument('dst', help='where to write our state dict')
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

    from mmsmmix.models.converters import (convert_official_smmix,
                                           load_official_checkpoint)

    # a missing, damaged or foreign file: their UserErrors, nothing written
    checkpoint = load_official_checkpoint(args.src)
    arch, state_dict = convert_official_smmix(checkpoint['model'])
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(state_dict, args.dst)
    epoch = checkpoint.get('epoch')
    print(f'{args.src}: official {arch} SMMix weights'
          f'{f" (epoch {epoch})" if epoch is not None else ""}, '
          f'{len(state_dict)} tensors -> {args.dst}')
    return args.dst


def main(argv=None) -> str:
    """``convert(argv)``; a user's mistake exits 2 in one line."""
    return run(convert, argv, prog=TOOL)


if __name__ == '__main__':
    main()
