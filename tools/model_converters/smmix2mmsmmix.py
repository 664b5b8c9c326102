"""Convert an official SMMix release checkpoint (DeiT or PVT-v1) into
weights for our ``MixImageClassifier`` configs.

Example:
    python tools/model_converters/smmix2mmsmmix.py smmix_deit_t.pth \\
        deit-tiny_smmix_official.pth
    python tools/test.py configs/smmix/deit-tiny_smmix_4xb256_in1k.py \\
        deit-tiny_smmix_official.pth
"""
import argparse

import torch

from mmsmmix.models.converters import (convert_official_smmix,
                                       load_official_checkpoint)
from mmsmmix.utils import CheckpointFileError, CheckpointMismatchError


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official SMMix checkpoint (.pth)')
    parser.add_argument('dst', help='where to write our state dict')
    args = parser.parse_args(argv)
    try:
        checkpoint = load_official_checkpoint(args.src)
        arch, state_dict = convert_official_smmix(checkpoint['model'])
    except (CheckpointFileError, CheckpointMismatchError,
            FileNotFoundError) as err:
        raise SystemExit(f'smmix2mmsmmix: {err}') from err
    torch.save(state_dict, args.dst)
    epoch = checkpoint.get('epoch')
    print(f'{args.src}: official {arch} SMMix weights'
          f'{f" (epoch {epoch})" if epoch is not None else ""}, '
          f'{len(state_dict)} tensors -> {args.dst}')
    return args.dst


if __name__ == '__main__':
    main()
