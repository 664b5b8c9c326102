"""Each method's config of the Fashion-MNIST comparison suite trains a
few iterations through tools/train.py on real Fashion-MNIST (the Runner in
a process of its own); SMMix's is trained in test_train_test_resume.py."""
import os.path as osp
import re

import pytest

from mmsmmix.benchmarks.comparison import load_suite
from tests.tool_process import SMALL, run_tool

SUITE = load_suite('fashion_mnist')


@pytest.mark.slow
@pytest.mark.parametrize('name',
                         [m for m in SUITE.methods if m != 'smmix'])
def test_method_trains_through_the_runner(fmnist_root, tmp_path, name):
    config = SUITE.methods[name].config
    output = run_tool('train.py', config, '--work-dir', str(tmp_path),
                      '--cfg-options', 'train_cfg.max_epochs=1', *SMALL)
    assert 'Epoch(train) [1][10/10]' in output
    assert 'accuracy/top1' in output
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    # Every named loss of the method is logged, finite.
    names = {'rankmixup': ('loss', 'loss_rank'),
             'smmix_dm': ('loss', 'loss_cls', 'loss_fine', 'loss_con')}
    for key in names.get(name, ('loss', )):
        values = re.findall(rf'\b{key}: (\S+)', output)
        assert values and all(float(v) == float(v) for v in values), key
