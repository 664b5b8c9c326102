"""What the tools run, above the registered components (nothing in the
package imports it, and ``import mmsmmix`` leaves it out):

- ``dry_run``: ``tools/train.py CONFIG --dry-run``: build the model and the
  data of a config, read one batch and run one training step of the
  configured method through mmengine's Runner, without writing a
  checkpoint, and summarise what a real run would train.
"""
from .dry_run import DryRun, ParamCount, dry_run

__all__ = ['DryRun', 'ParamCount', 'dry_run']
