"""Benchmark the fused kernels on non-uniform grids against the same modules on uniform grids: forward + backward time.

A grid becomes non-uniform when knots are inserted (`refine_knots`, chapter 08's `insert_knots`) or a grid update
moves the knots to the data. Before the fused path for sorted knots, such a module fell to the dense Cox-de Boor path.
Compared, on the CPU with 2 threads, float32:
  - SplineActivation(64) on (64, 64, 28, 28): uniform grid (grid_size 5, cubic) vs the same grid with 3 knots inserted
    (one shared grid), vs 3 knots inserted at different places in every channel (per-channel grids), and the dense
    path on the shared uneven grid (what such a module used before);
  - KANConv2d(16, 32, 3, padding=1) on (64, 16, 28, 28): uniform vs 3 knots inserted, and the dense path.
Inserting knots adds basis functions (8 + 3 = 11 intervals in the base range), which costs a KAN convolution more work
on any path, so each module is also timed on a uniform grid of that size (grid_size 8): `ratio` compares the uneven
grid with the uniform grid of the same size, `ratio_to_original` with the grid it was refined from.
Each module is built once; inserting knots keeps its function (exact refinement). Time: interleaved runs, median over
repeats (the dense paths, much slower, after the others with fewer repeats); ratios from this run.

    python benchmarks/bench_nonuniform.py [--repeats 15] [--threads 2] [--isa native|avx2|scalar] [--json ckan_nb/results/nonuniform.json]
"""
import argparse, json, os, platform, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import steady_process, cpu_capability
steady_process()                                                    # before torch is imported
import torch, torch.nn as nn
from ckan_nb.activations import SplineActivation
from ckan_nb.conv import KANConv2d
from ckan_nb.bsplines import refine_knots
from ckan_nb.kernels import kernel_isa, ISAS
from _common import step, interleaved, median_ms, write_json

KNOTS = [-0.3, 0.1, 0.55]                                   # inside the base range (-1, 1): three uneven intervals

def with_knots(m, knots=KNOTS, backend=None):
    "Insert knots into module m's grid (exactly: the function is unchanged); a per-row tensor gives per-channel knots."
    with torch.no_grad():
        grid, coef = m.grid, m.coefficients
        if torch.is_tensor(knots) and knots.dim() == 2:             # per-channel: one grid per channel
            grid, coef = grid.expand(knots.shape[0], -1), coef
        new_grid, new_coef = refine_knots(grid, coef, knots, m.spline_order)
    m.grid, m.coefficients = new_grid.contiguous(), nn.Parameter(new_coef.contiguous())
    if backend: m.backend = backend
    return m

def build(C=64, cin=16, cout=32):
    torch.manual_seed(0)
    per_channel = (torch.rand(C, 3) * 1.8 - 0.9).sort(-1).values
    acts = {'SplineActivation, uniform grid': SplineActivation(C),
            'SplineActivation, uniform grid of the same size (grid_size 8)': SplineActivation(C, grid_size=8),
            'SplineActivation, 3 knots inserted': with_knots(SplineActivation(C)),
            'SplineActivation, per-channel knots inserted': with_knots(SplineActivation(C), per_channel),
            'SplineActivation, 3 knots inserted, dense path (before)': with_knots(SplineActivation(C), backend='dense')}
    convs = {'KANConv2d, uniform grid': KANConv2d(cin, cout, 3, padding=1),
             'KANConv2d, uniform grid of the same size (grid_size 8)': KANConv2d(cin, cout, 3, padding=1, grid_size=8),
             'KANConv2d, 3 knots inserted': with_knots(KANConv2d(cin, cout, 3, padding=1)),
             'KANConv2d, 3 knots inserted, dense path (before)': with_knots(KANConv2d(cin, cout, 3, padding=1), backend='dense')}
    return acts, convs

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--isa', choices=ISAS, default=None, help='build the kernels for this instruction set (sets CKAN_NB_ISA)')
    p.add_argument('--json', default=None)
    a = p.parse_args(argv)
    if a.isa: os.environ['CKAN_NB_ISA'] = a.isa                      # before the first kernel use
    torch.set_num_threads(a.threads)
    acts, convs = build()
    xa, ga = torch.randn(64, 64, 28, 28, requires_grad=True), torch.randn(64, 64, 28, 28)
    xc, gc = torch.randn(64, 16, 28, 28, requires_grad=True), torch.randn(64, 32, 28, 28)
    fns = {**{n: (lambda m=m: step(m, xa, ga)) for n, m in acts.items()}, **{n: (lambda m=m: step(m, xc, gc)) for n, m in convs.items()}}
    for f in fns.values(): f()                                                                   # warm-up
    dense = [n for n in fns if 'dense' in n]
    times = interleaved({n: f for n, f in fns.items() if n not in dense}, a.repeats)
    times |= interleaved({n: fns[n] for n in dense}, max(3, a.repeats // 5))
    med = median_ms({n: times[n] for n in fns})
    sized = {'SplineActivation': 'uniform grid of the same size (grid_size 8)', 'KANConv2d': 'uniform grid of the same size (grid_size 8)'}
    uneven = [n for n in fns if 'uniform grid' not in n]
    ratio = {n: med[n] / med[f"{n.split(',')[0]}, {sized[n.split(',')[0]]}"] for n in uneven}
    ratio_to_original = {n: med[n] / med[f"{n.split(',')[0]}, uniform grid"] for n in uneven}
    isa, cap = kernel_isa(), cpu_capability()
    print(f"torch {torch.__version__} ({cap} kernels), {a.threads} threads, {platform.machine()}, kernel ISA {isa}, float32, forward + backward, "
          f"median of {a.repeats} interleaved repeats ({max(3, a.repeats // 5)} for the dense paths)\n")
    print("| method | time (ms) | / uniform grid of the same size | / uniform grid it was refined from |\n|---|---:|---:|---:|")
    for n in fns: print(f"| {n} | {med[n]:.1f} | {ratio[n]:.2f}x | {ratio_to_original[n]:.2f}x |" if n in ratio else f"| {n} | {med[n]:.1f} | | |")
    if a.json: write_json(a.json, med, times, ratio=ratio, ratio_to_original=ratio_to_original, threads=a.threads, repeats=a.repeats, torch=torch.__version__, isa=isa, torch_cpu=cap)

if __name__ == '__main__': main()
