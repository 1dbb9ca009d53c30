"""What formulas and pruning cost the packaged CKANs in test accuracy: `to_symbolic` at several R^2 thresholds, and the
pruning curve of the KAN convolutions with and without one epoch of fine-tuning. Chapter 10 shows the results.

    python benchmarks/interpret_study.py                 # the models and points not recorded yet (weights new or changed)
    python benchmarks/interpret_study.py --no-fine-tune  # the cheap part only: no training

For every packaged model of the families kan_conv and conv_spline (ckan_nb.pretrained):
- its accuracy on the whole test set (10,000 images, float32, CPU);
- `to_symbolic(model, r2_min)` for r2_min in R2_MINS, the fits made on the inputs of the first FIT_IMAGES training
  images (the study's training split): how many functions were replaced, and the test accuracy;
- for the KAN convolutions, `prune(model, fraction, x)` at FRACTIONS of each spline module's edge-taps, keeping the base
  branch (the spline branch pruned) and not (`base=True`, the whole function), importance measured on the same
  training images; the test accuracy, and after one epoch of fine-tuning: the study's training split (54,000 images,
  batch 128, seed 0), AdamW at a tenth of the model's learning rate, constant, the library's default smoothness
  penalty, the pruned functions held at zero. At fraction 0 both variants are the same model: it is trained once.

Writes ckan_nb/results/interpret_study.json after every point, so an interrupted run resumes. One torch thread.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / 'ckan_nb' / 'results' / 'interpret_study.json'
FAMILIES, R2_MINS, FRACTIONS = ('kan_conv', 'conv_spline'), (0.999, 0.99, 0.95, 0.9), (0.0, 0.25, 0.5, 0.75, 0.9)
FIT_IMAGES, FT_LR_FACTOR, BATCH = 2048, 0.1, 128

def save(res):
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_name(f'.{OUT.name}.tmp'); tmp.write_text(json.dumps(res, indent=1) + '\n'); os.replace(tmp, OUT)

def accuracy(net, x, y, batch=500)->float:
    import torch
    with torch.no_grad(): return sum(int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(y), batch)) / len(y)

def fine_tune(net, lr:float)->object:
    "One epoch of training on the study's training split, the pruned functions held at zero by `prune`'s gradient masks."
    from ckan_nb.data import get_dataloaders
    from ckan_nb.train import CKANTrainer
    dls = get_dataloaders('fashion_mnist', batch_size=BATCH, seed=0, num_workers=0, download=False)
    dls.train.generator.manual_seed(0)
    CKANTrainer(net, device='cpu', lr=lr, spline_lr=lr, scheduler=None, progress=False, seed=0).fit(dls.train, epochs=1)
    return net.eval()

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--no-fine-tune', action='store_true', help='skip the fine-tuned points')
    p.add_argument('--only', nargs='*', help='only these models')
    a = p.parse_args()
    import torch
    torch.set_num_threads(1)
    from ckan_nb.pretrained import list_pretrained, load_pretrained, pretrained_data, pretrained_info
    from ckan_nb.interpret import spline_inputs, fit_symbolic, to_symbolic, prune, SymbolicFunctions
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    res.update(method=__doc__.split('\n\n', 2)[2].split('\n\nWrites')[0], note='', fine_tune=dict(
        method=f"Fine-tuning: one epoch of the study's training split (54,000 images, batch {BATCH}, seed 0), AdamW at "
               f"{FT_LR_FACTOR:g} x the model's learning rate, constant, default smoothness penalty; pruned functions held at zero.",
        lr_factor=FT_LR_FACTOR, epochs=1, batch_size=BATCH), r2_mins=list(R2_MINS), fractions=list(FRACTIONS), fit_images=FIT_IMAGES)
    models = res.setdefault('models', {})
    packaged = [m for m in list_pretrained() if m['family'] in FAMILIES and (not a.only or m['name'] in a.only)]
    for name in [n for n in list(models) if n not in {m['name'] for m in list_pretrained()}]: del models[name]
    for m in packaged:
        name, info = m['name'], pretrained_info(m['name'])
        r = models.get(name)
        if r is None or r['sha256'] != info['sha256']:
            r = models[name] = dict(sha256=info['sha256'], family=m['family'], size=m['size'], symbolic=[], pruning=[])
        net = load_pretrained(name)
        x_test, y_test = pretrained_data(name)
        x_fit = pretrained_data(name, train=True, size=FIT_IMAGES)[0]
        if 'accuracy' not in r: r['accuracy'] = accuracy(net, x_test, y_test); save(res)
        print(f"{name}: test accuracy {r['accuracy']:.2%}", flush=True)
        todo = [t for t in R2_MINS if not any(s['r2_min'] == t for s in r['symbolic'])]
        if todo:
            ins = spline_inputs(net, x_fit)
            fits = {n: fit_symbolic(net.get_submodule(n), v) for n, v in ins.items()}
            for t in todo:
                sym = to_symbolic(net, t, fits=fits)
                replaced = sum(len(s.index) for s in sym.modules() if isinstance(s, SymbolicFunctions))
                r['symbolic'].append(dict(r2_min=t, replaced=replaced, functions=sum(f.r2.numel() for f in fits.values()),
                                          accuracy=accuracy(sym, x_test, y_test)))
                r['symbolic'].sort(key=lambda s: -s['r2_min']); save(res)
                print(f"  to_symbolic r2_min {t}: {replaced} replaced, accuracy {r['symbolic'][-1]['accuracy']:.2%}", flush=True)
        if m['family'] != 'kan_conv': continue
        for frac in FRACTIONS:
            for base in (False, True):
                pt = next((q for q in r['pruning'] if q['fraction'] == frac and q['base'] == base), None)
                if pt is None:
                    pt = dict(fraction=frac, base=base, accuracy=accuracy(prune(net, frac, x_fit, base=base), x_test, y_test), fine_tuned_accuracy=None)
                    r['pruning'].append(pt); r['pruning'].sort(key=lambda q: (q['base'], q['fraction'])); save(res)
                if pt['fine_tuned_accuracy'] is None and not a.no_fine_tune:
                    twin = next((q for q in r['pruning'] if frac == 0 and q['fraction'] == 0 and q['fine_tuned_accuracy'] is not None), None)
                    t0 = time.perf_counter()
                    pt['fine_tuned_accuracy'] = twin['fine_tuned_accuracy'] if twin else accuracy(
                        fine_tune(prune(net, frac, x_fit, base=base), FT_LR_FACTOR * info['lr']), x_test, y_test)
                    pt['fine_tune_seconds'] = time.perf_counter() - t0
                    save(res)
                print(f"  pruned {frac:.0%} ({'whole function' if base else 'spline branch'}): {pt['accuracy']:.2%}"
                      + (f", fine-tuned {pt['fine_tuned_accuracy']:.2%}" if pt['fine_tuned_accuracy'] is not None else ''), flush=True)
    res["note"] = (f"Fits and pruning importance on the inputs of {FIT_IMAGES:,} training images; accuracy on all 10,000 test images. "
                   f"Last run {time.strftime('%Y-%m-%d %H:%M:%S')}, torch {torch.__version__}, {platform.machine()}.")
    save(res)
    print(f"wrote {OUT}")

if __name__ == '__main__': main()
