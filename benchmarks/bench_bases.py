"""Benchmark KAN convolutions of every basis against torch-conv-kan's layers: forward + backward time and peak memory.

Input (64, 16, 28, 28) float32 -> 32 channels, 3x3, padding 1, CPU, 2 threads, side by side in one run:
  - KANConv2d with basis='gram' (degree 3), without and with an InstanceNorm after it (norm='instance'), and with the
    other bases: Legendre and Chebyshev (degree 3), RBF (grid_size 7: FastKAN's 8 centres), B-splines (the default,
    on its fused CPU kernel);
  - torch-conv-kan's KAGNConv2DLayer (degree 3) as it comes (InstanceNorm, then SiLU) and with its normalisation
    replaced by nn.Identity; and its KALN and KACN layers (degree 3). They are loaded BY PATH from a snapshot of
    https://github.com/IvanDrokin/torch-conv-kan (not on PyPI, not part of this project) given with --tck; without it
    those methods are skipped, and the script says so. Their `gram_poly` / `compute_legendre_polynomials` are wrapped
    in `functools.lru_cache` on the method: the cache keeps up to 128 results (with their autograd graphs) alive across
    calls, so it is cleared after every step here, and torch-conv-kan's memory is measured for one step;
  - the floor: nn.Conv2d over the Gram layer's expanded input (16 * 4 channels: p_1..p_3 and SiLU, p_0 being added
    apart), input gradient included -- the convolution the layer cannot avoid, what a fused kernel would still pay;
  - a check that KAGN's Gram polynomials are `GramBasis`'s, for the same recurrence weights.
Time: interleaved rounds, the median over --repeats rounds (and the minimum, which a loaded machine disturbs least).
Memory: each method in a fresh process, peak resident growth during one forward + backward, input and upstream gradient
already allocated; and the bytes autograd saves for the backward (saved-tensor hooks, storages counted once).
Split: where the Gram layer's time goes on the PyTorch path (expansion, convolution forward, convolution backward,
the basis's backward), to say what a fused kernel for the polynomial bases could save.
The machine's load average is recorded before and after: the timings of a loaded machine are noisy; rerun on a quiet one.

    python benchmarks/bench_bases.py --tck /path/to/torch-conv-kan [--repeats 15] [--threads 2] [--json ckan_nb/results/bases.json]
"""
import argparse, functools, hashlib, importlib.util, json, os, platform, statistics, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import steady_process, cpu_capability
steady_process()                                                    # before torch is imported
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ckan_nb.conv import KANConv2d
from ckan_nb.bases import GramBasis, expand, basis_channels
from ckan_nb.kernels import kernel_isa
from _common import step, interleaved, report_peak_growth, peak_growth_mib

B, CIN, COUT, HW, DEGREE = 64, 16, 32, 28, 3

def load_tck(root:str, name:str):
    "A module of torch-conv-kan's kan_convs/ loaded by path (nothing installed, nothing imported from the project), and its file's SHA-256."
    path = os.path.join(root, 'kan_convs', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tck_{name}', path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod, hashlib.sha256(open(path, 'rb').read()).hexdigest()

def methods(tck:str|None)->dict:
    "name -> module factory; torch-conv-kan's only with a snapshot."
    ours = {
        'KANConv2d gram': lambda: KANConv2d(CIN, COUT, 3, padding=1, basis='gram', degree=DEGREE),
        'KANConv2d gram, norm=instance': lambda: KANConv2d(CIN, COUT, 3, padding=1, basis='gram', degree=DEGREE, norm='instance'),
        'KANConv2d legendre': lambda: KANConv2d(CIN, COUT, 3, padding=1, basis='legendre', degree=DEGREE),
        'KANConv2d chebyshev': lambda: KANConv2d(CIN, COUT, 3, padding=1, basis='chebyshev', degree=DEGREE),
        'KANConv2d rbf (grid_size 7)': lambda: KANConv2d(CIN, COUT, 3, padding=1, basis='rbf', grid_size=7, grid_range=(-2, 2)),
        'KANConv2d bspline (default, fused kernel)': lambda: KANConv2d(CIN, COUT, 3, padding=1),
    }
    ours['floor: nn.Conv2d over the Gram expansion'] = lambda: nn.Conv2d(CIN * (DEGREE + 1), COUT, 3, padding=1, bias=False)
    if not tck: return ours
    kagn, kaln, kacn = (load_tck(tck, n)[0] for n in ('kagn_conv', 'kaln_conv', 'kacn_conv'))
    return ours | {
        'tck KAGN (InstanceNorm + SiLU)': lambda: kagn.KAGNConv2DLayer(CIN, COUT, 3, degree=DEGREE, padding=1),
        'tck KAGN, no norm': lambda: kagn.KAGNConv2DLayer(CIN, COUT, 3, degree=DEGREE, padding=1, norm_layer=nn.Identity),
        'tck KALN (InstanceNorm + SiLU)': lambda: kaln.KALNConv2DLayer(CIN, COUT, 3, degree=DEGREE, padding=1),
        'tck KACN (InstanceNorm)': lambda: kacn.KACNConv2DLayer(CIN, COUT, 3, degree=DEGREE, padding=1),
    }

def clear_caches(m):
    "torch-conv-kan's lru_cache on its polynomial methods keeps results alive across calls: clear it after each step."
    for name in ('gram_poly', 'compute_legendre_polynomials'):
        f = getattr(type(m), name, None)
        if hasattr(f, 'cache_clear'): f.cache_clear()

def saved_bytes(m, x, g)->int:
    "Bytes of the tensors autograd keeps between this forward and its backward (each storage once)."
    seen = {}
    def pack(t):
        s = t.untyped_storage(); seen[s.data_ptr()] = s.nbytes(); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): y = m(x)
    y.backward(g); x.grad = None; clear_caches(m)
    for p in m.parameters(): p.grad = None
    return sum(seen.values()) - x.untyped_storage().nbytes() * (x.untyped_storage().data_ptr() in seen)   # the input is not the layer's

