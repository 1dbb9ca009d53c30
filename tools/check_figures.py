"""Every captioned figure is committed with its image: a code cell with a `#| fig-cap` must hold an image output
(PNG or SVG), or the rendered page shows a caption under nothing.

    python tools/check_figures.py                       # every notebook in nbs/ except EXEMPT; exit 1 if a figure is missing
    python tools/check_figures.py nbs/00_kolmogorov_arnold.ipynb

Record a notebook's outputs with `python tools/record_outputs.py nbs/NAME.ipynb`.
"""
import argparse, json, re, sys
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent / 'nbs'

# Chapters being rewritten by other issues; their figures are checked once they land. Empty this list then.
EXEMPT = {
}

IMAGE_TYPES = ('image/png', 'image/svg+xml', 'image/jpeg')

def missing_figures(path:Path)->list:
    "(cell number, cell id) of each code cell of `path` that has a `#| fig-cap` but no image output."
    out = []
    for i, c in enumerate(json.loads(path.read_text(encoding='utf-8'))['cells']):
        if c['cell_type'] != 'code' or not re.search(r'^\s*#\|\s*fig-cap\s*:', ''.join(c['source']), re.M): continue
        if not any(t in o.get('data', {}) for o in c.get('outputs', []) for t in IMAGE_TYPES): out.append((i, c.get('id', '?')))
    return out

def main(argv=None)->int:
    p = argparse.ArgumentParser(prog='check_figures.py', description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='*', help='notebooks to check (default: every notebook in nbs/ but the exempt ones)')
    a = p.parse_args(argv)
    paths = [Path(n) for n in a.notebooks] or sorted(q for q in NBS.glob('*.ipynb') if q.name not in EXEMPT)
    bad = [(q, i, cid) for q in paths for i, cid in missing_figures(q)]
    for q, i, cid in bad: print(f"{q.name}: cell {i} (id {cid}) has a fig-cap but no image output")
    print(f"captioned figures without an image: {len(bad)} in {len(paths)} notebooks"
          + (f" (exempt: {', '.join(sorted(EXEMPT))})" if not a.notebooks else ''))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
