"""Evaluate a checkpoint on a config's test set with the mmengine Runner.

Example:
    python tools/test.py CONFIG CHECKPOINT [--out results.pkl]
    python tools/test.py CONFIG CHECKPOINT --occlusion 0,0.25,0.5 \
        [--occlusion-mode attention] [--occlusion-grid N]
    python tools/test.py CONFIG CHECKPOINT --corruption all --severity 3
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS
    mim test mmsmmix CONFIG --checkpoint CHECKPOINT
    mmsmmix-test CONFIG CHECKPOINT   # the installed console script
"""
import argparse

from mmsmmix_cli import add_robustness_args, add_runner_args, prog_name, run


def build_parser() -> argparse.ArgumentParser:
    """The arguments (nothing heavy is imported before they are read)."""
    parser = argparse.ArgumentParser(
        prog=prog_name('tools/test.py'), description='Test a classifier')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the per-sample predictions to this pickle file')
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help='load only the weights that fit the model (a warning lists '
        'the rest) instead of refusing a checkpoint of another model')
    add_runner_args(parser)
    add_robustness_args(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    from mmsmmix.evaluation.robustness import check_robustness_args
    check_robustness_args(parser, args)
    return args


def test(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
    from mmsmmix.evaluation.robustness import (apply_robustness,
                                               report_robustness)
    from mmsmmix.utils import (check_checkpoint_file, finish_distributed,
                               load_weights)
    from mmsmmix.utils.runner_args import load_config
    cfg = load_config(args, ('test_dataloader', ))
    # read once, before the Runner prints anything
    checkpoint = check_checkpoint_file(args.checkpoint)
    robustness = apply_robustness(cfg, args)
    cfg.load_from = None
    if args.out:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [
            *evaluators,
            dict(type='DumpResults', out_file_path=args.out)
        ]
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    load_weights(model, args.checkpoint, args.allow_partial, runner.logger,
                 checkpoint=checkpoint)
    runner.logger.info(f'Loaded weights from {args.checkpoint}')
    metrics = runner.test()
    if robustness:
        report_robustness(robustness, runner.test_loop, runner.work_dir, args)
    finish_distributed()
    return metrics


def main(argv=None) -> dict:
    """``test(argv)``; a user's mistake exits 2 in one line."""
    return run(test, argv, prog='tools/test.py')


if __name__ == '__main__':
    main()
