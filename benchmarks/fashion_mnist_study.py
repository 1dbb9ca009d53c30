"""The Fashion-MNIST study of chapter 09: CKANs of both kinds against parameter-matched CNN twins, tuned alike, trained alike.

    python benchmarks/fashion_mnist_study.py                 # every phase, skipping the runs already recorded
    python benchmarks/fashion_mnist_study.py --phase tune    # or final, timing; --workers 2 runs two trainings at once
    python benchmarks/fashion_mnist_study.py --list          # the plan, and which runs are recorded
    python benchmarks/fashion_mnist_study.py --bundle        # copy the records into the package for chapter 09

Protocol (the same for every model):
- data: all 60,000 Fashion-MNIST training images, split once (seed 0) into 54,000 for training and a fixed 6,000 for
  validation; the 10,000 test images are evaluated only in the final runs, and reported only for the chosen setting;
- training: `CKANTrainer`, AdamW, batch 128, no augmentation, a cosine schedule to 1% over the run, the library's
  default smoothness penalty (it acts on spline models only); the training order is seeded by the run's seed, so every
  model sees the same batches in the same order;
- tuning: four settings per model (the CNNs: four learning rates; the spline models: two learning rates times two
  coefficient learning rates), each trained for `TUNE_EPOCHS` epochs on the first `TUNE_TRAIN` training images with
  seed 0 and scored on the validation split;
- final: the setting with the best validation accuracy, `FINAL_EPOCHS` epochs on all 54,000 images, seeds 0, 1, 2;
- timing (phase `timing`, run it on a quiet machine): seconds per epoch and inference time per image at batch 256 and
  batch 1, in one process: 5 rounds interleaved over all models, each the median of 10 timed steps; the median over rounds.

Each finished run writes one JSON file into benchmarks/results/fashion_mnist_study/ and is skipped when found there.
"""
import argparse, json, os, platform, statistics, sys, time
from pathlib import Path

OUT = Path(__file__).resolve().parent / 'results' / 'fashion_mnist_study'
BUNDLE = Path(__file__).resolve().parents[1] / 'ckan_nb' / 'results' / 'fashion_mnist_study.json'   # package data, read by chapter 09
SIZES = {'7k': 7_000, '10k': 10_000, '30k': 30_000}
FAMILIES = {  # family -> (registry model, kind shown in tables)
    'kan_conv':    ('kan_conv_small', 'KAN convolution'),
    'conv_spline': ('ckan_small', 'conv + spline activation'),
    'cnn_relu':    ('cnn_small', 'CNN, ReLU'),
    'cnn_silu':    ('cnn_small_silu', 'CNN, SiLU'),
    'cnn_prelu':   ('cnn_small_prelu', 'CNN, PReLU'),
}
SPLINE_FAMILIES = ('kan_conv', 'conv_spline')
SETTINGS = {  # four settings per model: (lr, spline_lr); a CNN has no spline coefficients, so spline_lr is unused there
    'spline': [(5e-3, 5e-3), (5e-3, 2.5e-2), (1e-2, 1e-2), (1e-2, 5e-2)],
    'cnn':    [(2e-3, None), (5e-3, None), (1e-2, None), (2e-2, None)],
}
# A first grid, one step lower (spline: lr 2e-3 and 5e-3; CNN: 1e-3 to 1e-2), put the best setting at its upper edge for
# most models, so the grid moved up one step; its runs are kept in first_grid/ and are not part of the study.
BATCH, TUNE_TRAIN, TUNE_EPOCHS, FINAL_EPOCHS, SEEDS, SPLIT_SEED = 128, 10_000, 4, 10, (0, 1, 2), 0
SCHEDULE = dict(scheduler='cosine', gamma=0.01)        # step_size = the run's epochs

def models()->dict:
    "model id -> dict(family, size, name, width, parameters, kind): every model of the study, widths matched to the sizes."
    from ckan_nb.models import build_model, count_parameters, match_width
    out = {}
    for size, target in SIZES.items():                          # build_model's default data: 1x28x28 images, 10 classes
        for family, (name, kind) in FAMILIES.items():
            width = round(match_width(lambda w: build_model(name, width=w), target), 4)
            out[f'{family}_{size}'] = dict(family=family, size=size, name=name, kind=kind, width=width,
                                           parameters=count_parameters(build_model(name, width=width)))
    return out

def setting_id(lr, spline_lr)->str: return f'lr{lr:g}' + (f'_slr{spline_lr:g}' if spline_lr else '')
def settings_of(m:dict)->list: return SETTINGS['spline' if m['family'] in SPLINE_FAMILIES else 'cnn']
def run_path(phase, model_id, setting, seed)->Path: return OUT / f'{phase}-{model_id}-{setting}-s{seed}.json'
def load(path): return json.loads(Path(path).read_text())

