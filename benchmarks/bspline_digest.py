"""Digest of what the default (B-spline) modules compute: outputs, input gradients and parameter gradients of seeded
modules of every kind, on every evaluation path, plus their state-dict keys. The bases chapter (04b) checks that adding
other bases left the default B-spline path bit for bit as it was: the stored digests were computed by the code before
that change, and are compared only on a machine of the same kind (torch version, CPU capability, kernel ISA), since
floating-point results may differ across instruction sets.

    python benchmarks/bspline_digest.py            # print this machine's digests
    python benchmarks/bspline_digest.py --write    # store them in benchmarks/results/bspline_default_digest.json
"""
import hashlib, json, os, platform, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STORE = HERE / 'results' / 'bspline_default_digest.json'
sys.path.insert(0, str(HERE.parent))

def environment()->str:
    "The key digests are stored under: torch version, CPU capability, kernel ISA, machine."
    import torch
    from ckan_nb.kernels import kernel_isa
    return f"torch {torch.__version__} | {torch.backends.cpu.get_cpu_capability()} | kernel {kernel_isa('basis_expansion')} | {platform.machine()}"

def _cases():
    "name -> (module factory, input shape): seeded default modules of every kind (and the study's two small models)."
    import torch
    from ckan_nb.activations import SplineActivation, SplineActivation1D
    from ckan_nb.kan import KANLinear
    from ckan_nb.conv import KANConv1d, KANConv2d, KANConv3d, ConvKANBlock
    from ckan_nb.models import build_model
    cases = {}
    for backend in ('auto', 'torch', 'dense'):
        cases |= {
            f'SplineActivation/{backend}': (lambda b=backend: SplineActivation(3, backend=b), (4, 3, 5, 5)),
            f'SplineActivation1D/{backend}': (lambda b=backend: SplineActivation1D(5, backend=b), (6, 5)),
            f'KANLinear/{backend}': (lambda b=backend: KANLinear(5, 4, backend=b), (6, 5)),
            f'KANLinear per-input grid/{backend}': (lambda b=backend: KANLinear(3, 2, grid_range=torch.tensor([[-1., 1.], [-2., 2.], [0., 1.]]), backend=b), (6, 3)),
            f'KANConv1d/{backend}': (lambda b=backend: KANConv1d(3, 4, 3, backend=b), (2, 3, 9)),
            f'KANConv2d/{backend}': (lambda b=backend: KANConv2d(3, 4, 3, padding=1, backend=b), (2, 3, 7, 7)),
            f'KANConv2d groups, no base/{backend}': (lambda b=backend: KANConv2d(4, 6, 3, groups=2, base_activation=None, bias=True, backend=b), (2, 4, 6, 6)),
            f'KANConv3d/{backend}': (lambda b=backend: KANConv3d(2, 3, 3, padding='same', backend=b), (2, 2, 5, 5, 5)),
        }
    cases['ConvKANBlock'] = (lambda: ConvKANBlock(3, 4), (2, 3, 8, 8))
    cases['kan_conv_small'] = (lambda: build_model('kan_conv_small'), (4, 1, 28, 28))
    cases['ckan_small'] = (lambda: build_model('ckan_small'), (4, 1, 28, 28))
    return cases

def digests()->dict:
    "name -> SHA-256 of the output, the input gradient, every parameter gradient (in order) and the state-dict keys."
    import torch
    torch.set_num_threads(1)
    out = {}
    for name, (make, shape) in _cases().items():
        torch.manual_seed(0)
        m = make()
        x = (torch.randn(shape) * 1.5).requires_grad_()
        y = m(x)
        y.backward(torch.randn_like(y))
        h = hashlib.sha256()
        for t in (y, x.grad, *[p.grad for p in m.parameters()]): h.update(t.detach().contiguous().numpy().tobytes())
        h.update(json.dumps(list(m.state_dict())).encode())
        out[name] = h.hexdigest()
    return out

def stored()->dict:
    "The stored digests for this machine's environment, or {} if none were stored for it."
    if not STORE.exists(): return {}
    return json.loads(STORE.read_text()).get(environment(), {})

if __name__ == '__main__':
    d = digests()
    if '--write' in sys.argv:
        allv = json.loads(STORE.read_text()) if STORE.exists() else {}
        allv[environment()] = d
        STORE.parent.mkdir(parents=True, exist_ok=True)
        STORE.write_text(json.dumps(allv, indent=1) + '\n')
        print(f"stored {len(d)} digests for {environment()}")
    else: print(json.dumps({environment(): d}, indent=1))
