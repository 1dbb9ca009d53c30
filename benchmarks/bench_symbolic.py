"""Time `fit_symbolic` on every spline module of the packaged CKANs (KAN convolution and conv + spline, every size).

    python benchmarks/bench_symbolic.py                  # the models whose weights are new or changed since the last run
    python benchmarks/bench_symbolic.py --force          # all of them again (e.g. on a quiet machine)

For each model: the inputs of its spline modules on the first `--images` test images (one forward pass, not timed),
then `fit_symbolic(module, input)` for every spline module, timed as one total per model (every function of the
model, the data handling included); `--repeats` runs at each thread count of `--threads`, the median reported.
Writes ckan_nb/results/symbolic_fit.json (package data: chapter 10 reads it), with the machine, its load average when
the run started, and what each fit found (families, R^2 quantiles). Run it on a quiet machine for figures to quote.
"""
import argparse, json, os, platform, statistics, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / 'ckan_nb' / 'results' / 'symbolic_fit.json'
FAMILIES = ('kan_conv', 'conv_spline')

def cpu()->tuple:
    "(model name, instruction set) of this machine's CPU."
    name, flags = platform.processor() or platform.machine(), []
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): name = line.split(':', 1)[1].strip()
            if line.startswith('flags'): flags = line.split(); break
    except OSError: pass
    return name, 'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else platform.machine()

def stand_in(size:str):
    "An untrained KAN-convolution model of the study's architecture at `size`, for a size with no trained one packaged yet."
    import torch
    sys.path.insert(0, str(REPO / 'benchmarks'))
    import fashion_mnist_study as S
    from ckan_nb.models import build_model
    torch.manual_seed(0)
    return build_model('kan_conv_small', width=S._width('kan_conv_small', S.SIZES[size], {})).eval()

def measure(net, x, repeats:int, threads:list)->dict:
    "Timing of `fit_symbolic` over every spline module of `net` on the inputs of images `x`, and what the fits found."
    import torch
    from ckan_nb.interpret import spline_inputs, fit_symbolic
    ins = spline_inputs(net, x)
    seconds, fits = {}, {}
    for th in threads:
        torch.set_num_threads(th)
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fits = {n: fit_symbolic(net.get_submodule(n), inp) for n, inp in ins.items()}
            runs.append(time.perf_counter() - t0)
        seconds[str(th)] = statistics.median(runs)
        print(f"  {th} thread(s): {seconds[str(th)]:.2f}s (runs {', '.join(f'{r:.2f}' for r in runs)})", flush=True)
    modules = {}
    for n, f in fits.items():
        r2 = f.r2.flatten()
        q = r2.quantile(torch.tensor([0.1, 0.5, 0.9], dtype=r2.dtype)).tolist()
        modules[n] = dict(type=type(net.get_submodule(n)).__name__, functions=r2.numel(), counts=f.counts(),
                          r2_quantiles={'0.1': q[0], '0.5': q[1], '0.9': q[2]},
                          r2_at_least={str(t): int((r2 >= t).sum()) for t in (0.999, 0.99, 0.9)})
    return dict(functions=sum(m['functions'] for m in modules.values()), seconds=seconds, modules=modules)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=512)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    p.add_argument('--force', action='store_true', help='measure every model again')
    a = p.parse_args()
    import torch
    from ckan_nb.pretrained import list_pretrained, load_pretrained, pretrained_data, pretrained_info
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    packaged = {m['name']: m for m in list_pretrained() if m['family'] in FAMILIES}
    done = {n: r for n, r in old.get('models', {}).items() if n in packaged}
    load = os.getloadavg()[0]
    for name in packaged:
        sha = pretrained_info(name)['sha256']
        if not a.force and done.get(name, {}).get('sha256') == sha: continue
        print(name, flush=True)
        done[name] = dict(sha256=sha, load_average=os.getloadavg()[0], **measure(load_pretrained(name), pretrained_data(name, size=a.images)[0], a.repeats, a.threads))
    stand_ins = {}
    x = pretrained_data(next(iter(packaged)), size=a.images)[0]
    for size in ('7k', '30k'):                    # the sizes without a packaged KAN convolution: an untrained stand-in
        if any(m['family'] == 'kan_conv' and m['size'] == size for m in packaged.values()): continue
        print(f"stand-in kan_conv_{size} (untrained)", flush=True)
        stand_ins[f'kan_conv_{size}'] = dict(load_average=os.getloadavg()[0], what='untrained, the study architecture and width at this size: no trained model is packaged yet',
                                             **measure(stand_in(size), x, a.repeats, a.threads))
    name, isa = cpu()
    note = (f"measured while the machine was busy (load average {load:.1f} on {os.cpu_count()} cores when the run started): "
            "with other processes on every core, 2 threads can be much slower than 1; rerun on a quiet machine for clean figures"
            if load > 0.5 else f"measured on a quiet machine (load average {load:.1f} on {os.cpu_count()} cores when the run started)")
    res = dict(method=f"fit_symbolic on every spline module of each model, on the inputs of its first {a.images} test images; the total "
                      f"over the model's modules, the median of {a.repeats} runs per thread count",
               images=a.images, repeats=a.repeats, note=note,
               machine=dict(cpu=name, isa=isa, cores=os.cpu_count(), load_average=load, torch=torch.__version__, platform=platform.platform()),
               finished=time.strftime('%Y-%m-%d %H:%M:%S'), models=done, stand_ins=stand_ins)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_name(f'.{OUT.name}.tmp'); tmp.write_text(json.dumps(res, indent=1) + '\n'); os.replace(tmp, OUT)
    print(f"wrote {OUT}")

if __name__ == '__main__': main()
