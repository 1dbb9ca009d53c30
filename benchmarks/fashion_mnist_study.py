"""The Fashion-MNIST study of chapter 09, protocol 2: CKANs of both kinds against parameter-matched CNN twins, every model
tuned at the final training length on the same ladder, compared on paired seeds, with ablations that say where a gain
comes from.

    python benchmarks/fashion_mnist_study.py --workers 2    # every run of the plan whose inputs are ready, skipping recorded ones
    python benchmarks/fashion_mnist_study.py --list         # the plan: arms, widths, chosen settings, what is recorded
    python benchmarks/fashion_mnist_study.py --phase timing # quiet-machine timing of the main arms (run it alone)
    python benchmarks/fashion_mnist_study.py --bundle       # copy the records of v1 and v2 into the package for chapter 09

Protocol 2 (the same for every model; what changed from protocol 1 is marked *):
- data: all 60,000 Fashion-MNIST training images, split once (seed 0) into 54,000 for training and a fixed 6,000 for
  validation; the 10,000 test images are evaluated at the end of every run and read only for the chosen settings;
- training: `CKANTrainer`, AdamW, batch 128, no augmentation, a cosine schedule to 1% over the run, the library's
  default smoothness penalty (it acts on spline models only), one thread per run; the training order is seeded by the
  run's seed, so every model sees the same batches in the same order and runs of one seed can be compared in pairs;
- * tuning at the final length: every candidate trains exactly as a final run (10 epochs on all 54,000 images) with seed
  0 and is scored on the validation split (its accuracy after the last epoch; ties go to the smaller learning rate);
- * the same ladder for every model: lr in 2.5e-3, 5e-3, 1e-2, 2e-2 (x2 apart), with `spline_lr = lr` for spline models;
  while the best rung is an end of its ladder, the next rung (x2) on that side is added and trained, for every model alike;
- * seeds: the chosen setting's tuning run is its seed-0 final; seeds 1-4 (7K) or 1-2 (30K) follow; sizes 7K and 30K;
- * ablations at 7K, each at its parent's chosen setting, 5 seeds, paired with the parent, re-matched to 7K parameters;
- * a convergence arm: the best 7K CKAN and its best CNN twin (by mean validation accuracy) at 20 epochs, 3 seeds;
- * basis arms (issue 21), after every other run: the Gram-polynomial KAN convolution without and with a BatchNorm after
  each layer (as the B-spline ablation `kan_conv_7k_bn`) at 7K, the better of the two (by mean validation accuracy of
  its 7K finals) at 30K, and a conv + Gram-activation CKAN at 7K; tuned on the same ladder by the same rules as the main
  arms, with the same seeds; compared (exploratory) with their B-spline counterpart and the CNN twins of their size;
- * every run saves its trained weights (`state_dict`, `weights_only`-loadable) beside its record.
- timing (phase `timing`, on a quiet machine): seconds per epoch and inference time per image at batch 256 and batch 1,
  in one process: 5 rounds interleaved over all models, each the median of 10 timed steps; the median over rounds.

Analysis, fixed before any final run was trained (chapter 09 computes it from the records):
- paired statistics: for a CKAN and a CNN twin of its size, the per-seed differences in test accuracy (the same seeds,
  hence the same batches), their mean and a 95% t-interval over the paired seeds; "beats" means the interval's lower
  end is above 0, "within noise" that it contains 0;
- planned comparisons: at each size, the CKAN (of the two kinds) with the higher mean validation accuracy over its
  seeds, against each of the three CNN twins of that size -- 6 comparisons; a Bonferroni-adjusted interval (99.17%) is
  shown beside each;
- everything else is exploratory and labelled so: the other CKAN against the twins, each ablation against its parent,
  the 20-epoch arm against the 10-epoch runs, and protocol 1 against protocol 2;
- reproduction gate: the 7K ReLU twin (Bodner et al.'s "CNN (Medium, but with more convs)", 89.56% published, one
  run) must reach a mean of at least 89.3% before the comparisons are read.

Each finished run writes `<arm>-<setting>-s<seed>.json` and `.pt` into benchmarks/results/fashion_mnist_study_v2/ and
is skipped when found there. Protocol 1's records are kept, read-only, in benchmarks/results/fashion_mnist_study_v1/.
"""
import argparse, hashlib, json, os, platform, statistics, sys, time, traceback
from pathlib import Path

