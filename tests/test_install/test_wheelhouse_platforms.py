"""The wheelhouse's target platforms: pip matches ``--platform``
tags exactly, so a manylinux target must list every older glibc it runs
(numpy 2.3 ships manylinux_2_28 wheels only, matplotlib 3.11
manylinux2014 ones)."""
import os.path as osp

from tests.helpers import REPO_ROOT, load_tool


def _wheelhouse():
    return load_tool(osp.join(REPO_ROOT, 'tools', 'misc', 'wheelhouse.py'))


def test_manylinux_targets_include_every_older_glibc():
    tags = _wheelhouse().platform_tags('manylinux_2_28_x86_64')
    # 2_28 down to 2_5 (24 tags), then the three legacy names.
    assert tags[:2] == ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64']
    assert len(tags) == 24 + 3
    assert tags[23] == 'manylinux_2_5_x86_64'
    assert tags[24:] == ['manylinux2014_x86_64', 'manylinux2010_x86_64',
                         'manylinux1_x86_64']


def test_legacy_names_and_other_platforms():
    platform_tags = _wheelhouse().platform_tags
    tags = platform_tags('manylinux2010_aarch64')  # glibc 2.12
    assert tags[0] == 'manylinux_2_12_aarch64' and len(tags) == 8 + 2
    assert tags[-2:] == ['manylinux2010_aarch64', 'manylinux1_aarch64']
    assert platform_tags('macosx_11_0_arm64') == ['macosx_11_0_arm64']
    assert platform_tags('win_amd64') == ['win_amd64']
