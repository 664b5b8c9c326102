"""Markdown tables for the reports the tools print and write."""
from typing import Optional, Sequence

_RULES = dict(l=':--', c=':-:', r='--:')


def markdown_table(header: Sequence[str],
                   rows: Sequence[Sequence[str]],
                   align: Optional[str] = None) -> str:
    """A Markdown table.

    Args:
        header (sequence[str]): Column titles.
        rows (sequence[sequence[str]]): Cells, one sequence per row.
        align (str, optional): One of ``'l'``, ``'c'``, ``'r'`` per column;
            default: the first column left, the others right.

    Returns:
        str: The table, lines joined by newlines.
    """
    align = align or 'l' + 'r' * (len(header) - 1)
    if len(align) != len(header) or set(align) - set(_RULES):
        raise ValueError(f'align must give l, c or r for each of the '
                         f'{len(header)} columns, got {align!r}')
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f'a row has {len(row)} cells for '
                             f'{len(header)} columns: {list(row)}')
    lines = ['| ' + ' | '.join(header) + ' |',
             '| ' + ' | '.join(_RULES[a] for a in align) + ' |']
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)
