"""Benchmark learnable per-channel activations: forward + backward time and peak memory.

Compares, on one input (default (64, 64, 28, 28) float32, CPU, 2 threads):
  - the article's SplineActivation as the article has it (a Python loop over channels, linear interpolation);
  - SplineActivation on the plain PyTorch path (backend='torch');
  - SplineActivation on the fused CPU kernel (backend='kernel', what backend='auto' picks on CPU);
  - nn.SiLU and nn.PReLU(channels), the fixed activations it replaces.
Time: runs interleaved (each repeat times every method once, in turn), median over repeats, ratios from this run. The
two memory-hungry methods (the article's loop and the PyTorch path, hundreds of MB of temporaries) are interleaved with
each other after the others, so their allocations cannot change the others' timings (as in bench_conv.py).
Memory: each method in a fresh process: peak resident-set growth during one forward + backward with the input
and upstream gradient already allocated (Linux: VmHWM reset through /proc/self/clear_refs).

    python benchmarks/bench_activations.py [--repeats 21] [--threads 2] [--isa native|avx2|scalar] [--json ckan_nb/results/activations.json]

--isa sets CKAN_NB_ISA (appendix A3): which instruction set the kernel's fast path is built for; with avx2, PyTorch's own
kernels (nn.SiLU) are limited to AVX2 too (an emulated AVX2-only CPU, see _common.steady_process). The output states both.
"""
import argparse, json, os, platform, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import steady_process, cpu_capability
steady_process()                                                    # before torch is imported
import torch, torch.nn as nn
from ckan_nb.activations import SplineActivation, kernel_status
from ckan_nb.kernels import kernel_isa, ISAS
from _common import step, interleaved, median_ms, report_peak_growth, peak_growth_mib

class ArticleSplineActivation(nn.Module):
    "The article's sketch, as the article has it (formatting repaired)."
    def __init__(self, num_channels, grid_size=5, spline_order=3):
        super().__init__()
        self.grid_size, self.spline_order = grid_size, spline_order
        self.register_buffer('grid', torch.linspace(-1, 1, grid_size))
        self.coefficients = nn.Parameter(torch.randn(num_channels, grid_size + spline_order))
    def forward(self, x):
        batch_size, channels, height, width = x.shape
        x_flat = x.view(batch_size, channels, -1)
        activated = torch.zeros_like(x_flat)
        for c in range(channels):
            activated[:, c, :] = self.evaluate_spline(x_flat[:, c, :], self.coefficients[c])
        return activated.view(batch_size, channels, height, width)
    def evaluate_spline(self, x, coeffs): return self.de_boor_algorithm(x, coeffs)
    def de_boor_algorithm(self, x, coeffs):
        x_clamped = torch.clamp(x, -1, 1)
        grid_indices = torch.searchsorted(self.grid, x_clamped)
        grid_indices = torch.clamp(grid_indices, 1, len(self.grid) - 1)
        x0, x1 = self.grid[grid_indices - 1], self.grid[grid_indices]
        w1 = (x_clamped - x0) / (x1 - x0)
        w0 = 1 - w1
        return w0 * coeffs[grid_indices - 1] + w1 * coeffs[grid_indices]

METHODS = {
    "article's loop": lambda C: ArticleSplineActivation(C),
    'SplineActivation (torch)': lambda C: SplineActivation(C, backend='torch'),
    'SplineActivation (kernel, default)': lambda C: SplineActivation(C, backend='kernel'),
    'nn.SiLU': lambda C: nn.SiLU(),
    'nn.PReLU': lambda C: nn.PReLU(C),
}

def memory_child(name, shape, threads):
    "In a fresh process: peak RSS growth of one forward + backward, input and gradient already allocated."
    torch.set_num_threads(threads); torch.manual_seed(0)
    small = (torch.randn(2, shape[1], 4, 4, requires_grad=True), torch.randn(2, shape[1], 4, 4))
    report_peak_growth(METHODS[name](shape[1]), small, (torch.randn(shape, requires_grad=True), torch.randn(shape)))

def compile_seconds():
    "One-time cost of the fused kernel: compile it into an empty cache folder in a fresh process."
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        code = ("import time; t = time.perf_counter(); from ckan_nb.activations import kernel_status; "
                "assert kernel_status() == 'ready'; print(time.perf_counter() - t)")
        t_import = ("import time; t = time.perf_counter(); import ckan_nb.activations; print(time.perf_counter() - t)")
        env = {**os.environ, 'CKAN_NB_CACHE': tmp}
        run = lambda c: float(subprocess.run([sys.executable, '-c', c], env=env, capture_output=True, text=True, check=True).stdout)
        return run(code) - run(t_import)                  # compile + load, less the import both pay

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--shape', type=int, nargs=4, default=[64, 64, 28, 28])
    p.add_argument('--repeats', type=int, default=21)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--json', default=None)
    p.add_argument('--isa', choices=ISAS, default=None, help='build the kernel for this instruction set (sets CKAN_NB_ISA)')
    p.add_argument('--memory-child', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.isa: os.environ['CKAN_NB_ISA'] = a.isa                      # before the first kernel use; children inherit it
    if a.memory_child: return memory_child(a.memory_child, tuple(a.shape), a.threads)
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    assert kernel_status() == 'ready', kernel_status()
    load_s = compile_seconds()
    C = a.shape[1]
    x, g = torch.randn(a.shape, requires_grad=True), torch.randn(a.shape)
    mods = {name: make(C) for name, make in METHODS.items()}
    for m in mods.values(): step(m, x, g)                                                           # warm-up
    heavy = ("article's loop", 'SplineActivation (torch)')
    run = lambda name: (lambda m=mods[name]: step(m, x, g))
    times = interleaved({name: run(name) for name in mods if name not in heavy}, a.repeats)
    times |= interleaved({name: run(name) for name in heavy}, a.repeats)
    med = median_ms({name: times[name] for name in METHODS})
    mem = {name: peak_growth_mib(__file__, name, '--threads', str(a.threads), '--shape', *map(str, a.shape)) for name in METHODS}
    loop, silu, msilu = med["article's loop"], med['nn.SiLU'], mem['nn.SiLU']
    isa, cap = kernel_isa(), cpu_capability()
    print(f"torch {torch.__version__} ({cap} kernels), {a.threads} threads, {platform.machine()}, kernel ISA {isa}, input {tuple(a.shape)} float32, "
          f"forward + backward, median of {a.repeats} interleaved repeats; one-time kernel compile {load_s:.1f}s\n")
    print("| method | time (ms) | speed-up over the article's loop | time / nn.SiLU | peak memory (MiB) | memory / nn.SiLU |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in METHODS:
        print(f"| {name} | {med[name]:.1f} | {loop / med[name]:.1f}x | {med[name] / silu:.2f}x | {mem[name]:.0f} | {mem[name] / msilu:.1f}x |")
    if a.json:
        os.makedirs(os.path.dirname(a.json) or '.', exist_ok=True)
        with open(a.json, 'w') as fh:
            json.dump({'median_ms': med, 'peak_mib': mem, 'times_ms': {k: [t * 1e3 for t in v] for k, v in times.items()},
                       'shape': a.shape, 'threads': a.threads, 'repeats': a.repeats, 'torch': torch.__version__,
                       'kernel_compile_s': load_s, 'isa': isa, 'torch_cpu': cap}, fh, indent=1)

if __name__ == '__main__': main()
