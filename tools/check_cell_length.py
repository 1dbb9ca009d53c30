"""List the code cells a reader meets that are longer than about a screen: over 40 lines in a chapter's main flow.

    python tools/check_cell_length.py              # the chapters (nbs/[0-9]*.ipynb and index.ipynb); exit 1 if a cell is too long
    python tools/check_cell_length.py --all        # every notebook, appendices (nbs/A*.ipynb) included
    python tools/check_cell_length.py nbs/07_trainer.ipynb --max 40

A cell is left out when the reader does not see its code in the docs: it is hidden (`#| hide`, `#| include: false`,
`#| echo: false`) or folded (`#| code-fold: true`). Lines are the cell's source lines without its `#|` directives.
Appendix chapters may hold longer cells (their code is the subject), so they are checked only with --all.
"""
import argparse, json, re, sys
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent / 'nbs'
HIDDEN = {('hide', None), ('include', 'false'), ('echo', 'false'), ('code-fold', 'true')}

def directives(source:str)->set:
    "The cell's `#| key: value` directives as (key, value) pairs; a bare `#| key` gives (key, None)."
    out = set()
    for line in source.splitlines():
        m = re.match(r'\s*#\|\s*([\w-]+)\s*(?::\s*(.*?))?\s*$', line)
        if m: out.add((m.group(1), m.group(2).strip('"\'').lower() if m.group(2) else None))
    return out

def long_cells(path:Path, limit:int=40)->list:
    "(cell number, cell id, lines) of every visible code cell of `path` with more than `limit` lines."
    cells = json.loads(path.read_text())['cells']
    out = []
    for i, c in enumerate(cells):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or directives(src) & HIDDEN: continue
        n = sum(1 for l in src.splitlines() if not re.match(r'\s*#\|', l))
        if n > limit: out.append((i, c.get('id', '?'), n))
    return out

def main(argv=None)->int:
    p = argparse.ArgumentParser(prog='check_cell_length.py', description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='*', help='notebooks to check (default: the chapters, or every notebook with --all)')
    p.add_argument('--all', action='store_true', help='check the appendices (A*) too')
    p.add_argument('--max', type=int, default=40, help='longest visible code cell allowed, in lines (default: %(default)s)')
    a = p.parse_args(argv)
    if a.max < 1: p.error(f"--max must be >= 1, got {a.max}")
    paths = [Path(n) for n in a.notebooks] or sorted(q for q in NBS.glob('*.ipynb') if a.all or not q.name.startswith('A'))
    missing = [str(q) for q in paths if not q.is_file()]
    if missing: p.error(f"no such notebook: {missing[0]}")
    found = 0
    for q in paths:
        for i, cid, n in long_cells(q, a.max):
            print(f"{q.name}: cell {i} (id {cid}): {n} lines"); found += 1
    print(f"{found} visible code cell{'s' if found != 1 else ''} over {a.max} lines in {len(paths)} notebooks")
    return 1 if found else 0

if __name__ == '__main__': sys.exit(main())