def chosen_setting(model_id:str, m:dict):
    "The (lr, spline_lr) with the best validation accuracy in the tuning runs, or None while any is missing."
    scores = []
    for lr, slr in settings_of(m):
        p = run_path('tune', model_id, setting_id(lr, slr), 0)
        if not p.exists(): return None
        scores.append((load(p)['final_valid_acc'], -lr, lr, slr))   # ties: the smaller learning rate
    return max(scores)[2:]

def plan(phase:str, ms:dict)->list:
    "The runs of `phase` as (path, model_id, lr, spline_lr, seed); final runs need their model's tuning finished."
    runs = []
    for model_id, m in ms.items():
        if phase == 'tune':
            runs += [(run_path('tune', model_id, setting_id(lr, slr), 0), model_id, lr, slr, 0) for lr, slr in settings_of(m)]
        elif phase == 'final':
            best = chosen_setting(model_id, m)
            if best: runs += [(run_path('final', model_id, setting_id(*best), s), model_id, *best, s) for s in SEEDS]
    order = {s: i for i, s in enumerate(SIZES)}     # small models first, all their seeds: the targets concern them
    return sorted(runs, key=lambda r: (order[ms[r[1]]['size']], r[4]))

def _atomic_write(path:Path, obj):
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    tmp.write_text(json.dumps(obj, indent=1)); os.replace(tmp, path)

