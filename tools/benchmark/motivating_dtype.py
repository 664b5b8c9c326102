"""Window agreement of SMMix's low-precision motivating pass with float32.

For an SMMix config and some of its checkpoints (and its initialisation),
runs the clean pass in float32 and in ``--dtype`` on the same real training
batches and reports the share of images whose destination and source
windows are identical, for every region side. See
``mmsmmix/benchmarks/motivating_pass.py``.

Example:
    python tools/benchmark/motivating_dtype.py \
        configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py \
        work_dirs/run/epoch_40.pth --cfg-options model.backbone.patch_size=4
"""
import argparse
import sys

from mmengine.config import Config, DictAction

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.benchmarks.motivating_pass import window_agreement
from mmsmmix.models.augments import MOTIVATING_DTYPES
from mmsmmix.utils import markdown_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='an SMMix config')
    parser.add_argument('checkpoints', nargs='*',
                        help='checkpoints (the initialisation is always in)')
    parser.add_argument('--dtype', default='bfloat16',
                        choices=[d for d in MOTIVATING_DTYPES
                                 if d != 'float32'])
    parser.add_argument('--images', type=int, default=2000,
                        help='first N training images (default 2000)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    rows = []
    for checkpoint in [None, *args.checkpoints]:
        print(f"{checkpoint or 'initialisation'} ...", flush=True)
        try:
            r = window_agreement(cfg, checkpoint,
                                 MOTIVATING_DTYPES[args.dtype], args.images,
                                 args.batch_size)
        except (ValueError, FileNotFoundError) as err:
            raise SystemExit(str(err))
        rows.append((checkpoint or 'initialisation', r['images'],
                     f"{r['agreement']:.2%}",
                     ', '.join(f'{s}: {v:.1%}'
                               for s, v in r['per_side'].items()),
                     f"{r['score_max_abs_diff']:.2e}"))
    print(markdown_table(
        ('weights', 'images', f'windows identical ({args.dtype} vs '
         'float32)', 'per region side', 'max score difference'), rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
