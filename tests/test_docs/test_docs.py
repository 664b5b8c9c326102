"""The documentation: docs/ builds with Sphinx with warnings as errors, the
relative links of README.md, docs/ and the config READMEs resolve (files,
folders and #anchors to headings), every ``configs/...`` path they name
exists, and README.md stays a short front door."""
import glob
import itertools
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt

from tests.helpers import REPO_ROOT as REPO
from tests.helpers import load_tool

DOCS = osp.join(REPO, 'docs')
README = osp.join(REPO, 'README.md')
README_MAX_LINES = 250

DOC_PAGES = sorted(
    p for p in glob.glob(osp.join(DOCS, '**', '*.md'), recursive=True)
    if not p.startswith(osp.join(DOCS, '_build') + os.sep))
CONFIG_READMES = sorted(
    glob.glob(osp.join(REPO, 'configs', '**', '*.md'), recursive=True))
MARKDOWN = [README] + DOC_PAGES + CONFIG_READMES

# Paths in the example of a comparison suite of one's own
# (docs/user_guides/compare_mixing.md): a user's project, not this one.
NOT_OURS = {
    'configs/deit-small_cutmix_flowers.py',
    'configs/deit-small_smmix_flowers.py',
    'configs/mine.py',
}

_md = MarkdownIt('commonmark').enable('table')


def _rel(path):
    return osp.relpath(path, REPO)


def _tokens(path):
    with open(path, encoding='utf-8') as f:
        return _md.parse(f.read())


def _slug(title):
    """GitHub's heading anchor (what MyST's ``myst_heading_anchors`` makes
    too): lower case, spaces to hyphens, other punctuation dropped."""
    return re.sub(r'[^\w\- ]', '', title.lower().replace(' ', '-'))


def heading_anchors(path):
    """The #anchors of a Markdown file's headings (repeats get -1, -2 ...)."""
    tokens, anchors = _tokens(path), set()
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type != 'heading_open':
            continue
        title = ''.join(child.content for child in inline.children or ()
                        if child.type in ('text', 'code_inline'))
        slug, n = _slug(title), 1
        anchor = slug
        while anchor in anchors:
            anchor, n = f'{slug}-{n}', n + 1
        anchors.add(anchor)
    return anchors


def relative_links(path):
    """Every link and image target of a Markdown file that is not a URL."""
    links = []
    for token in _tokens(path):
        for child in token.children or ():
            target = (child.attrGet('href') if child.type == 'link_open' else
                      child.attrGet('src') if child.type == 'image' else None)
            if target and not re.match(r'^[a-z][a-z0-9+.-]*:', target):
                links.append(target)
    return links


@pytest.mark.parametrize('path', MARKDOWN, ids=_rel)
def test_relative_links_resolve(path):
    broken = []
    for link in relative_links(path):
        target, _, anchor = link.partition('#')
        dest = osp.normpath(osp.join(osp.dirname(path), target)) \
            if target else path
        if not osp.exists(dest):
            broken.append(f'{link}: {_rel(dest)} does not exist')
        elif not (dest + os.sep).startswith(REPO + os.sep):
            broken.append(f'{link}: outside the repository')
        elif anchor and dest.endswith('.md') and \
                anchor not in heading_anchors(dest):
            broken.append(f'{link}: no heading #{anchor} in {_rel(dest)}')
    assert not broken, f'{_rel(path)}:\n  ' + '\n  '.join(broken)


_CONFIG_PATH = re.compile(r'(?<![\w./-])(?:configs/|mmsmmix::)[\w.{},*/-]*')
# MODEL, METHOD ... in a named path stand for any name (README does not)
_PLACEHOLDER = re.compile(
    r'(?<![A-Za-z0-9])(?!README)[A-Z]{3,}(?![A-Za-z0-9])')


