"""Run notebooks top to bottom and save their outputs into them, so the docs and README show what the code printed.

    python tools/record_outputs.py nbs/09_benchmark.ipynb nbs/index.ipynb [--slow]

Cells run in the notebook's folder in one IPython shell (execnb, as nbdev does). Cells flagged `#| slow` or
`#| notest` keep the outputs they have (a real run's, recorded when it was made) unless --slow is given; the closing
`nbdev_export()` cell is not run. Stops at the first failing cell and leaves that notebook unchanged.
"""
import argparse, os, re, sys, time
from pathlib import Path
os.environ.setdefault('MPLBACKEND', 'Agg')
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def flags(cell)->set:
    return {w for l in cell.source.splitlines() if (m := re.match(r'\s*#\|\s*(.*)', l)) for w in m.group(1).split()}

def record(path:Path, slow:bool)->bool:
    nb, sh, cwd, t0 = read_nb(path), CaptureShell(path), os.getcwd(), time.perf_counter()
    skip = lambda c: c.cell_type != 'code' or 'nbdev_export(' in c.source or (not slow and flags(c) & {'slow', 'notest'})
    try:
        os.chdir(path.parent)
        sh.run_all(nb, exc_stop=True, preproc=skip)
    except Exception:
        sys.stderr.write(sh.prettytb(fname=path) + '\n'); return False
    finally: os.chdir(cwd)
    write_nb(nb, path)
    print(f"recorded {path} ({time.perf_counter() - t0:.0f}s)", flush=True)
    return True

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--slow', action='store_true', help='also run (and record) #| slow and #| notest cells')
    a = p.parse_args()
    if len(a.notebooks) > 1:   # one process per notebook, as a fresh kernel: a second IPython shell in one process shares
        # `__main__` with the first, and torch.compile's guards then look up the second notebook's names in the first's
        import subprocess
        rcs = [subprocess.run([sys.executable, __file__, n, *(['--slow'] if a.slow else [])]).returncode for n in a.notebooks]
        sys.exit(0 if not any(rcs) else 1)
    sys.exit(0 if record(Path(a.notebooks[0]).resolve(), a.slow) else 1)
