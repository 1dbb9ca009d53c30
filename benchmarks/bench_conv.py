"""Benchmark KAN convolutions: forward + backward time and peak memory.

Input (64, 16, 28, 28) float32 -> 32 channels, 3x3, padding 1, grid_size 5, spline_order 3, CPU, 2 threads:
  - KANConv2d on the fused CPU kernel (what backend='auto' picks on the CPU), the same without its base branch
    (the spline part alone, the part the floor stands for), and on the plain PyTorch path;
  - the floor: nn.Conv2d over the already-expanded input (16 * (5 + 3) = 128 channels, input gradient included),
    i.e. the convolution a KAN convolution cannot avoid; and the floor of the default layer, whose base branch adds one
    channel per input (SiLU(x), 16 * 9 = 144 channels): each layer is compared with its own floor;
  - nn.Conv2d + SiLU at the same shape, the layer a KAN convolution replaces;
  - the per-patch formulation other implementations use: unfold every patch, expand every patch value, one matmul.
Time: interleaved runs, median over repeats, ratios from this run. The two memory-hungry methods (the PyTorch path
and the per-patch one) are timed after the others, because their large allocations change the allocator's state
(and so the page-fault cost) for whatever runs next. Memory: each method in a fresh process, peak
resident growth during one forward + backward, input and upstream gradient already allocated.

    python benchmarks/bench_conv.py [--repeats 15] [--threads 2] [--isa native|avx2|scalar] [--json ckan_nb/results/conv.json]

--isa sets CKAN_NB_ISA (appendix A3): which instruction set the kernels' fast paths are built for; with avx2, PyTorch's own
kernels (the convolutions) are limited to AVX2 too (an emulated AVX2-only CPU, see _common.steady_process). The output states both.
"""
import argparse, json, os, platform, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import steady_process, cpu_capability
steady_process()                                                    # before torch is imported
import torch, torch.nn as nn, torch.nn.functional as F
from ckan_nb.conv import KANConv2d
from ckan_nb.kernels import kernel_isa, ISAS
from ckan_nb.bsplines import uniform_grid, uniform_bspline_basis
from _common import step, interleaved, median_ms, report_peak_growth, peak_growth_mib

B, CIN, COUT, HW, G, K = 64, 16, 32, 28, 5, 3
NB = G + K

class UnfoldKANConv2d(nn.Module):
    "The per-patch formulation: unfold, evaluate the basis of every patch value, one matmul (3x3, padding 1)."
    def __init__(self):
        super().__init__()
        self.register_buffer('grid', uniform_grid(G, K))
        self.coefficients = nn.Parameter(torch.randn(COUT, CIN * 9 * NB) * 0.01)
        self.base_weight = nn.Parameter(torch.randn(COUT, CIN * 9) * 0.1)
    def forward(self, x):
        p = F.unfold(x, 3, padding=1).transpose(1, 2)                           # (batch, L, in * 9)
        basis = uniform_bspline_basis(p, self.grid, K).flatten(2)               # (batch, L, in * 9 * n_basis)
        y = basis @ self.coefficients.T + F.silu(p) @ self.base_weight.T        # (batch, L, out)
        return y.transpose(1, 2).reshape(x.shape[0], COUT, x.shape[2], x.shape[3])

class ConvSiLU(nn.Sequential):
    def __init__(self): super().__init__(nn.Conv2d(CIN, COUT, 3, padding=1), nn.SiLU())

METHODS = {  # name -> (module factory, input channels)
    'KANConv2d (kernel, default)': (lambda: KANConv2d(CIN, COUT, 3, padding=1, backend='kernel'), CIN),
    'KANConv2d, spline part only (base_activation=None)': (lambda: KANConv2d(CIN, COUT, 3, padding=1, base_activation=None), CIN),
    'KANConv2d (torch)': (lambda: KANConv2d(CIN, COUT, 3, padding=1, backend='torch'), CIN),
    'floor: nn.Conv2d over the expansion': (lambda: nn.Conv2d(CIN * NB, COUT, 3, padding=1, bias=False), CIN * NB),
    'floor with the base channel: nn.Conv2d over the expansion and SiLU(x)': (lambda: nn.Conv2d(CIN * (NB + 1), COUT, 3, padding=1, bias=False), CIN * (NB + 1)),
    'nn.Conv2d + SiLU': (ConvSiLU, CIN),
    'per-patch (unfold) KAN': (UnfoldKANConv2d, CIN),
}