def _expand_braces(pattern):
    """``a_{x,y}_b`` -> ``['a_x_b', 'a_y_b']`` (several groups: every
    combination)."""
    parts = re.split(r'\{([^{}]*)\}', pattern)
    choices = [[p] if i % 2 == 0 else p.split(',')
               for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def _config_link_texts(path):
    """Link texts of README.md and docs/ that name a config by its path
    under ``configs/`` (``[smmix/x.py](../configs/smmix/)``; in the config
    READMEs, link texts are relative to their own folder)."""
    configs, texts = osp.join(REPO, 'configs'), []
    if (path + os.sep).startswith(configs + os.sep):
        return texts
    for token in _tokens(path):
        children = token.children or []
        for i, child in enumerate(children):
            href = child.attrGet('href') if child.type == 'link_open' else None
            if not href or re.match(r'^[a-z][a-z0-9+.-]*:', href):
                continue
            dest = osp.normpath(osp.join(osp.dirname(path), href))
            if not (dest + os.sep).startswith(configs + os.sep):
                continue
            text = ''
            for inner in children[i + 1:]:
                if inner.type == 'link_close':
                    break
                text += inner.content
            if '/' in text and re.fullmatch(r'[\w.{},*/-]+', text) and \
                    not text.startswith(('configs/', '.')):
                texts.append('configs/' + text)
    return texts


def config_paths(path):
    """Every ``configs/...`` path and ``mmsmmix::`` base a file names (in
    its text, code blocks included, and as link texts relative to
    ``configs/``), as repository-relative patterns."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    paths = set(_config_link_texts(path))
    for named in _CONFIG_PATH.findall(text):
        if named.startswith('mmsmmix::'):
            named = 'configs/' + named[len('mmsmmix::'):]
        paths.add(named.rstrip('.,:;'))
    return sorted(paths)


@pytest.mark.parametrize('path', MARKDOWN, ids=_rel)
def test_named_config_paths_exist(path):
    missing = []
    for named in config_paths(path):
        if named in NOT_OURS:
            continue
        for pattern in _expand_braces(named):
            pattern = _PLACEHOLDER.sub('*', pattern)
            if not glob.glob(osp.join(REPO, pattern)):
                missing.append(f'{named}: nothing at {pattern}')
    assert not missing, f'{_rel(path)}:\n  ' + '\n  '.join(missing)


def test_readme_is_a_short_front_door():
    with open(README, encoding='utf-8') as f:
        lines = f.read().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f'README.md has {len(lines)} lines, the budget is '
        f'{README_MAX_LINES}: move the details into docs/')


@pytest.mark.slow  # a Sphinx build
def test_every_page_is_in_the_toctree_and_builds(tmp_path):
    """``make docs`` as a test: Sphinx, warnings as errors (a page outside
    every toctree, a broken cross-reference or anchor, a docstring that
    does not parse), into a temporary folder."""
    out = tmp_path / 'html'
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
         '-b', 'html', '-d', str(tmp_path / 'doctrees'), DOCS, str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f'sphinx-build failed ({result.returncode}):\n{result.stdout}\n'
        f'{result.stderr}')
    for page in DOC_PAGES:
        html = osp.splitext(osp.relpath(page, DOCS))[0] + '.html'
        assert (out / html).is_file(), html
    # The API pages document the registered classes from their docstrings.
    api = (out / 'api' / 'models.html').read_text(encoding='utf-8')
    for name in ('SMMix', 'MixImageClassifier', 'SMMixClsHead',
                 'DecoupledMixupLoss', 'PyramidVisionTransformerV1'):
        assert re.search(rf'id="mmsmmix\.models\.\w+\.{name}"', api), name


def test_docs_stay_out_of_the_package():
    """The sdist and the wheel take what MANIFEST.in and the wheel's
    sources name: neither reaches into docs/ (nor docs/_build)."""
    wheelhouse = load_tool(osp.join('tools', 'misc', 'wheelhouse.py'))
    assert 'docs' not in wheelhouse.SOURCES
    with open(osp.join(REPO, 'MANIFEST.in')) as f:
        assert 'docs' not in f.read()
