"""Every public symbol (a module's `__all__`) has a docstring, a documentation entry, and an example that is a test.

    python tools/check_public_docs.py          (from the repository root, with the package importable)

- docstring: functions and classes have their own `__doc__` (constants are described in their chapter's prose);
- documentation entry: nbdev adds `show_doc` for every function and class defined in an `#| export` cell of the
  chapters that export the module (usually one; `#| export bsplines` in appendix A3 adds cells to chapter 01's module), so that is what is checked (an explicit `show_doc(name)` counts too);
- example that is a test: a code cell of that chapter that is not exported, uses the name, and asserts something
  (`test_*`, `assert`).
Lists what is missing and exits 1 if anything is, except the gaps in KNOWN_GAPS (which must shrink: an entry
that is no longer missing fails too, so the list is kept true).
"""
import ast, importlib, inspect, json, re, sys
from pathlib import Path

# Names allowed to lack an example for now (none: keep it that way).
KNOWN_GAPS = set()

def cells(nb_path):
    for c in json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']:
        if c['cell_type'] == 'code': yield ''.join(c['source'])

def is_export(s): return bool(re.match(r'\s*#\|\s*export\b', s))

def main():
    modidx = importlib.import_module('ckan_nb._modidx').d['syms']
    missing = []
    for mod_name in sorted(modidx):
        if mod_name in ('ckan_nb.all',): continue
        mod = importlib.import_module(mod_name)
        text = Path(mod.__file__).read_text(encoding='utf-8')
        m = re.search(r'File to edit: \.\./(nbs/\S+\.ipynb)', text)
        if not m: continue
        nb = Path(m.group(1))       # a module may take cells from several chapters (`#| export bsplines` in appendix A3)
        nbs = dict.fromkeys([nb, *(Path(p) for p in re.findall(r'^# %% \.\./(nbs/\S+\.ipynb)', text, re.M))])
        srcs = [s for n in nbs for s in cells(n)]
        defined = set()
        for s in srcs:
            if not is_export(s): continue
            for node in ast.parse('\n'.join(l for l in s.splitlines() if not l.lstrip().startswith(('%', '!')))).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)): defined.add(node.name)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            what = []
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (obj.__dict__.get('__doc__') if inspect.isclass(obj) else obj.__doc__):
                what.append('docstring')
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and name not in defined and not any(f'show_doc({name}' in s for s in srcs):
                what.append('show_doc entry')
            pat = re.compile(rf'(?<![\w.]){re.escape(name)}\b')
            if not any(not is_export(s) and pat.search(s) and re.search(r'\btest_\w+\(|\bassert\b', s) for s in srcs):
                what.append('example that is a test')
            if what: missing.append((f"{mod_name}.{name}", f"({nb.name}): no {', '.join(what)}"))
    known = [m for m in missing if m[0] in KNOWN_GAPS]
    new = [m for m in missing if m[0] not in KNOWN_GAPS]
    fixed = sorted(KNOWN_GAPS - {m[0] for m in missing})
    for n, why in known: print(f"known gap  {n} {why}")
    for n, why in new: print(f"MISSING    {n} {why}")
    for n in fixed: print(f"FIXED      {n}: remove it from KNOWN_GAPS")
    print(f"public symbols: {len(new)} with something missing, {len(known)} known gaps, {len(fixed)} known gaps fixed")
    return 1 if new or fixed else 0

if __name__ == '__main__': sys.exit(main())