PROTOCOL = 2
RESULTS = Path(__file__).resolve().parent / 'results'
OUT, V1 = RESULTS / 'fashion_mnist_study_v2', RESULTS / 'fashion_mnist_study_v1'
BUNDLE = Path(__file__).resolve().parents[1] / 'ckan_nb' / 'results' / 'fashion_mnist_study.json'   # package data, read by chapter 09
SIZES = {'7k': 7_000, '30k': 30_000}
SEEDS = {'7k': (0, 1, 2, 3, 4), '30k': (0, 1, 2)}
FAMILIES = {  # family -> (registry model, kind shown in tables)
    'kan_conv':    ('kan_conv_small', 'KAN convolution'),
    'conv_spline': ('ckan_small', 'conv + spline activation'),
    'cnn_relu':    ('cnn_small', 'CNN, ReLU'),
    'cnn_silu':    ('cnn_small_silu', 'CNN, SiLU'),
    'cnn_prelu':   ('cnn_small_prelu', 'CNN, PReLU'),
}
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))       # the checkout's ckan_nb, also when it is not installed
from ckan_nb.benchmark import STUDY_LADDER as LADDER, CKAN_FAMILIES, TWIN_FAMILIES   # one definition, read by chapter 09 too
STEP = 2.0                                             # the ladder's rungs are x2 apart; extended by x2 at an end
BATCH, EPOCHS, LONG_EPOCHS, SPLIT_SEED = 128, 10, 20, 0
SCHEDULE = dict(scheduler='cosine', gamma=0.01)        # step_size = the run's epochs
ABLATIONS = {  # 7K ablations: parent family -> {suffix: (what it changes, model arguments, spline_lr / lr, GridUpdate)}
    'conv_spline': {'nobase': ('no SiLU base branch', dict(base_activation=None), 1, False),
                    'g10':    ('grid size 10', dict(grid_size=10), 1, False),
                    'k1g7':   ('spline order 1, grid size 7 (piecewise linear, 8 coefficients)', dict(spline_order=1, grid_size=7), 1, False),
                    'slr5':   ('spline_lr = 5 x lr', {}, 5, False)},
    'kan_conv':    {'bn':     ('a BatchNorm after each KAN convolution', dict(norm='batch'), 1, False),
                    'gridupdate': ("GridUpdate, chapter 08's default schedule", {}, 1, True)},
}
BASIS_ARMS = {  # issue 21, after every other arm: arm -> (family, size, registry model, kind, model arguments, B-spline counterpart)
    'gram_kan_conv_7k':       ('gram_kan_conv', '7k', 'kan_conv_small', 'Gram KAN convolution', dict(basis='gram'), 'kan_conv_7k'),
    'gram_kan_conv_7k_norm':  ('gram_kan_conv', '7k', 'kan_conv_small', 'Gram KAN convolution, BatchNorm after each layer',
                               dict(basis='gram', norm='batch'), 'kan_conv_7k_bn'),
    'conv_gram_7k':           ('conv_gram', '7k', 'ckan_small', 'conv + Gram activation', dict(basis='gram'), 'conv_spline_7k'),
    'gram_kan_conv_30k':      ('gram_kan_conv', '30k', 'kan_conv_small', 'Gram KAN convolution', dict(basis='gram'), 'kan_conv_30k'),
    'gram_kan_conv_30k_norm': ('gram_kan_conv', '30k', 'kan_conv_small', 'Gram KAN convolution, BatchNorm after each layer',
                               dict(basis='gram', norm='batch'), 'kan_conv_30k'),
}                               # of the two 30K arms only the one whose 7K twin has the higher mean validation accuracy runs

