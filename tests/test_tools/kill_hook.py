"""Test helper: a hook that kills its own process with SIGKILL (kill -9)
before a given training iteration, as an out-of-memory killer or a
preempted node would: no hook, no handler, nothing saved."""
import os
import signal

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class KillProcessHook(Hook):

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)