def memory_child(name, threads, tck):
    torch.set_num_threads(threads); torch.manual_seed(0)
    m = methods(tck)[name]()
    cin = _in_channels(name)
    small = (torch.randn(2, cin, 6, 6, requires_grad=True), torch.randn(2, COUT, 6, 6))
    report_peak_growth(m, small, (torch.randn(B, cin, HW, HW, requires_grad=True), torch.randn(B, COUT, HW, HW)))

def _in_channels(name:str)->int: return CIN * (DEGREE + 1) if name.startswith('floor') else CIN

def gram_split(repeats:int)->dict:
    "Median ms of the pieces of KANConv2d(basis='gram')'s forward + backward on the PyTorch path."
    torch.manual_seed(0)
    m = KANConv2d(CIN, COUT, 3, padding=1, basis='gram', degree=DEGREE)
    x, gy = torch.randn(B, CIN, HW, HW), torch.randn(B, COUT, HW, HW)
    w = torch.cat([m.coefficients.movedim(-1, 2), m.base_weight.unsqueeze(2)], 2).flatten(1, 2).detach()
    bw, w = m.basis_weights.detach(), w.unflatten(1, (CIN, -1))[:, :, 1:].flatten(1, 2)      # p_0 is added apart
    e = basis_channels(x, m.basis, m.grid, bw, True, skip_first=True)
    ge, values = torch.randn_like(e), m.basis.values(x, m.grid, bw)
    def vjp():
        g = ge.unflatten(1, (CIN, -1)).unbind(2)
        gx, _ = m.basis.vjp(x, m.grid, bw, [None, *g[:-1]], True, values)
        gx.add_(torch.ops.aten.silu_backward(g[-1], x))
    pieces = {'expansion (forward, and again in the backward)': lambda: basis_channels(x, m.basis, m.grid, bw, True, skip_first=True),
              'convolution forward': lambda: F.conv2d(e, w, None, 1, 1),
              'convolution backward (input and weight gradients)': lambda: torch.ops.aten.convolution_backward(
                  gy, e, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, True, False]),
              "the basis's backward (vjp) and SiLU's": vjp}
    with torch.no_grad():
        for f in pieces.values(): f()
        times = interleaved(pieces, repeats)
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tck', default=None, help='path of a torch-conv-kan snapshot (the folder that holds kan_convs/)')
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--json', default=None)
    p.add_argument('--memory-child', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.tck and not os.path.isfile(os.path.join(a.tck, 'kan_convs', 'kagn_conv.py')):
        print(f"no torch-conv-kan snapshot at {a.tck} (kan_convs/kagn_conv.py missing): its layers are skipped"); a.tck = None
    if a.memory_child: return memory_child(a.memory_child, a.threads, a.tck)
    if not a.tck: print("torch-conv-kan not given (--tck PATH): only this library's layers are measured")
    load_before = os.getloadavg()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    make = methods(a.tck)
    mods = {name: f() for name, f in make.items()}
    x, g = torch.randn(B, CIN, HW, HW, requires_grad=True), torch.randn(B, COUT, HW, HW)
    xs = {CIN: x, CIN * (DEGREE + 1): torch.randn(B, CIN * (DEGREE + 1), HW, HW, requires_grad=True)}
    check = None
    if a.tck:                      # KAGN's Gram polynomials are GramBasis's, for the same weights w_1 .. w_{d-1}
        kagn = mods['tck KAGN (InstanceNorm + SiLU)']
        with torch.no_grad():
            u = torch.tanh(x[:4])
            theirs = kagn.gram_poly(u, DEGREE).unflatten(1, (DEGREE + 1, CIN)).transpose(1, 2)      # degree-major -> ours
            ours = expand(GramBasis(DEGREE), x[:4], torch.tensor([-1., 1.]), kagn.beta_weights[1:DEGREE], dim=2)
        clear_caches(kagn)
        check = float((theirs - ours).abs().max())
        print(f"KAGN's gram_poly against GramBasis (same weights): max |difference| {check:.2e}")
    def run(name):
        m, xi = mods[name], xs[_in_channels(name)]
        return lambda: (step(m, xi, g), clear_caches(m))
    for name in mods: run(name)()                                                                     # warm-up
    times = interleaved({name: run(name) for name in mods}, a.repeats)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    low = {k: min(v) * 1e3 for k, v in times.items()}
    saved = {name: saved_bytes(m, xs[_in_channels(name)], g) / 2**20 for name, m in mods.items()}
    mem = {name: peak_growth_mib(__file__, name, '--threads', str(a.threads), *(['--tck', a.tck] if a.tck else [])) for name in mods}
    params = {name: sum(q.numel() for q in m.parameters()) for name, m in mods.items()}
    split = gram_split(a.repeats)
    load_after = os.getloadavg()
    isa, cap = kernel_isa('basis_expansion'), cpu_capability()
    flags = open('/proc/cpuinfo').read() if os.path.exists('/proc/cpuinfo') else ''
    cpu_isa = 'AVX-512' if ' avx512f' in flags else 'AVX2' if ' avx2' in flags else platform.machine()
    print(f"torch {torch.__version__} ({cap} kernels; CPU {cpu_isa}), {a.threads} threads, kernel ISA {isa}, ({B}, {CIN}, {HW}, {HW}) -> {COUT} "
          f"channels, 3x3, padding 1, degree {DEGREE}, float32, forward + backward, {a.repeats} interleaved rounds; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after\n")
    print("| method | parameters | median (ms) | min (ms) | peak memory (MiB) | saved for backward (MiB) |\n|---|---:|---:|---:|---:|---:|")
    for n in mods: print(f"| {n} | {params[n]:,} | {med[n]:.0f} | {low[n]:.0f} | {mem[n]:.0f} | {saved[n]:.1f} |")
    total = sum(split.values()) + split['expansion (forward, and again in the backward)']      # the expansion runs twice
    print("\nwhere KANConv2d(basis='gram')'s time goes (median ms, share): " + ', '.join(f"{k} {v:.1f} ({v / total:.0%})" for k, v in split.items()))
    floor = med['floor: nn.Conv2d over the Gram expansion']
    print(f"KANConv2d gram / its floor: {med['KANConv2d gram'] / floor:.2f}x (median), {low['KANConv2d gram'] / low['floor: nn.Conv2d over the Gram expansion']:.2f}x (min)")
    if a.tck:
        for ours_, theirs_ in (('KANConv2d gram', 'tck KAGN, no norm'), ('KANConv2d gram, norm=instance', 'tck KAGN (InstanceNorm + SiLU)')):
            print(f"{ours_} / {theirs_}: time {med[ours_] / med[theirs_]:.2f}x (median), {low[ours_] / low[theirs_]:.2f}x (min); "
                  f"peak memory {mem[ours_] / mem[theirs_]:.2f}x")
    if a.json:
        os.makedirs(os.path.dirname(a.json) or '.', exist_ok=True)
        tck_files = {n: load_tck(a.tck, n)[1] for n in ('kagn_conv', 'kaln_conv', 'kacn_conv')} if a.tck else None
        with open(a.json, 'w') as fh:
            json.dump({'median_ms': med, 'min_ms': low, 'peak_mib': mem, 'saved_mib': saved, 'parameters': params,
                       'times_ms': {k: [t * 1e3 for t in v] for k, v in times.items()}, 'gram_split_ms': split,
                       'kagn_gram_poly_max_diff': check, 'tck_sha256': tck_files,
                       'shape': dict(batch=B, in_channels=CIN, out_channels=COUT, size=HW, kernel=3, padding=1, degree=DEGREE),
                       'threads': a.threads, 'repeats': a.repeats, 'torch': torch.__version__, 'torch_cpu': cap, 'cpu_isa': cpu_isa,
                       'kernel_isa': isa, 'load_average_before': load_before, 'load_average_after': load_after,
                       'finished': time.strftime('%Y-%m-%d %H:%M:%S')}, fh, indent=1)

if __name__ == '__main__': main()