def _width(name:str, target:int, args:dict)->float:
    from ckan_nb.models import build_model, match_width
    return round(match_width(lambda w: build_model(name, width=w, **args), target), 4)

def arms()->dict:
    "arm id -> dict(role, family, size, name, kind, model_args, width, parameters, parent, ...): every model of the study."
    from ckan_nb.models import build_model, count_parameters
    out = {}
    def add(arm_id, **a):
        a.setdefault('model_args', {}); a.setdefault('slr_ratio', 1); a.setdefault('grid_update', False)
        a.setdefault('epochs', EPOCHS); a.setdefault('parent', None)
        a.setdefault('width', _width(a['name'], SIZES[a['size']], a['model_args']))
        a['parameters'] = count_parameters(build_model(a['name'], width=a['width'], **a['model_args']))
        a['seeds'] = SEEDS[a['size']] if a['role'] != 'long' else (0, 1, 2)
        out[arm_id] = a
    for size in SIZES:                                   # the main arms: tuned, then the chosen setting on every seed
        for family, (name, kind) in FAMILIES.items(): add(f'{family}_{size}', role='main', family=family, size=size, name=name, kind=kind)
    for parent, abl in ABLATIONS.items():                # untuned by design: each at its parent's chosen setting
        p = out[f'{parent}_7k']
        for suffix, (what, args, ratio, gu) in abl.items():
            same = not args                              # same model: same width; else re-matched to 7K
            add(f'{parent}_7k_{suffix}', role='ablation', family=parent, size='7k', name=p['name'], kind=f"{p['kind']}: {what}",
                model_args=args, slr_ratio=ratio, grid_update=gu, parent=f'{parent}_7k', **(dict(width=p['width']) if same else {}))
    for family in (*CKAN_FAMILIES, *TWIN_FAMILIES):      # the convergence arm: which two run is decided by the 7K finals
        p = out[f'{family}_7k']
        add(f'{family}_7k_e{LONG_EPOCHS}', role='long', family=family, size='7k', name=p['name'], kind=f"{p['kind']}, {LONG_EPOCHS} epochs",
            parent=f'{family}_7k', epochs=LONG_EPOCHS, width=p['width'])
    for arm_id, (family, size, name, kind, args, partner) in BASIS_ARMS.items():   # tuned like the main arms, after all of them
        add(arm_id, role='basis', family=family, size=size, name=name, kind=kind, model_args=args, parent=partner)
    return out

def setting_id(lr, spline_lr=None)->str: return f'lr{lr:g}' + (f'_slr{spline_lr:g}' if spline_lr and spline_lr != lr else '')
def run_path(arm_id, lr, spline_lr, seed)->Path: return OUT / f'{arm_id}-{setting_id(lr, spline_lr)}-s{seed}.json'
def load(path): return json.loads(Path(path).read_text())
def _rung(lr): return float(f'{lr:.6g}')

def ladder_state(arm_id:str):
    "(chosen lr or None, list of lrs still to train) for a main arm: the ladder, extended at an end until the choice is interior."
    rungs, scores = sorted(LADDER), {}
    while True:
        todo = [lr for lr in rungs if lr not in scores and not run_path(arm_id, lr, lr, 0).exists()]
        for lr in rungs:
            if lr not in scores and run_path(arm_id, lr, lr, 0).exists(): scores[lr] = load(run_path(arm_id, lr, lr, 0))['final_valid_acc']
        if todo: return None, todo
        best = max(rungs, key=lambda lr: (scores[lr], -lr))                   # ties: the smaller learning rate
        if best == rungs[0]: rungs.insert(0, _rung(best / STEP))
        elif best == rungs[-1]: rungs.append(_rung(best * STEP))
        else: return best, []

