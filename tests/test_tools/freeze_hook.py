"""Test helper: a hook that makes one rank stop responding (alive, asleep)
at a given iteration, after writing the time it froze to a file."""
import time

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class FreezeRankHook(Hook):

    def __init__(self, rank: int, at_iter: int, stamp_file: str):
        self.rank = rank
        self.at_iter = at_iter
        self.stamp_file = stamp_file

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if get_rank() == self.rank and runner.iter == self.at_iter:
            with open(self.stamp_file, 'w') as f:
                f.write(repr(time.time()))
            time.sleep(3600)
