"""One command for the first GPU: the Triton kernels' self-checks, appendix A2's correctness cases on the device, their speed
against the PyTorch path, and one Fashion-MNIST training epoch of the 7K CKAN and its CNN twin.

    python benchmarks/gpu_check.py [--data DIR] [--out FILE] [--budget 270] [--cpu-interpret]

On whatever GPU is present it prints, and writes as JSON (default: benchmarks/results/gpu_check/<device>.json):
  1. the environment: Python, torch, Triton, CUDA, the GPU, its compute capability, and the gate's answer per dtype;
  2. the self-check (`triton_self_check`) of each Triton kernel in each dtype, for a default module's variant (order 3,
     8 basis functions), with its errors against their bounds, and what `triton_status` (what the modules ask) decides;
  3. forward + backward time, the median of interleaved repeats with the GPU synchronised: `SplineActivation(64)` on
     (64, 64, 28, 28) against `nn.SiLU`, and `KANConv2d(16, 32, 3, padding=1)` on (64, 16, 28, 28) against its floors (an
     `nn.Conv2d` over the 128-channel expansion, and over the 144 channels with the base branch's SiLU), the shapes and
     floors of bench_activations.py and bench_conv.py, each spline module on the Triton and on the PyTorch path;
  4. one training epoch of chapter 09's 7K convolution + spline-activation CKAN (`ckan_small`) and of its CNN twin
     (`cnn_small`), at the study's widths (fashion_mnist_study.py), on its 54,000 training images (batch 128, AdamW at
     lr 1e-2, the library's trainer), the CKAN on the path `'auto'` takes and on the PyTorch path, each then scored on the
     6,000 validation images: the seconds, and an accuracy that says the training works;
  5. appendix A2's correctness cases (`triton_correctness`) on the device, dtype by dtype while the time budget allows:
     the largest error per kernel, dtype and quantity, against its bound.
Fashion-MNIST comes from --data, a folder that holds its four gzipped idx files as distributed (the epoch reads the
training pair, train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz; t10k-*.gz may sit beside them). On Debian or Ubuntu,
`apt-get install dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist/, the default; for a GPU machine
without them, copy that folder along with the repository. Nothing is downloaded: without the files the epoch is skipped,
with a message. Each part is fitted into --budget (seconds, default 270, so that a run stays under 5 minutes); a part that
does not fit is recorded as skipped, a part that fails as failed, and the rest still runs. The script needs only torch,
numpy and this repository (Triton for the GPU parts); the versions it found are in the record. Exit status 1 if a
self-check or a correctness case failed or a part raised.

Without a GPU, or with --cpu-interpret, everything runs on the CPU under Triton's interpreter with tiny shapes and a few
hundred images: that tests the script (CI runs it so) and measures nothing.
"""
import argparse, gzip, json, os, platform, re, subprocess, sys, time, traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE)); sys.path.insert(0, str(ROOT))         # _common, fashion_mnist_study; ckan_nb from this checkout
FILES = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
WIDTHS = {'ckan_small': 1.9531, 'cnn_small': 1.9531}   # fashion_mnist_study.arms() at 7K; recomputed below when the study imports

def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=os.environ.get('CKAN_NB_FASHION_MNIST', '/usr/share/datasets/fashion-mnist'),
                   help='folder with the four Fashion-MNIST *-ubyte.gz files (default: $CKAN_NB_FASHION_MNIST or the Debian folder)')
    p.add_argument('--out', default=None, help='JSON record to write (default: benchmarks/results/gpu_check/<device>.json)')
    p.add_argument('--budget', type=float, default=270., help='seconds the whole run may take (default 270)')
    p.add_argument('--cpu-interpret', action='store_true', help="run on the CPU under Triton's interpreter, tiny shapes (CI)")
    p.add_argument('--repeats', type=int, default=None, help='timing repeats (default 21 on a GPU, 2 on the CPU)')
    return p.parse_args(argv)