def chosen(arm_id:str):
    "The chosen learning rate of a main arm, or None while its ladder is unfinished."
    return ladder_state(arm_id)[0]

def mean_valid(arm_id:str, lr, ms:dict):
    "Mean final validation accuracy of a main arm's finals, or None while any is missing."
    ps = [run_path(arm_id, lr, lr, s) for s in ms[arm_id]['seeds']]
    return statistics.mean(load(p)['final_valid_acc'] for p in ps) if all(p.exists() for p in ps) else None

def long_families(ms:dict):
    "The convergence arm's two families: the best 7K CKAN and its best twin by mean validation accuracy; None until known."
    best = {}
    for group in (CKAN_FAMILIES, TWIN_FAMILIES):
        vals = []
        for f in group:
            lr = chosen(f'{f}_7k')
            v = mean_valid(f'{f}_7k', lr, ms) if lr else None
            if v is None: return None
            vals.append((v, f))
        best[group] = max(vals)[1]
    return best[CKAN_FAMILIES], best[TWIN_FAMILIES]

def basis_30k(ms:dict):
    "The 30K Gram KAN convolution arm to run: the one whose 7K twin has the higher mean validation accuracy; None until known."
    vals = []
    for arm_id in ('gram_kan_conv_7k', 'gram_kan_conv_7k_norm'):
        lr = chosen(arm_id)
        v = mean_valid(arm_id, lr, ms) if lr else None
        if v is None: return None
        vals.append((v, arm_id.replace('_7k', '_30k')))
    return max(vals)[1]

def plan(ms:dict):
    "(runs ready to train, in order, as (path, arm_id, lr, spline_lr, seed); number of runs still waiting for others)."
    ready, waiting = [], 0
    stage = lambda size, k, basis=False: (6 if basis else 0) + (0 if size == '7k' else 2) + k   # 7K tune+finals, 30K tune+finals,
                                                                      # then ablations (4), long (5), basis arms 7K (6-7), 30K (8-9)
    longs, gram30 = long_families(ms), basis_30k(ms)
    for arm_id, a in ms.items():
        if a['role'] == 'basis' and a['size'] == '30k' and arm_id != gram30:
            if gram30 is None: waiting += 1                            # at least its tuning run, once the 7K finals decide
            continue
        if a['role'] in ('main', 'basis'):
            best, todo = ladder_state(arm_id)
            b = a['role'] == 'basis'
            if todo: ready += [((stage(a['size'], 0, b), 0, lr), (run_path(arm_id, lr, lr, 0), arm_id, lr, lr, 0)) for lr in todo]
            else: ready += [((stage(a['size'], 1, b), s, 0), (run_path(arm_id, best, best, s), arm_id, best, best, s)) for s in a['seeds']]
            continue
        lr = chosen(a['parent'])
        if lr is None or (a['role'] == 'long' and longs is None): waiting += len(a['seeds']); continue
        if a['role'] == 'long' and a['family'] not in longs: continue
        slr = lr * a['slr_ratio']
        ready += [((4 if a['role'] == 'ablation' else 5, s, 0), (run_path(arm_id, lr, slr, s), arm_id, lr, slr, s)) for s in a['seeds']]
    ready = [r for _, r in sorted(ready, key=lambda t: t[0]) if not r[0].exists()]
    return ready, waiting

def _atomic_write(path:Path, obj):
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    tmp.write_text(json.dumps(obj, indent=1)); os.replace(tmp, path)

