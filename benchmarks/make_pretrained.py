"""Copy the Fashion-MNIST study's seed-0 final models into the package as pretrained weights, and write their registry.

    python benchmarks/make_pretrained.py                      # from this checkout's study folder
    python benchmarks/make_pretrained.py --source DIR         # from another study folder (read only)

For every family of the study (KAN convolution, conv + spline, the CNN twins) and every size (7K, 30K), the seed-0
"final" is the tuning run at the chosen learning rate: the best final validation accuracy over the family's lr ladder
(`ladder_state` / `chosen` of benchmarks/fashion_mnist_study.py, imported, not re-implemented). While a ladder is still
unfinished, the best seed-0 tuning run recorded so far is used instead and its registry entry says `provisional: true`
with the reason; a family with no run at all is left out. Rerun this script when the study is complete.

Writes ckan_nb/pretrained/<family>_<size>.pt (the study's state_dict, byte for byte: its SHA-256 is checked against the
run record) and ckan_nb/pretrained/registry.json, which `ckan_nb.pretrained` reads. Weight files of models that are
no longer in the registry are removed.
"""
import argparse, hashlib, json, os, shutil, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEST = REPO / 'ckan_nb' / 'pretrained'
sys.path.insert(0, str(HERE))
import fashion_mnist_study as S                      # the study's plan: families, sizes, ladder and its choice

def sha256(path:Path)->str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def seed0_runs(arm:str)->list:
    "The arm's recorded seed-0 tuning runs (spline_lr = lr), as (lr, record, path)."
    out = []
    for p in sorted(S.OUT.glob(f'{arm}-lr*-s0.json')):
        rec = S.load(p)
        if rec.get('arm') == arm and rec.get('seed') == 0 and rec['spline_lr'] == rec['lr']: out.append((rec['lr'], rec, p))
    return out

def pick(arm:str):
    "(record, path, provisional reason or None) of the arm's seed-0 final, or None when the arm has no run yet."
    best, todo = S.ladder_state(arm)
    if best is not None:
        p = S.run_path(arm, best, best, 0)
        return S.load(p), p, None
    runs = seed0_runs(arm)
    if not runs: return None
    lr, rec, p = max(runs, key=lambda t: (t[1]['final_valid_acc'], -t[0]))        # ties: the smaller lr, as the study
    done = ', '.join(f'{r[0]:g}' for r in sorted(runs, key=lambda t: t[0]))
    reason = (f"the lr ladder is unfinished (recorded: {done}; still to train: {', '.join(f'{x:g}' for x in todo)}): "
              f"this is the best seed-0 run so far (lr {lr:g}), not yet the study's chosen setting")
    return rec, p, reason

def entry(rec:dict, src:Path, reason)->dict:
    "The registry entry of one model, from its run record."
    e = dict(family=rec['family'], size=rec['size'], kind=rec['kind'], model=rec['model'], width=rec['width'],
             model_args=rec['model_args'], in_channels=1, num_classes=10, image_size=28, dataset='fashion_mnist',
             train_images=rec['train_images'], valid_images=rec['valid_images'], split_seed=S.SPLIT_SEED,
             parameters=rec['parameters'], test_accuracy=rec['test_accuracy'], test_images=rec['test_images'],
             final_valid_acc=rec['final_valid_acc'], lr=rec['lr'], seed=rec['seed'], epochs=rec['epochs'],
             protocol=rec['protocol'], sha256=rec['weights_sha256'], bytes=(src.parent / rec['weights']).stat().st_size,
             source=f"benchmarks/results/{src.parent.name}/{src.name}", provisional=reason is not None)
    if reason: e['provisional_reason'] = reason
    return e

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--source', type=Path, default=S.OUT, help='the study folder to read (default: %(default)s)')
    p.add_argument('--dest', type=Path, default=DEST, help='the package folder to write (default: %(default)s)')
    a = p.parse_args()
    S.OUT = a.source.resolve()
    if not S.OUT.is_dir(): sys.exit(f"no study folder at {S.OUT}")
    a.dest.mkdir(parents=True, exist_ok=True)
    models = {}
    for size in S.SIZES:
        for family in S.FAMILIES:
            arm = f'{family}_{size}'
            got = pick(arm)
            if got is None: print(f"{arm:16s} no run recorded yet: left out"); continue
            rec, src, reason = got
            weights = src.parent / rec['weights']
            if sha256(weights) != rec['weights_sha256']: sys.exit(f"{weights}: SHA-256 differs from its record; not copied")
            dest = a.dest / f'{arm}.pt'
            if not dest.exists() or sha256(dest) != rec['weights_sha256']:
                tmp = dest.with_name(f'.{dest.name}.tmp'); shutil.copyfile(weights, tmp); os.replace(tmp, dest)
            models[arm] = entry(rec, src, reason)
            print(f"{arm:16s} {src.name:32s} test {rec['test_accuracy']:.2%}  {'PROVISIONAL' if reason else 'final'}")
    for old in a.dest.glob('*.pt'):
        if old.stem not in models: old.unlink(); print(f"removed {old.name} (no longer in the registry)")
    registry = dict(about="Seed-0 final models of the Fashion-MNIST study (benchmarks/fashion_mnist_study.py), written by "
                          "benchmarks/make_pretrained.py; `provisional` entries are the best run of a ladder that was not finished yet.",
                    written=time.strftime('%Y-%m-%d %H:%M:%S'), models=models)
    tmp = a.dest / '.registry.json.tmp'
    tmp.write_text(json.dumps(registry, indent=1) + '\n'); os.replace(tmp, a.dest / 'registry.json')
    n_prov = sum(m['provisional'] for m in models.values())
    print(f"wrote {a.dest / 'registry.json'}: {len(models)} models, {n_prov} provisional")

if __name__ == '__main__': main()