class Run:
    "The record, the clock, and the parts: each runs if the budget allows, and its failure is written down, not raised."
    def __init__(self, budget:float):
        self.t0, self.budget, self.ok = time.perf_counter(), budget, True
        self.record = dict(script='benchmarks/gpu_check.py', started=time.strftime('%Y-%m-%d %H:%M:%S'), budget_s=budget, parts={})
    def left(self)->float: return self.budget - (time.perf_counter() - self.t0)
    def part(self, name:str, need:float, fn, *args):
        "Run fn(*args) as part `name` if `need` seconds are left; record its result, or why it was skipped or failed."
        print(f"\n== {name}", flush=True)
        if self.left() < need:
            why = f"skipped: {self.left():.0f}s of the budget left, the part needs about {need:.0f}s"
            print(why); self.record['parts'][name] = dict(status='skipped', reason=why); return None
        t = time.perf_counter()
        try:
            out = fn(*args)
            out = out or {}
            status = 'failed' if out.get('failed') else 'skipped' if out.get('skipped') else 'passed'
            if status == 'skipped': print(out['skipped'])
        except Exception as e:
            out, status = dict(error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc()[-3000:]), 'failed'
            print(f"FAILED: {type(e).__name__}: {e}")
        self.ok &= status != 'failed'
        self.record['parts'][name] = dict(status=status, seconds=round(time.perf_counter() - t, 2), **(out or {}))
        return out

def versions()->dict:
    import torch
    try:
        import triton; tv = triton.__version__
    except Exception as e: tv = f"not importable ({type(e).__name__}: {e})"
    try: commit = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', 'HEAD'], capture_output=True, text=True, timeout=10).stdout.strip() or None
    except Exception: commit = None
    return dict(python=platform.python_version(), platform=platform.platform(), torch=torch.__version__, triton=tv,
                cuda=torch.version.cuda, hip=torch.version.hip, cudnn=torch.backends.cudnn.version() if torch.cuda.is_available() else None,
                ckan_nb_commit=commit, triton_interpret=os.environ.get('TRITON_INTERPRET'))

def device_record(device)->dict:
    import torch
    if device.type != 'cuda': return dict(type='cpu', name=platform.processor() or platform.machine(), capability=None, interpreter=True)
    props = torch.cuda.get_device_properties(device)
    return dict(type='cuda', name=props.name, capability=list(torch.cuda.get_device_capability(device)),
                memory_gib=round(props.total_memory / 2**30, 1), multiprocessors=props.multi_processor_count)

def gate(device)->dict:
    import torch, ckan_nb.triton_kernels as tk
    out = {str(dt).removeprefix('torch.'): tk.triton_support(torch.zeros(1, device=device, dtype=dt)) for dt in tk.DTYPES}
    for k, v in out.items(): print(f"{k:9} {v}")
    return dict(answers=out)

def self_checks(device)->dict:
    "triton_self_check of each kernel in each dtype (order 3, 8 basis functions), and triton_status, as the modules ask it."
    import torch, warnings, ckan_nb.triton_kernels as tk
    rows, failed = [], False
    for kernel in ('activation', 'expansion'):
        for dt in tk.DTYPES:
            name, t = str(dt).removeprefix('torch.'), time.perf_counter()
            row = dict(kernel=kernel, dtype=name, spline_order=3, num_basis=8)
            if tk.triton_support(torch.zeros(1, device=device, dtype=dt)) != 'ready':
                row.update(result='gated out', passed=None)
            else:
                try:
                    res = tk.triton_self_check(kernel, device, dt, 3, 8)
                    row.update(errors={q: [e, b] for q, (e, b) in res.items()}, passed=all(e <= b for e, b in res.values()))
                except Exception as e: row.update(passed=False, error=f"{type(e).__name__}: {' '.join(str(e).split())[:2000]}")
            with warnings.catch_warnings(record=True):                 # what a module would decide (its warning is in the row)
                warnings.simplefilter('always')
                row['status'] = tk.triton_status(kernel, torch.zeros(2, 3, 4, device=device, dtype=dt), 3, 8, True)
            row['seconds'] = round(time.perf_counter() - t, 2)          # the first compile of the variant included, on a GPU
            failed |= row['passed'] is False
            errs = '  '.join(f"{q} {e:.1e}<={b:.0e}" for q, (e, b) in row.get('errors', {}).items())
            print(f"{kernel:11}{name:9} {'PASS' if row['passed'] else 'gated' if row['passed'] is None else 'FAIL'} {row['seconds']:6.1f}s  "
                  f"{errs or row.get('error', row.get('result', ''))}")
            rows.append(row)
    return dict(results=rows, failed=failed)