def sha256(path:Path)->str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def train_one(path:Path, arm_id:str, lr:float, spline_lr:float, seed:int, a:dict, threads:int):
    import torch
    from ckan_nb.models import build_model, count_parameters
    from ckan_nb.data import get_dataloaders
    from ckan_nb.train import CKANTrainer
    from ckan_nb.grids import GridUpdate
    torch.set_num_threads(threads)
    epochs = a['epochs']
    dls = get_dataloaders('fashion_mnist', batch_size=BATCH, seed=SPLIT_SEED, num_workers=0)
    dls.train.generator.manual_seed(seed)                       # the same batches, in the same order, for every model
    torch.manual_seed(seed)
    model = build_model(a['name'], dls.in_channels, dls.num_classes, dls.image_size, width=a['width'], **a['model_args'])
    callbacks = [GridUpdate()] if a['grid_update'] else []
    trainer = CKANTrainer(model, lr=lr, spline_lr=spline_lr, seed=seed, progress=False, step_size=epochs, callbacks=callbacks, **SCHEDULE)
    t0 = time.perf_counter()
    history = trainer.fit(dls.train, dls.valid, epochs)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(dls.test)
    weights = path.with_suffix('.pt')
    tmp = weights.with_name(f'.{weights.name}.{os.getpid()}.tmp')
    state = {k: v.detach().cpu().clone() if torch.is_tensor(v) else v for k, v in model.state_dict().items()}   # a non-B-spline basis keeps a dict (extra state)
    torch.save(state, tmp); os.replace(tmp, weights)
    rec = dict(protocol=PROTOCOL, arm=arm_id, role=a['role'], parent=a['parent'], model=a['name'], family=a['family'],
               kind=a['kind'], size=a['size'], model_args=a['model_args'], width=a['width'], parameters=count_parameters(model),
               seed=seed, lr=lr, spline_lr=spline_lr, grid_update=a['grid_update'], epochs=epochs, batch_size=BATCH,
               train_images=len(dls.train.dataset), valid_images=len(dls.valid.dataset),
               schedule=dict(SCHEDULE, step_size=epochs), smoothness=trainer.smoothness, augmentation=None, optimizer='AdamW',
               history=history, final_valid_acc=history[-1]['valid_acc'], best_valid_acc=max(h['valid_acc'] for h in history),
               test_accuracy=test['accuracy'], test_loss=test['loss'], test_images=test['samples'],
               weights=weights.name, weights_sha256=sha256(weights),
               seconds=seconds, seconds_per_epoch=seconds / epochs, threads=threads,
               note='seconds measured while another run shares the CPU; phase timing gives the quiet figures',
               torch=torch.__version__, platform=platform.platform(), cpu_flags=cpu_isa(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    _atomic_write(path, rec)
    print(f"{path.name}: valid {rec['final_valid_acc']:.2%} test {rec['test_accuracy']:.2%} in {seconds:.0f}s", flush=True)

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

def worker(threads:int, only=None, poll:float=30.):
    "Train the plan's ready runs one by one; wait while the rest depend on runs of another worker; stop when none is left."
    ms, failed = arms(), set()
    while True:
        ready, waiting = plan(ms)
        if only: ready = [r for r in ready if any(r[1].startswith(o) for o in only)]
        ready = [r for r in ready if r[0] not in failed]      # a run that failed here is not retried by this process
        for path, arm_id, lr, slr, seed in ready:
            if not claim(path): continue
            try: train_one(path, arm_id, lr, slr, seed, ms[arm_id], threads)
            except Exception:                                  # say which run failed and why, record nothing, go on
                failed.add(path)
                print(f"FAILED {path.name} (nothing recorded; it stays in the plan):\n{traceback.format_exc()}", file=sys.stderr, flush=True)
            finally: path.with_name(f'.{path.name}.lock').unlink(missing_ok=True)
            break
        else:
            if not (waiting or any(OUT.glob('.*.lock')) or ready): return
            time.sleep(poll)

def timing(rounds:int=5, steps:int=10):
    "Quiet-machine timing of every main arm in one process: interleaved rounds, medians over rounds."
    import torch, torch.nn.functional as F
    from ckan_nb.models import build_model
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    ms, steps_per_epoch = {k: a for k, a in arms().items() if a['role'] in ('main', 'basis')}, -(-54_000 // BATCH)
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
        nets[i] = build_model(ms[i]['name'], width=ms[i]['width'], **ms[i]['model_args'])
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
        rec = dict(protocol=PROTOCOL, arm=i, **{k: v for k, v in ms[i].items() if k != 'seeds'}, train_step_ms=t['step'] * 1e3,
                   steps_per_epoch=steps_per_epoch, seconds_per_epoch=t['step'] * steps_per_epoch,
                   inference_ms_per_image_b256=t['b256'] * 1e3 / 256, inference_ms_per_image_b1=t['b1'] * 1e3,
                   rounds_ms=dict(step=[v * 1e3 for v in times[i]['step']], b256=[v * 1e3 for v in times[i]['b256']],
                                  b1=[v * 1e3 for v in times[i]['b1']]),
                   spread_max_over_min=spread, rounds=rounds, steps=steps, threads=torch.get_num_threads(),
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
    "Collect both protocols' records into the package's bundle (what `ckan_nb.benchmark.load_study()` reads without a clone)."
    def records(folder, phases): return {ph: [load(p) for p in sorted(folder.glob(f'{ph}-*.json'))] for ph in phases}
    v2 = sorted(OUT.glob('*.json'))
    study = {'v1': records(V1, ('tune', 'final', 'timing')),
             'v2': dict(runs=[load(p) for p in v2 if not p.name.startswith('timing-')],
                        timing=[load(p) for p in v2 if p.name.startswith('timing-')])}
    BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(BUNDLE, study)
    print(f"wrote {BUNDLE}: v1 " + ', '.join(f'{len(v)} {k}' for k, v in study['v1'].items())
          + f"; v2 {len(study['v2']['runs'])} runs, {len(study['v2']['timing'])} timings")

def show_plan():
    ms = arms()
    for arm_id, a in ms.items():
        recorded = sorted(p.name for p in OUT.glob(f'{arm_id}-lr*.json'))
        lr = chosen(arm_id) if a['role'] in ('main', 'basis') else chosen(a['parent'])
        print(f"{arm_id:26s} {a['role']:8s} {a['name']:16s} width {a['width']:.4f} {a['parameters']:6,} params  "
              f"chosen lr {lr if lr else '-':<7} {len(recorded)} runs recorded")
    ready, waiting = plan(ms)
    print(f"{len(ready)} runs ready, {waiting} waiting for others; long arm: {long_families(ms) or 'not decided yet'}; "
          f"30K Gram arm: {basis_30k(ms) or 'not decided yet'}")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--phase', choices=['train', 'timing'], default='train')
    p.add_argument('--workers', type=int, default=1, help='trainings at once (default: 1)')
    p.add_argument('--threads', type=int, default=1, help='torch threads per training (default: 1, as every recorded run)')
    p.add_argument('--only', nargs='*', help='train only the arms whose id starts with one of these')
    p.add_argument('--list', action='store_true', help='print the plan and what is recorded, then stop')
    p.add_argument('--bundle', action='store_true', help='collect the recorded runs into the package (ckan_nb/results/), then stop')
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if a.bundle: return bundle()
    if a.list: return show_plan()
    for lock in OUT.glob('.*.lock'):                # a worker that was killed leaves its claim behind
        try: os.kill(int(lock.read_text() or 0), 0)
        except (ValueError, ProcessLookupError): lock.unlink(missing_ok=True)
    if a.phase == 'timing': return timing()
    if a.workers == 1: return worker(a.threads, a.only)
    pids = []
    for _ in range(a.workers):
        pid = os.fork()
        if pid == 0:
            try: worker(a.threads, a.only)
            except BaseException: traceback.print_exc(); sys.stderr.flush()   # os._exit would swallow it
            finally: os._exit(0)
        pids.append(pid)
    for pid in pids: os.waitpid(pid, 0)

if __name__ == '__main__': main()
