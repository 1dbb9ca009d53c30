"""Run every notebook's tests (what `nbdev_test` does), report each notebook, and end with the line
`N passed, N failed`. Exit status 1 if any notebook fails.

    python tools/run_tests.py [--flags "slow"] [--path nbs/01_bsplines.ipynb] [--workers 2] [--no-poison]
"""
import argparse, multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from nbdev.config import get_config
from nbdev.test import test_nb
from nbdev.doclinks import nbglob

def _fork_dataloader_workers(): multiprocessing.set_start_method('fork', force=True)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--path', default=None, help='a notebook or glob (default: all notebooks in nbs/)')
    p.add_argument('--flags', default='', help='space-separated test flags to run (e.g. "slow")')
    p.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument('--no-poison', action='store_true', help='leave new memory as glibc gives it (see below)')
    a = p.parse_args()
    if not a.no_poison:
        # Fresh memory is usually zeros here, so a tensor left as torch.empty gave it (or a kernel that skips a tail)
        # can pass every test and fail on another machine, as 01b did on CI's. glibc fills every allocation with a
        # byte pattern (MALLOC_PERTURB_; read at process start, so the spawned notebooks inherit it), and a high mmap
        # threshold takes large tensors from the heap too, where the pattern applies. The bytes are 0x7f: such a read
        # gives 3.4e38 in float32, which overflows to inf in any product, instead of a harmless 0.
        os.environ.setdefault('MALLOC_PERTURB_', '128'); os.environ.setdefault('MALLOC_MMAP_THRESHOLD_', str(1 << 30))
    cfg = get_config()
    files = sorted(f.absolute() for f in nbglob(a.path, as_path=True))
    files = [f for f in files if not f.name.startswith('_')]
    if not files: sys.exit('no notebooks found to test')
    os.chdir(cfg.nbs_path)
    t0 = time.perf_counter()
    run = partial(test_nb, skip_flags=cfg.tst_flags.split(), force_flags=a.flags.split(), basepath=cfg.config_path)
    # Every notebook in a fresh process, as in a fresh Jupyter kernel: nothing one notebook imported or set (Triton's
    # interpreter switch, say, which a process reads once) leaks into the next.
    # The pool spawns its processes (a fork could not be limited to one task); inside them, DataLoader workers fork again,
    # as they do under a Jupyter kernel (a notebook's own classes cannot be pickled into spawned workers).
    with ProcessPoolExecutor(max(1, a.workers), mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1,
                             initializer=_fork_dataloader_workers) as pool:
        res = list(pool.map(run, files))
    for f, (ok, secs) in zip(files, res): print(f"{'PASS' if ok else 'FAIL'}  {f.name}  ({secs:.1f}s)")
    npass = sum(ok for ok, _ in res)
    print(f"notebooks: {npass} passed, {len(files) - npass} failed in {time.perf_counter() - t0:.0f}s")
    sys.exit(0 if npass == len(files) else 1)

if __name__ == '__main__': main()