def train_one(path:Path, model_id:str, lr:float, spline_lr, seed:int, m:dict, phase:str, threads:int):
    import torch
    from ckan_nb.models import build_model, count_parameters
    from ckan_nb.data import get_dataloaders
    from ckan_nb.train import CKANTrainer
    torch.set_num_threads(threads)
    epochs = TUNE_EPOCHS if phase == 'tune' else FINAL_EPOCHS
    dls = get_dataloaders('fashion_mnist', batch_size=BATCH, seed=SPLIT_SEED, num_workers=0,
                          train_size=TUNE_TRAIN if phase == 'tune' else None)
    dls.train.generator.manual_seed(seed)                       # the same batches, in the same order, for every model
    torch.manual_seed(seed)
    model = build_model(m['name'], dls.in_channels, dls.num_classes, dls.image_size, width=m['width'])
    trainer = CKANTrainer(model, lr=lr, spline_lr=spline_lr or lr, seed=seed, progress=False, step_size=epochs, **SCHEDULE)
    t0 = time.perf_counter()
    history = trainer.fit(dls.train, dls.valid, epochs)
    seconds = time.perf_counter() - t0
    rec = dict(phase=phase, model_id=model_id, model=m['name'], family=m['family'], kind=m['kind'], size=m['size'],
               width=m['width'], parameters=count_parameters(model), seed=seed, lr=lr, spline_lr=spline_lr,
               epochs=epochs, batch_size=BATCH, train_images=len(dls.train.dataset), valid_images=len(dls.valid.dataset),
               schedule=dict(SCHEDULE, step_size=epochs), smoothness=trainer.smoothness, augmentation=None,
               history=history, final_valid_acc=history[-1]['valid_acc'], best_valid_acc=max(h['valid_acc'] for h in history),
               seconds=seconds, seconds_per_epoch=seconds / epochs, threads=threads,
               note='seconds measured while other runs may share the CPU; phase timing gives the quiet figures')
    if phase == 'final':
        test = trainer.evaluate(dls.test)
        rec.update(test_accuracy=test['accuracy'], test_loss=test['loss'], test_images=test['samples'])
    rec.update(torch=torch.__version__, platform=platform.platform(), cpu_flags=cpu_isa(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    _atomic_write(path, rec)
    acc = f" test {rec['test_accuracy']:.2%}" if phase == 'final' else ''
    print(f"{path.name}: valid {rec['final_valid_acc']:.2%}{acc} in {seconds:.0f}s", flush=True)

def cpu_isa()->str:
    try: flags = next(l for l in open('/proc/cpuinfo') if l.startswith('flags')).split()
    except (OSError, StopIteration): return platform.machine()
    return 'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else platform.machine()

def claim(path:Path)->bool:
    "True if this process may run `path`: not recorded, and no other worker has claimed it."
    if path.exists(): return False
    lock = path.with_name(f'.{path.name}.lock')
    try: fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError: return False
    os.write(fd, str(os.getpid()).encode()); os.close(fd)
    return True

def worker(phase:str, threads:int):
    ms = models()
    for path, model_id, lr, slr, seed in plan(phase, ms):
        if not claim(path): continue
        try: train_one(path, model_id, lr, slr, seed, ms[model_id], phase, threads)
        finally: path.with_name(f'.{path.name}.lock').unlink(missing_ok=True)

def timing(rounds:int=5, steps:int=10):
    "Quiet-machine timing of every model of the study in one process: interleaved rounds, medians over rounds."
    import torch, torch.nn.functional as F
    from ckan_nb.models import build_model
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    ms, steps_per_epoch = models(), -(-54_000 // BATCH)
    todo = [i for i in ms if not (OUT / f'timing-{i}.json').exists()]
    if not todo: return
    def timed(f, n, warmup=2):
        for _ in range(warmup): f()
        out = []
        for _ in range(n): t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
        return statistics.median(out)
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    b256, b1 = torch.randn(256, 1, 28, 28), torch.randn(1, 1, 28, 28)
    nets, opts, times = {}, {}, {i: dict(step=[], b256=[], b1=[]) for i in todo}
    for i in todo:
        torch.manual_seed(0)
        nets[i] = build_model(ms[i]['name'], width=ms[i]['width'])
        opts[i] = torch.optim.AdamW(nets[i].parameters(), 1e-3)
    for _ in range(rounds):                  # interleaved: a slow spell of the machine hits every model alike
        for i in todo:
            net, opt = nets[i], opts[i]
            def train_step():
                loss = F.cross_entropy(net(x), y); opt.zero_grad(); loss.backward(); opt.step()
            net.train(); times[i]['step'].append(timed(train_step, steps))
            net.eval()
            with torch.no_grad():
                times[i]['b256'].append(timed(lambda: net(b256), steps))
                times[i]['b1'].append(timed(lambda: net(b1), 5 * steps))
    for i in todo:
        t = {k: statistics.median(v) for k, v in times[i].items()}
        spread = {k: max(v) / min(v) for k, v in times[i].items()}
        rec = dict(model_id=i, **ms[i], train_step_ms=t['step'] * 1e3, steps_per_epoch=steps_per_epoch,
                   seconds_per_epoch=t['step'] * steps_per_epoch, inference_ms_per_image_b256=t['b256'] * 1e3 / 256,
                   inference_ms_per_image_b1=t['b1'] * 1e3, spread_max_over_min=spread, rounds=rounds, steps=steps,
                   threads=torch.get_num_threads(),
                   method=f'{rounds} interleaved rounds over all models; per round the median of {steps} timed training steps '
                          f'(forward, backward, AdamW) on one batch of {BATCH}, and of inference at batch 256 and 1 (eval, no '
                          f'gradients); the median over rounds; seconds per epoch = step time x {steps_per_epoch} steps of an '
                          f'epoch of 54,000 images (data loading and validation excluded)',
                   torch=torch.__version__, platform=platform.platform(), cpu_flags=cpu_isa(),
                   finished=time.strftime('%Y-%m-%d %H:%M:%S'))
        _atomic_write(OUT / f'timing-{i}.json', rec)
        print(f"{i:18s} {rec['parameters']:6,} params  {rec['seconds_per_epoch']:6.1f} s/epoch  "
              f"{rec['inference_ms_per_image_b256']:.4f} ms/image @256  {rec['inference_ms_per_image_b1']:.3f} ms @1  "
              f"spread {max(spread.values()):.2f}", flush=True)

def bundle():
    "Collect the run files into the package's bundle (what `ckan_nb.benchmark.load_study()` reads without a clone)."
    study = {phase: [load(p) for p in sorted(OUT.glob(f'{phase}-*.json'))] for phase in ('tune', 'final', 'timing')}
    BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(BUNDLE, study)
    print(f"wrote {BUNDLE}: " + ', '.join(f'{len(v)} {k} runs' for k, v in study.items()))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--phase', choices=['tune', 'final', 'timing', 'all'], default='all')
    p.add_argument('--workers', type=int, default=1, help='trainings at once, each with --threads threads (default: 1)')
    p.add_argument('--threads', type=int, default=None, help='torch threads per training (default: cores / workers)')
    p.add_argument('--list', action='store_true', help='print the plan and what is recorded, then stop')
    p.add_argument('--bundle', action='store_true', help='collect the recorded runs into the package (ckan_nb/results/), then stop')
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if a.bundle: return bundle()
    if a.list:
        ms = models()
        for model_id, m in ms.items(): print(f"{model_id:18s} {m['name']:16s} width {m['width']:.4f} {m['parameters']:6,} parameters")
        for phase in ('tune', 'final'):
            runs = plan(phase, ms)
            print(f"{phase}: {sum(r[0].exists() for r in runs)} of {len(runs)} runs recorded")
        return
    for lock in OUT.glob('.*.lock'):                # a worker that was killed leaves its claim behind
        try: os.kill(int(lock.read_text() or 0), 0)
        except (ValueError, ProcessLookupError): lock.unlink(missing_ok=True)
    threads = a.threads or max(1, (os.cpu_count() or 1) // a.workers)
    for phase in (['tune', 'final', 'timing'] if a.phase == 'all' else [a.phase]):
        if phase == 'timing': timing(); continue
        if a.workers == 1: worker(phase, threads); continue
        pids = []
        for _ in range(a.workers):
            pid = os.fork()
            if pid == 0:
                try: worker(phase, threads)
                finally: os._exit(0)
            pids.append(pid)
        for pid in pids: os.waitpid(pid, 0)

if __name__ == '__main__': main()
