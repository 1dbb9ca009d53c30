"""Run every notebook's tests the nbdev way -- `nbdev_test`'s own runner: nbdev's `test_nb` in fastcore's `parallel`
pool of worker processes, each reused for several notebooks -- report each notebook, and end with the line
`notebooks: N passed, N failed`. Exit status 1 if any notebook fails.

    python tools/run_tests.py [--flags "slow"] [--path nbs/01_bsplines.ipynb ...] [--workers 2] [--no-poison]
                              [--record-times benchmarks/results/notebook_times.json]

It makes the same calls as `nbdev_test` (the notebooks `nbglob` finds, minus those beside a `.notest` file; the
`tst_flags` of settings.ini skipped unless --flags names them; the same workers, pause and start method), so a notebook
that passes here passes under plain `nbdev_test`; it adds the per-notebook lines, the summary line CI counts, and
poisoned fresh memory (below). --record-times merges each notebook's test time into a JSON file (the index reads it).
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

_POISON = {'MALLOC_PERTURB_': '128', 'MALLOC_MMAP_THRESHOLD_': str(1 << 30)}

def poison_and_reexec(argv):
    # Fresh memory is usually zeros here, so a tensor left as torch.empty gave it (or a kernel that skips a tail) can pass
    # every test and fail on another machine, as the spline-module core did on CI's. glibc fills every allocation with a
    # byte pattern (MALLOC_PERTURB_), and a high mmap threshold takes large tensors from the heap too, where the pattern
    # applies. The bytes are 0x7f: such a read gives 3.4e38 in float32, which overflows to inf in any product, instead of a
    # harmless 0. glibc reads these variables when a process starts, and nbdev's workers are forked from this process, so
    # they must be set before it starts: set them and start again.
    if all(os.environ.get(k) for k in _POISON): return
    for k, v in _POISON.items(): os.environ.setdefault(k, v)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *argv])

def notebooks(paths=None):
    "The notebooks `nbdev_test` would test for each of `paths` (notebooks or folders; default: the nbs folder), sorted."
    from nbdev.doclinks import nbglob
    from nbdev.test import _keep_file
    found = {f.absolute() for p in (paths or [None]) for f in nbglob(p, as_path=True)}
    return [f for f in sorted(found) if _keep_file(f, '.notest')]

def default_workers(files)->int:
    "nbdev_test's default: 0 (in this process) for one notebook, else min(cpus, 8)."
    from fastcore.basics import num_cpus
    return 0 if len(files) == 1 else min(num_cpus(), 8)

def run(files, flags:str='', workers=None):
    "`nbdev_test`'s run of `files`: [(passed, seconds)] per notebook, in order."
    from fastcore.parallel import parallel
    from fastcore.foundation import working_directory
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cfg = get_config()
    if workers is None: workers = default_workers(files)
    nbs = cfg.nbs_path
    try:
        with working_directory(nbs if (nbs and nbs.exists()) else os.getcwd()):
            return list(parallel(test_nb, files, skip_flags=cfg.tst_flags.split(), force_flags=flags.split(), n_workers=workers,
                                 basepath=cfg.config_path, pause=0.01))
    except Exception as e:                       # a worker that died (a crash in native code) breaks the whole pool
        print(f"the test pool failed: {type(e).__name__}: {e}", file=sys.stderr)
        return [(False, 0.)] * len(files)

def record_times(path:Path, files, results, flags:str, workers:int=1):
    "Merge each notebook's test time into the JSON file at `path` (one entry per notebook, with the machine it ran on)."
    data = json.loads(path.read_text()) if path.exists() else {}
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    for f, (ok, secs) in zip(files, results):
        if not ok: continue
        data[f.stem] = dict(seconds=round(secs, 1), flags=flags, date=time.strftime('%Y-%m-%d'), cpus=os.cpu_count(),
                            machine=platform.machine(), workers=workers, load_at_end=None if load is None else round(load, 1))
    path.write_text(json.dumps(dict(sorted(data.items())), indent=1) + '\n')

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--path', nargs='+', default=None, help='notebooks or folders (default: all notebooks in nbs/)')
    p.add_argument('--flags', default='', help='space-separated test flags to run (e.g. "slow")')
    p.add_argument('--workers', type=int, default=None, help="worker processes (default: nbdev_test's, min(cpus, 8); 0: run here)")
    p.add_argument('--no-poison', action='store_true', help='leave new memory as glibc gives it')
    p.add_argument('--record-times', default=None, help='merge the passing notebooks\' test times into this JSON file')
    a = p.parse_args(argv)
    if not a.no_poison: poison_and_reexec(argv)
    files = notebooks(a.path)
    if not files: sys.exit('no notebooks found to test')
    t0 = time.perf_counter()
    workers = a.workers if a.workers is not None else default_workers(files)
    res = run(files, a.flags, workers)
    for f, (ok, secs) in zip(files, res): print(f"{'PASS' if ok else 'FAIL'}  {f.name}  ({secs:.1f}s)")
    if a.record_times: record_times(Path(a.record_times), files, res, a.flags, max(workers, 1))
    npass = sum(ok for ok, _ in res)
    print(f"notebooks: {npass} passed, {len(files) - npass} failed in {time.perf_counter() - t0:.0f}s")
    sys.exit(0 if npass == len(files) else 1)

if __name__ == '__main__': main()
