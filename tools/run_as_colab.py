"""Run chapters as Colab would: each notebook, copied away from the repository, top to bottom in a fresh IPython
shell (execnb, as nbdev does), with whatever ckan_nb the running python has installed.

    python run_as_colab.py 02_spline_activation.ipynb 05_models.ipynb    (from a folder outside the checkout)

Unlike `nbdev_test` it also runs the install cell and the closing `nbdev_export()` cell, which a reader runs too;
only cells marked with the test flags of settings.ini (`#| slow`, `#| notest`: long runs) are skipped.
Prints one line per notebook and exits 1 if any fails.
"""
import os, re, sys, time
from pathlib import Path
os.environ.setdefault('MPLBACKEND', 'Agg')
from execnb.nbio import read_nb
from execnb.shell import CaptureShell

SKIP = {'slow', 'notest'}

def skipped(cell)->bool:
    "True for cells a Colab-style run leaves out: markdown, and cells flagged `#| slow` / `#| notest`."
    if cell.cell_type != 'code': return True
    flags = {w for l in cell.source.splitlines() if (m := re.match(r'\s*#\|\s*(.*)', l)) for w in m.group(1).split()}
    return bool(flags & SKIP)

def run(path:Path)->bool:
    for d in path.resolve().parents:
        if (d / 'settings.ini').exists() and (d / 'ckan_nb').is_dir(): sys.exit(f"{path} is inside the checkout {d}: copy it out first")
    nb = read_nb(path)
    sh = CaptureShell(path)
    t0, cwd = time.perf_counter(), os.getcwd()
    try:
        os.chdir(path.parent)
        sh.run_all(nb, exc_stop=True, preproc=skipped)
        ok = True
    except Exception:
        sys.stderr.write(sh.prettytb(fname=path) + '\n'); ok = False
    finally: os.chdir(cwd)
    print(f"{'PASS' if ok else 'FAIL'}  {path.name} as in Colab ({time.perf_counter() - t0:.1f}s)", flush=True)
    return ok

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    import ckan_nb
    if (Path(ckan_nb.__file__).resolve().parent.parent / 'settings.ini').exists():
        sys.exit(f"ckan_nb is imported from a checkout ({ckan_nb.__file__}), not from an installed package")
    print(f"ckan_nb {ckan_nb.__version__} from {Path(ckan_nb.__file__).parent}", flush=True)
    res = [run(Path(p)) for p in sys.argv[1:]]
    sys.exit(0 if all(res) else 1)
