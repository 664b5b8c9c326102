"""Sphinx configuration of the mmsmmix documentation (Markdown, MyST).

Build: ``make docs`` (``sphinx-build -W --keep-going -b html docs
docs/_build/html``). The API pages import the installed package: nothing is
mocked.
"""
import os
import os.path as osp
import sys

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

DOCS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(DOCS)
sys.path.insert(0, REPO)

from mmsmmix.version import __version__  # noqa: E402

project = 'mmsmmix'
author = 'mmsmmix contributors'
copyright = '2026, mmsmmix contributors'
version = release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
]
source_suffix = {'.md': 'markdown'}
exclude_patterns = ['_build']

myst_enable_extensions = ['dollarmath']
# GitHub-style anchors for headings down to ####, so that the same links
# work on GitHub and in the built pages.
myst_heading_anchors = 4

autodoc_member_order = 'bysource'
autodoc_typehints = 'none'  # the docstrings' Args say the types
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = 'furo'
html_title = f'mmsmmix {release}'

# Where links to files of the repository outside docs/ (configs, tools,
# tests) point in the built pages: a repository browser's URL
# (``MMSMMIX_REPO_URL=https://host/owner/repo``: ``URL/tree/HEAD/PATH``) or,
# by default, the files of this checkout, relative to the built page.
mmsmmix_repo_url = os.environ.get('MMSMMIX_REPO_URL', '').rstrip('/')

_outdir = {}


class RepositoryLinks(SphinxTransform):
    """Turn Markdown links to repository files outside ``docs/`` (which
    Sphinx cannot resolve as documents or downloads) into plain links.

    The same relative links then work on GitHub, in an editor and in the
    built HTML. A link whose target does not exist is left alone, so that
    Sphinx still warns about it.
    """
    default_priority = 5

    def apply(self, **kwargs):
        srcdir = str(self.env.srcdir)
        docname = self.env.docname
        here = osp.dirname(osp.join(srcdir, docname))
        for node in list(self.document.findall(addnodes.pending_xref)) + list(
                self.document.findall(addnodes.download_reference)):
            if node.get('reftype') != 'myst':
                continue
            target = node.get('reftarget', '')
            if not target or '://' in target:
                continue
            if isinstance(node, addnodes.pending_xref) and \
                    node.get('refdomain') == 'doc':
                # An .md file that MyST took for a document
                path = target if osp.isabs(target) else osp.join(
                    srcdir, target)
                path += '.md'
                anchor = node.get('reftargetid') or ''
            else:
                path, _, anchor = target.partition('#')
                path = osp.join(srcdir, path.lstrip('/')) \
                    if path.startswith('/') else osp.join(here, path)
            path = osp.normpath(path)
            inside_docs = path == srcdir or path.startswith(srcdir + os.sep)
            if inside_docs or not path.startswith(REPO + os.sep) or \
                    not osp.exists(path):
                continue
            rel = osp.relpath(path, REPO)
            if mmsmmix_repo_url:
                uri = f'{mmsmmix_repo_url}/tree/HEAD/{rel}'
            else:
                page = osp.join(_outdir.get('html', srcdir), docname)
                uri = osp.relpath(path, osp.dirname(page))
                if osp.isdir(path):
                    uri += '/'
            if anchor:
                uri += '#' + anchor
            link = nodes.reference('', '', *node.children, refuri=uri)
            node.replace_self(link)


def _remember_outdir(app):
    _outdir['html'] = str(app.outdir)


def setup(app):
    app.connect('builder-inited', _remember_outdir)
    app.add_transform(RepositoryLinks)
    return {'parallel_read_safe': True}
