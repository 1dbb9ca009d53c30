"""A reader who copies a chapter's visible code must not meet a NameError: every name that the visible cells of a
notebook use has to be defined by its visible cells (or exported ones, which the docs show too).

    python tools/check_visible_names.py [nbs/02_spline_activation.ipynb ...]    (default: every chapter)

Joins each notebook's visible code cells (not `#| hide`) into one file and runs ruff's undefined-name rule (F821)
on it. The test helpers (`fastcore.test`) and `show_doc` are allowed: their import stays hidden on purpose, and
the docs hide the cells that only call `show_doc`. Exits 1 and lists the names when any is undefined.
"""
import json, re, subprocess, sys
from pathlib import Path
import fastcore.test, nbdev.showdoc

ALLOWED = sorted({*fastcore.test.__all__, *nbdev.showdoc.__all__, 'display', 'get_ipython'})

def visible_code(path:Path)->str:
    "The visible code cells of the notebook at `path`, joined, with directives and IPython magics removed."
    out = []
    for c in json.loads(path.read_text(encoding='utf-8'))['cells']:
        if c['cell_type'] != 'code': continue
        lines = ''.join(c['source']).splitlines()
        if any(re.match(r'#\|\s*hide\b', l) for l in lines): continue
        out.append('\n'.join(l for l in lines if not re.match(r'\s*(#\||%|!)', l)))
    return '\n\n'.join(out) + '\n'

def main(paths):
    paths = [Path(p) for p in paths] or sorted(Path('nbs').glob('[0-9]*.ipynb')) + [Path('nbs/index.ipynb')]
    cfg = f"builtins = {json.dumps(ALLOWED)}"
    bad = 0
    for p in paths:
        r = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--select', 'F821', '--output-format', 'concise', '--no-cache',
                            '--config', cfg, '--stdin-filename', f'{p.stem}.py', '-'], input=visible_code(p), capture_output=True, text=True)
        names = sorted(set(re.findall(r'Undefined name `([^`]+)`', r.stdout)))
        if r.returncode not in (0, 1): print(r.stderr[:2000]); return 2
        elif names: bad += 1; print(f"{p}: visible cells use names that only hidden cells define: {', '.join(names)}")
    print(f"visible names: {len(paths) - bad} notebooks clean, {bad} with undefined names")
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