def correctness(device, dtypes)->dict:
    "Appendix A2's cases, one dtype at a time while the budget allows (a dtype the gate refuses is skipped)."
    import torch, ckan_nb.triton_kernels as tk
    worst, cases, failed, skipped = {}, [], False, []
    for dt in dtypes:
        name = str(dt).removeprefix('torch.')
        why = tk.triton_support(torch.zeros(1, device=device, dtype=dt))
        if why != 'ready': skipped.append(f"{name}: {why}"); continue
        if RUN.left() < 25: skipped.append(f"{name}: out of time"); continue
        orders = range(1, 6) if device.type == 'cuda' else (1, 3)
        for kernel, d, k, layout, errors in tk.triton_correctness(device, (dt,), orders, layouts=device.type == 'cuda'):
            bad = {q: e for q, e in errors.items() if not e <= tk.tolerance(d, q)}
            failed |= bool(bad)
            cases.append(dict(kernel=kernel, dtype=name, spline_order=k, layout=layout, errors=errors, passed=not bad))
            for q, e in errors.items():
                key = f"{kernel} {name} {q}"
                worst[key] = max(worst.get(key, 0.), e) if e == e else float('nan')
    print(f"{len(cases)} cases, {sum(not c['passed'] for c in cases)} over their bound" + (f"; skipped {skipped}" if skipped else ''))
    for key, e in worst.items():
        kernel, name, q = key.split(' ', 2)
        print(f"{kernel:11}{name:9}{q:13}{e:10.2e}  bound {tk.tolerance(getattr(torch, name), q):.1e}")
    return dict(cases=cases, worst=worst, skipped=skipped, failed=failed)

def _timed(device, fns:dict, repeats:int)->dict:
    "Median ms of each zero-argument function, interleaved, synchronising the GPU around each call; an error is recorded per method."
    import torch
    from _common import interleaved, median_ms
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    errors, ok = {}, {}
    for name, f in fns.items():                                          # warm-up: compiles, and the self-check of 'auto'
        try:
            for _ in range(3 if device.type == 'cuda' else 1): f()
            sync(); ok[name] = f
        except Exception as e: errors[name] = f"{type(e).__name__}: {' '.join(str(e).split())[:500]}"
    def timed(f): return lambda: (f(), sync())
    med = median_ms(interleaved({n: timed(f) for n, f in ok.items()}, repeats)) if ok else {}
    return med, errors

def timings(device, repeats:int)->dict:
    import torch, torch.nn as nn
    from _common import step
    from ckan_nb.activations import SplineActivation
    from ckan_nb.conv import KANConv2d
    gpu = device.type == 'cuda'
    torch.manual_seed(0)
    B, C, HW = (64, 64, 28) if gpu else (2, 4, 6)
    x, g = torch.randn(B, C, HW, HW, device=device, requires_grad=True), torch.randn(B, C, HW, HW, device=device)
    acts = {'SplineActivation (triton)': SplineActivation(C, backend='triton'), 'SplineActivation (torch)': SplineActivation(C, backend='torch'),
            'nn.SiLU': nn.SiLU()}
    act_ms, act_err = _timed(device, {n: (lambda m=m.to(device): step(m, x, g)) for n, m in acts.items()}, repeats)
    B, CIN, COUT, HW = (64, 16, 32, 28) if gpu else (2, 2, 3, 6)
    NB = 5 + 3
    xc, gc = torch.randn(B, CIN, HW, HW, device=device, requires_grad=True), torch.randn(B, COUT, HW, HW, device=device)
    floor_in = {nb: torch.randn(B, CIN * nb, HW, HW, device=device, requires_grad=True) for nb in (NB, NB + 1)}
    convs = {'KANConv2d (triton)': (KANConv2d(CIN, COUT, 3, padding=1, backend='triton'), xc),
             'KANConv2d, spline part only (triton)': (KANConv2d(CIN, COUT, 3, padding=1, base_activation=None, backend='triton'), xc),
             'KANConv2d (torch)': (KANConv2d(CIN, COUT, 3, padding=1, backend='torch'), xc),
             'floor: nn.Conv2d over the expansion': (nn.Conv2d(CIN * NB, COUT, 3, padding=1, bias=False), floor_in[NB]),
             'floor with the base channel': (nn.Conv2d(CIN * (NB + 1), COUT, 3, padding=1, bias=False), floor_in[NB + 1])}
    conv_ms, conv_err = _timed(device, {n: (lambda m=m.to(device), inp=inp: step(m, inp, gc)) for n, (m, inp) in convs.items()}, repeats)
    def show(title, med, ref, errs):
        print(title)
        for n, ms in med.items(): print(f"  {n:45} {ms:9.3f} ms  {ms / med[ref]:6.2f}x {ref}" if ref in med else f"  {n:45} {ms:9.3f} ms")
        for n, e in errs.items(): print(f"  {n:45} FAILED: {e}")
    show(f"activation, ({B if not gpu else 64}, {C}, ...) forward + backward, median of {repeats}", act_ms, 'nn.SiLU', act_err)
    show(f"KAN convolution ({CIN} -> {COUT}, 3x3) forward + backward, median of {repeats}", conv_ms, 'floor: nn.Conv2d over the expansion', conv_err)
    return dict(repeats=repeats, interpreter=not gpu, activation=dict(shape=[*x.shape], median_ms=act_ms, errors=act_err),
                conv=dict(shape=[*xc.shape], out_channels=COUT, median_ms=conv_ms, errors=conv_err),
                failed=bool(act_err or conv_err), note=None if gpu else "Triton's interpreter on tiny shapes: not a speed figure")