def memory_child(name, threads):
    "In a fresh process: peak RSS growth of one forward + backward, input and gradient already allocated."
    torch.set_num_threads(threads); torch.manual_seed(0)
    make, cin = METHODS[name]
    small = (torch.randn(2, cin, 6, 6, requires_grad=True), torch.randn(2, COUT, 6, 6))
    report_peak_growth(make(), small, (torch.randn(B, cin, HW, HW, requires_grad=True), torch.randn(B, COUT, HW, HW)))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--json', default=None)
    p.add_argument('--isa', choices=ISAS, default=None, help='build the kernels for this instruction set (sets CKAN_NB_ISA)')
    p.add_argument('--memory-child', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.isa: os.environ['CKAN_NB_ISA'] = a.isa                      # before the first kernel use; memory children inherit it
    if a.memory_child: return memory_child(a.memory_child, a.threads)
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    mods = {name: make() for name, (make, _) in METHODS.items()}
    inputs = {cin: (torch.randn(B, cin, HW, HW, requires_grad=True)) for cin in {c for _, c in METHODS.values()}}
    g = torch.randn(B, COUT, HW, HW)
    for name, m in mods.items(): step(m, inputs[METHODS[name][1]], g)                           # warm-up
    # The two memory-hungry methods (hundreds of MB, 3 GB) change the allocator's state for whatever runs next, so
    # they are timed after the others: each group is interleaved within itself.
    heavy = {'KANConv2d (torch)': a.repeats, 'per-patch (unfold) KAN': max(3, a.repeats // 3)}
    run = lambda name: (lambda m=mods[name], x=inputs[METHODS[name][1]]: step(m, x, g))
    times = interleaved({name: run(name) for name in mods if name not in heavy}, a.repeats)
    for name, n in heavy.items(): times |= interleaved({name: run(name)}, n)
    med = median_ms({name: times[name] for name in METHODS})
    mem = {name: peak_growth_mib(__file__, name, '--threads', str(a.threads)) for name in METHODS}
    floor, mfloor = med['floor: nn.Conv2d over the expansion'], mem['floor: nn.Conv2d over the expansion']
    isa, cap = kernel_isa('basis_expansion'), cpu_capability()
    print(f"torch {torch.__version__} ({cap} kernels), {a.threads} threads, {platform.machine()}, kernel ISA {isa}, ({B}, {CIN}, {HW}, {HW}) -> {COUT} channels, 3x3, "
          f"padding 1, grid_size {G}, spline_order {K}, float32, forward + backward, median of {a.repeats} interleaved repeats\n")
    print("| method | time (ms) | time / floor | peak memory (MiB) | memory / floor |\n|---|---:|---:|---:|---:|")
    for name in METHODS: print(f"| {name} | {med[name]:.1f} | {med[name] / floor:.2f}x | {mem[name]:.0f} | {mem[name] / mfloor:.2f}x |")
    own = med['KANConv2d (kernel, default)'] / med['floor with the base channel: nn.Conv2d over the expansion and SiLU(x)']
    print(f"\neach layer against its own floor: KANConv2d (default) {own:.2f}x (144 channels), "
          f"spline part only {med['KANConv2d, spline part only (base_activation=None)'] / floor:.2f}x (128 channels)")
    if a.json:
        os.makedirs(os.path.dirname(a.json) or '.', exist_ok=True)
        with open(a.json, 'w') as fh:
            json.dump({'median_ms': med, 'peak_mib': mem, 'times_ms': {k: [t * 1e3 for t in v] for k, v in times.items()},
                       'threads': a.threads, 'repeats': a.repeats, 'torch': torch.__version__, 'isa': isa, 'torch_cpu': cap}, fh, indent=1)

if __name__ == '__main__': main()
