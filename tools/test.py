"""Evaluate a checkpoint on a config's test set with the mmengine Runner.

Example:
    python tools/test.py CONFIG CHECKPOINT [--out results.pkl]
    bash tools/test.sh CONFIG CHECKPOINT GPUS
"""
import argparse

from runner_args import add_runner_args, load_config
from mmengine.runner import Runner

import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a classifier')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the per-sample predictions to this pickle file')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [
            *evaluators,
            dict(type='DumpResults', out_file_path=args.out)
        ]
    return Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