def _read_idx(path:Path):
    "An idx file (gzipped) as a numpy array."
    import numpy as np
    data = gzip.open(path, 'rb').read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)

def epoch(device, data:Path)->dict:
    "One epoch of ckan_small ('auto' and the PyTorch path) and cnn_small on the study's training split; valid accuracy after it."
    import torch
    from ckan_nb.data import dataset_info, split_indices
    from ckan_nb.models import build_model, count_parameters
    from ckan_nb.spline_module import set_default_backend, spline_modules
    from ckan_nb.train import CKANTrainer
    missing = [f for f in FILES[:2] if not (data / f).is_file()]
    if missing: return dict(skipped=f"Fashion-MNIST not found in {data} (missing {', '.join(missing)}): pass --data DIR with the four "
                                    "*-ubyte.gz files, e.g. a copy of /usr/share/datasets/fashion-mnist/ (Debian: apt-get install dataset-fashion-mnist)")
    gpu = device.type == 'cuda'
    info = dataset_info('fashion_mnist')
    images = torch.from_numpy(_read_idx(data / FILES[0]).copy()).unsqueeze(1)
    labels = torch.from_numpy(_read_idx(data / FILES[1]).astype('int64'))
    tr, va = split_indices(len(labels), 0.1, 0)                          # the study's split: 54,000 + 6,000
    if not gpu: tr, va = tr[:256], va[:256]                               # the CPU run only tests the script
    norm = lambda idx: ((images[idx].float() * info.scale - info.mean[0]) / info.std[0]).to(device)
    xt, yt, xv, yv = norm(tr), labels[tr].to(device), norm(va), labels[va].to(device)
    bs = 128 if gpu else 64
    order = torch.randperm(len(tr), generator=torch.Generator().manual_seed(0)).to(device)
    train_batches = [(xt[i], yt[i]) for i in order.split(bs)]
    valid_batches = [(xv[i:i + 256], yv[i:i + 256]) for i in range(0, len(va), 256)]
    try:
        import fashion_mnist_study as study
        widths = {name: study._width(name, study.SIZES['7k'], {}) for name in WIDTHS}
    except Exception as e: widths = dict(WIDTHS); print(f"(widths from the script, the study did not import: {e})")
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    out = dict(train_images=len(tr), valid_images=len(va), batch_size=bs, widths=widths, runs={})
    for label, name, default in (('ckan_small', 'ckan_small', 'auto'), ('ckan_small, PyTorch path', 'ckan_small', 'torch'),
                                 ('cnn_small', 'cnn_small', 'auto')):
        torch.manual_seed(0)
        model = build_model(name, 1, 10, 28, width=widths[name])
        paths, splines = {}, spline_modules(model)                         # the path each spline module takes, on its first call
        def note(m, args, n): paths.setdefault(n, m._backend_for(args[0])[0])   # returns None: the input stays as it is
        hooks = [m.register_forward_pre_hook(lambda m, a, n=n: note(m, a, n))
                 for n, m in model.named_modules() if any(m is s for s in splines) and hasattr(m, '_backend_for')]
        previous = set_default_backend(default)
        try:
            trainer = CKANTrainer(model, device=device, lr=1e-2, spline_lr=1e-2, seed=0, progress=False, scheduler='cosine', step_size=1, gamma=0.01)
            model.eval()
            with torch.no_grad(): model(xt[:2])                           # the first use (self-checks, compiles) is not timed
            model.train()
            for h in hooks: h.remove()
            sync(); t = time.perf_counter()
            metrics = trainer.train_epoch_metrics(train_batches)
            sync(); seconds = time.perf_counter() - t
            valid = trainer.evaluate(valid_batches)
        finally: set_default_backend(previous)
        out['runs'][label] = dict(model=name, parameters=count_parameters(model), default_backend=default, paths=paths, seconds=round(seconds, 3),
                                  train_loss=metrics['loss'], train_accuracy=metrics['accuracy'], valid_accuracy=valid['accuracy'])
        print(f"  {label:26} {count_parameters(model):6d} parameters  {seconds:8.2f}s  train acc {metrics['accuracy']:.3f}  "
              f"valid acc {valid['accuracy']:.3f}  paths {sorted(set(paths.values())) or '-'}")
    if not gpu: out['note'] = f"{len(tr)} images on the CPU: tests the script, measures nothing"
    return out

