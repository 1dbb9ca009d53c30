"""Benchmark the B-spline engine: the naive per-element Python recursion, the vectorised Cox-de Boor
recursion (`bspline_basis`) and the uniform fast path (`uniform_bspline_basis`, `uniform_basis_local`).

All versions compute the full basis of the same inputs (cubic, grid_size=5, float32). Runs are
interleaved (each repeat times every method once, in turn) and the median over repeats is reported,
with ratios taken from that one run. The naive loop is timed on a small subset and scaled per input.

    python benchmarks/bench_bsplines.py [--n 1000000] [--repeats 15] [--threads 2] [--json out.json]
"""
import argparse, json, statistics, time, platform
import torch
from ckan_nb.bsplines import uniform_grid, bspline_basis, uniform_bspline_basis, uniform_basis_local, bspline_basis_naive

def timeit(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=1_000_000, help='inputs per call for the tensor versions')
    p.add_argument('--naive-n', type=int, default=2_000, help='inputs per call for the naive loop')
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--json', default=None, help='also write the results to this file')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    k, grid = 3, uniform_grid(5, 3)
    n_basis = grid.numel() - k - 1
    x = torch.rand(a.n) * 2.4 - 1.2
    xn = x[:a.naive_n].tolist(); knots = grid.tolist()
    methods = {
        'naive Python loop': (lambda: [[bspline_basis_naive(v, knots, i, k) for i in range(n_basis)] for v in xn], a.naive_n),
        'bspline_basis (Cox-de Boor, vectorised)': (lambda: bspline_basis(x, grid, k, check=False), a.n),
        'uniform_bspline_basis (dense, fast path)': (lambda: uniform_bspline_basis(x, grid, k), a.n),
        'uniform_basis_local (index + k+1 weights)': (lambda: uniform_basis_local(x, grid, k), a.n),
    }
    for f, _ in methods.values(): f()                                   # warm-up
    times = {name: [] for name in methods}
    for _ in range(a.repeats):
        for name, (f, n) in methods.items(): times[name].append(timeit(f) / n * 1e9)   # ns per input
    med = {name: statistics.median(v) for name, v in times.items()}
    base = med['naive Python loop']
    print(f"torch {torch.__version__}, {a.threads} threads, {platform.processor() or platform.machine()}, "
          f"cubic, grid_size=5, float32, {a.n:,} inputs ({a.naive_n:,} for the naive loop), median of {a.repeats} interleaved repeats\n")
    print(f"| method | ns per input | speed-up over the naive loop |\n|---|---:|---:|")
    for name, m in med.items(): print(f"| {name} | {m:,.1f} | {base / m:,.0f}x |")
    if a.json:
        cpu = torch.backends.cpu.get_cpu_capability()
        with open(a.json, 'w') as fh:
            json.dump({'median_ns_per_input': med, 'args': vars(a), 'torch': torch.__version__, 'machine': platform.machine(),
                       'cpu': f'{cpu} kernels'}, fh, indent=1)
    return med

if __name__ == '__main__': main()