RUN = None

def main(argv=None):
    global RUN
    a = parse(argv)
    if a.cpu_interpret: os.environ['TRITON_INTERPRET'] = '1'          # before Triton is imported (ckan_nb imports it)
    import torch
    gpu = torch.cuda.is_available() and not a.cpu_interpret
    if not gpu and not a.cpu_interpret:
        print("no GPU here: running on the CPU under Triton's interpreter with tiny shapes (as --cpu-interpret)")
        os.environ['TRITON_INTERPRET'] = '1'
    RUN = Run(a.budget)
    rec = RUN.record
    rec['mode'] = 'gpu' if gpu else 'cpu-interpret'
    rec['environment'] = versions()
    try:
        import ckan_nb.triton_kernels as tk
        import ckan_nb.all  # noqa: F401  (the whole library imports)
    except Exception as e:
        print(f"ckan_nb does not import with torch {torch.__version__}: {type(e).__name__}: {e}")
        rec['problems'] = [f"import: {type(e).__name__}: {e}"]; RUN.ok = False
        return finish(a, rec, torch.device('cpu'))
    device = torch.device('cuda' if gpu else 'cpu')
    rec['device'] = device_record(device)
    print(f"{rec['mode']}: {rec['device']['name']}" + (f", compute capability {'.'.join(map(str, rec['device']['capability']))}" if gpu else '')
          + f"; torch {torch.__version__}, Triton {rec['environment']['triton']}, budget {a.budget:.0f}s")
    torch.set_num_threads(min(2, torch.get_num_threads()) if not gpu else torch.get_num_threads())
    RUN.part('gate', 1, gate, device)
    RUN.part('self-check', 5, self_checks, device)
    RUN.part('timing', 20 if gpu else 5, timings, device, a.repeats or (21 if gpu else 2))
    RUN.part('epoch', 40 if gpu else 10, epoch, device, Path(a.data))
    RUN.part('correctness', 25, correctness, device, tk.DTYPES if gpu else (torch.float32, torch.bfloat16))
    return finish(a, rec, device)

def finish(a, rec, device)->int:
    rec['finished'], rec['seconds'], rec['all_passed'] = time.strftime('%Y-%m-%d %H:%M:%S'), round(time.perf_counter() - RUN.t0, 1), RUN.ok
    name = rec.get('device', {}).get('name', 'unknown') if rec.get('mode') == 'gpu' else 'cpu-interpret'
    out = Path(a.out) if a.out else ROOT / 'benchmarks' / 'results' / 'gpu_check' / (re.sub(r'[^A-Za-z0-9.-]+', '_', name) + '.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rec, indent=1, default=str))
    skipped = [k for k, v in rec['parts'].items() if v['status'] == 'skipped']
    print(f"\n{'no part failed' if RUN.ok else 'SOMETHING FAILED (see the record)'}" + (f", skipped: {', '.join(skipped)}" if skipped else '')
          + f"; {rec['seconds']:.0f}s; record: {out}")
    return 0 if RUN.ok else 1

if __name__ == '__main__': sys.exit(main())
