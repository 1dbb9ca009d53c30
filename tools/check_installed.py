"""Use ckan_nb as a user who installed the wheel does: run the README's quick start, then call every public
function of `ckan_nb.interpret`, `ckan_nb.grids`, `ckan_nb.benchmark` and `ckan_nb.pretrained` once on small inputs
(the pretrained weights must be found inside the installed package).

    python check_installed.py README.md     (run from a folder outside the checkout, with the user's python)

The notebooks' own tests cannot see what this sees: they run in the notebook's namespace, where a hidden cell
may have imported a name that the exported module lacks. Exits 1 (and names the calls) on any failure, and
also when a public name of those modules has no call here, so a new function cannot slip past it.
"""
import os, re, sys, tempfile, traceback
from pathlib import Path

os.environ.setdefault('MPLBACKEND', 'Agg')
import ckan_nb
if (Path(ckan_nb.__file__).resolve().parent.parent / 'settings.ini').exists():
    sys.exit(f"ckan_nb was imported from the checkout ({ckan_nb.__file__}), not from the installed wheel")
print(f"ckan_nb {ckan_nb.__version__} from {Path(ckan_nb.__file__).parent}")

failures, done = [], set()
def check(name, f):
    "Run `f()`; record `name` as covered and report a failure with its traceback instead of stopping."
    done.add(name)
    try: f(); print(f"ok    {name}")
    except (Exception, SystemExit):                                  # argparse's exit 2 on a bad option counts as a failure
        failures.append(name); print(f"FAIL  {name}"); traceback.print_exc()

def quick_start(readme):
    "Run the ```python blocks of the README's 'Quick start' section, in order, in one namespace."
    text = Path(readme).read_text(encoding='utf-8')
    sec = re.search(r'^## Quick start\n(.*?)(?=^## )', text, re.S | re.M)
    if sec is None: raise ValueError(f"{readme} has no '## Quick start' section")
    blocks = re.findall(r'^``` ?python\n(.*?)^```', sec.group(1), re.S | re.M)
    if not blocks: raise ValueError("the quick start has no python code")
    ns = {'__name__': '__quick_start__'}
    for b in blocks: exec(compile(b, f'{readme}:quick start', 'exec'), ns)

import torch, torch.nn as nn
import ckan_nb.conv
from torch.utils.data import DataLoader, TensorDataset
import matplotlib; import matplotlib.pyplot as plt
from ckan_nb import interpret, grids, benchmark, pretrained
from ckan_nb.activations import SplineActivation
from ckan_nb.kan import KANLinear

if len(sys.argv) > 1: check('README quick start', lambda: quick_start(sys.argv[1]))

torch.manual_seed(0)
def small_model(): return nn.Sequential(nn.Conv2d(1, 4, 3), SplineActivation(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        KANLinear(4, 3, grid_size=5))
model, act, images = small_model(), SplineActivation(3), torch.randn(2, 1, 8, 8)

# ckan_nb.interpret
def _summary():
    rows = interpret.summarize_splines(model)
    assert [r['name'] for r in rows] == ['1', '4'], rows
    assert interpret.splines_markdown(rows).startswith('| name |')
check('interpret.spline_order', lambda: interpret.spline_order(act) == 3 or 1 / 0)
check('interpret.grid_range', lambda: interpret.grid_range(act) == (-1.0, 1.0) or 1 / 0)
check('interpret.plot_spline_functions', lambda: (len(interpret.plot_spline_functions(act).lines) == 3 or 1 / 0, plt.close('all')))
check('interpret.nonlinearity', lambda: interpret.nonlinearity(act).shape == (3,) or 1 / 0)
check('interpret.summarize_splines', _summary)
check('interpret.splines_markdown', lambda: '| a |' in interpret.splines_markdown([{'a': 1}]) or 1 / 0)
check('interpret.activation_coverage', lambda: list(interpret.activation_coverage(model, images)) == ['1', '4'] or 1 / 0)
def _reading():
    ins = interpret.spline_inputs(model, images); assert list(ins) == ['1', '4'], list(ins)
    fs = interpret.function_samples(model[1], ins['1']); assert isinstance(fs, interpret.FunctionSamples) and fs.samples.shape[0] == 4
    assert interpret.function_values(model[1], fs).shape == (4, fs.samples.shape[1])
    assert interpret.function_curves(model[4], ins['4'])[1].shape == (12, 101)
    assert abs(interpret.nonlinearity_baseline() - interpret.nonlinearity(SplineActivation(2, spline_init_scale=0.))[0]) < 1e-5
    assert interpret.shape_census(model[1], ins['1'])['monotone'].shape == (4,)
    assert interpret.function_importance(model[4], ins['4']).shape == (3, 4)
    plt.close(interpret.plot_functions_on_data(model[1], ins['1'], twin=nn.PReLU(4)).figure)
check('interpret: reading functions on data', _reading)
done.update({f'interpret.{n}' for n in ('spline_inputs', 'FunctionSamples', 'function_samples', 'function_values', 'function_curves',
                                        'nonlinearity_baseline', 'shape_census', 'function_importance', 'plot_functions_on_data')})
def _symbolic():
    fit = interpret.fit_symbolic(model[4]); assert isinstance(fit, interpret.SymbolicFit) and fit.r2.shape == (3, 4), fit.r2.shape
    assert set(fit.counts()) == set(interpret.SYMBOLIC_LIBRARY) and '*' in fit.formula((0, 0))
    lib = {'x': interpret.SYMBOLIC_LIBRARY['x'], 'cube': interpret.SymbolicFamily(lambda u: u ** 3, None, 'shift')}
    assert interpret.fit_symbolic(model[1], library=lib).names == ('x', 'cube')
    sym = interpret.to_symbolic(model, r2_min=0.)                    # every function a formula
    assert isinstance(sym[1], interpret.SymbolicFunctions) and sym(images).shape == (2, 3)
    p = interpret.prune(model, 0.5, images); assert [int(m.sum()) for m in p.pruned.values()] == [2, 6], p.pruned
    conv = ckan_nb.conv.KANConv2d(2, 3, 3)
    plt.close(interpret.plot_conv_taps(conv, torch.randn(2, 2, 6, 6), 1))
check('interpret: formulas and pruning', _symbolic)
done.update({f'interpret.{n}' for n in ('fit_symbolic', 'SymbolicFit', 'SymbolicFamily', 'SYMBOLIC_LIBRARY', 'to_symbolic', 'SymbolicFunctions',
                                        'prune', 'plot_conv_taps')})

# ckan_nb.pretrained: the weights are package data of the installed wheel
def _pretrained():
    rows = pretrained.list_pretrained(); assert rows, 'no pretrained models'
    d = pretrained.pretrained_dir(); assert Path(ckan_nb.__file__).parent in d.parents or d.parent == Path(ckan_nb.__file__).parent, d
    for r in rows:
        info = pretrained.pretrained_info(r['name']); assert info['path'].is_file(), info['path']
        net = pretrained.load_pretrained(r['name']); assert not net.training
    assert issubclass(pretrained.ChecksumError, ValueError)
    x, y = pretrained.pretrained_data(rows[0]['name'], size=4); assert x.shape == (4, 1, 28, 28)
    ev = pretrained.evaluate_pretrained(rows[0]['name']); assert abs(ev['accuracy'] - ev['recorded']) <= 0.0005, ev
    print(f"      {len(rows)} pretrained models in {d}; {rows[0]['name']}: test accuracy {ev['accuracy']:.2%} (recorded {ev['recorded']:.2%})")
check('pretrained: list, load every model from the wheel, data, evaluate', _pretrained)
done.update({f'pretrained.{n}' for n in pretrained.__all__})

# ckan_nb.grids
def _refine():
    a = SplineActivation(3, grid_size=5); x = torch.rand(64) * 1.8 - 0.9
    before = a.evaluate(x); grids.refine_grid(a, 10)
    assert a.grid_size == 10 and torch.allclose(a.evaluate(x), before, atol=1e-2)
def _insert():
    a = SplineActivation(3, grid_size=5); x = torch.rand(64) * 1.8 - 0.9
    before = a.evaluate(x); grids.insert_knots(a, [0.1, -0.3])
    assert a.grid_size == 7 and torch.allclose(a.evaluate(x), before, atol=1e-5)
def _adaptive():
    a = grids.AdaptiveSplineActivation(3, initial_grid_size=5, max_grid_size=8)
    a.refine_grid(torch.randn(4, 3, 5, 5) * 0.2); assert 5 < a.grid_size <= 8, a.grid_size
def _callback():
    from ckan_nb.train import CKANTrainer
    x = torch.randn(64, 1, 8, 8); y = (x.mean((1, 2, 3)) > 0).long()
    m = small_model()
    CKANTrainer(m, device='cpu', scheduler=None, progress=False, seed=0,
                callbacks=[grids.GridRefinement({1: 8})]).fit(DataLoader(TensorDataset(x, y), batch_size=32), epochs=2)
    assert [s.grid_size for s in (m[1], m[4])] == [8, 8]
def _extend():
    a = SplineActivation(3, grid_size=5); x = torch.rand(64) * 1.8 - 0.9
    before = a.evaluate(x); grids.extend_grid(a, 10)
    assert a.grid_size == 10 and torch.allclose(a.evaluate(x), before, atol=1e-2)
def _knots():
    g = grids.extended_knots(SplineActivation(1).grid, 10, 3); assert g.shape[-1] == 10 + 2 * 3 + 1, g.shape
    d = grids.data_grid(torch.randn(2, 500), 5, 3); assert d.shape == (2, 12) and bool((d.diff(dim=-1) > 0).all())
    t = grids.refit_matrix(torch.randn(2, 500), SplineActivation(2).grid, d, 3); assert t.shape == (2, 8, 8), t.shape
    r = grids.change_report(torch.ones(4), torch.ones(4)); assert r == dict(rms=0., max=0.), r
def _update():
    a = SplineActivation(3); x = torch.randn(16, 3, 4, 4) * 2
    rep = a.update_grid(x); assert set(rep) >= {'rms', 'max'} and a.grid.shape[0] == 3, (rep, a.grid.shape)
    x = torch.randn(64, 1, 8, 8); y = (x.mean((1, 2, 3)) > 0).long(); m = small_model()
    from ckan_nb.train import CKANTrainer
    CKANTrainer(m, device='cpu', scheduler=None, progress=False, seed=0,
                callbacks=[grids.GridUpdate(every=1, grid_eps=1.)]).fit(DataLoader(TensorDataset(x, y), batch_size=32), epochs=1)
    assert m[1].grid.dim() == 2                                      # one grid per channel now
check('grids.extend_grid', _extend)
check('grids.extended_knots', _knots); done.update({'grids.data_grid', 'grids.refit_matrix', 'grids.change_report'})
check('grids.GridUpdate', _update)
check('grids.refine_grid', _refine)
check('grids.insert_knots', _insert)
check('grids.AdaptiveSplineActivation', _adaptive)
check('grids.GridRefinement', _callback)

# ckan_nb.benchmark: one tiny run on the embedded digits (no download), then the functions that use its results
out = Path(tempfile.mkdtemp())
res = {}
def _evaluate():
    res.update(benchmark.evaluate_ckan_performance(['kan_conv_small', 'cnn_small'], dataset='digits', epochs=1, batch_size=32,
                                                   train_size=64, valid_size=32, test_size=32, model_kwargs={'padding': 1},
                                                   progress=False, inference_batch_size=16, inference_repeats=1, root=out / 'data'))
    assert [r['model'] for r in res['table']] == ['kan_conv_small', 'cnn_small']
check('benchmark.evaluate_ckan_performance', _evaluate)
check('benchmark.measure_inference_time', lambda: benchmark.measure_inference_time(model, images, repeats=2, warmup=1))
check('benchmark.format_table', lambda: '| kan_conv_small |' in benchmark.format_table(res) or 1 / 0)
check('benchmark.plot_results', lambda: (benchmark.plot_results(res), plt.close('all')))
def _save():
    benchmark.save_results(res, out / 'res'); assert (out / 'res' / 'results.json').exists()
check('benchmark.save_results', _save)
check('benchmark.main', lambda: benchmark.main(['--dataset', 'digits', '--models', 'cnn_small', '--epochs', '1', '--batch-size', '32',
                                               '--train-size', '64', '--valid-size', '32', '--test-size', '32', '--model-arg', 'padding=1',
                                               '--inference-repeats', '1', '--root', str(out / 'data'), '--download', '--out', str(out / 'cli'),
                                               '--no-progress']))
def _study():
    study = benchmark.load_study()                                   # the Fashion-MNIST study (protocol 2), packaged with the library
    rows = benchmark.summarize_arms(study); assert rows and all(r['family'] in benchmark.STUDY_FAMILIES for r in rows if r['role'] != 'basis')
    basis = [r for r in rows if r['role'] == 'basis']                 # issue 21's Gram arms: built from the wheel, paired with a B-spline arm
    assert basis and all(r['model_args'].get('basis') == 'gram' and r['parent'] in {x['arm'] for x in rows} for r in basis), basis
    assert benchmark.ladder_choice(rows[0]['ladder'] or {rows[0]['lr']: 1.0}) in (rows[0]['ladder'] or {rows[0]['lr']: 1.0})
    comps = benchmark.study_comparisons(rows); planned = benchmark.planned_ckans(rows)
    assert all(c['group'] for c in comps) and set(planned) <= {r['size'] for r in rows}
    old = benchmark.summarize_study(benchmark.load_study(protocol=1)); assert old[0]['size'] == '7k', old[0]
    d = benchmark.paired_difference({0: 0.9, 1: 0.92, 2: 0.91}, {0: 0.88, 1: 0.9, 2: 0.895}); assert d['verdict'] == 'beats', d and 2.5 < benchmark.t_quantile(0.975, 4) < 2.8
    s = benchmark.format_difference(d); assert s.startswith('+1.83 [') and s.endswith(']'), s
    assert benchmark.format_difference(None) == '--' and benchmark.format_difference(dict(mean=0.01, lo=-0.00001, hi=0.02, n=3)) == '+1.00 [-0.001, +2.00]'
    t = benchmark.timing_ratio(dict(rounds_ms=dict(step=[2., 2.2])), dict(rounds_ms=dict(step=[1., 1.]))); assert benchmark.target_status(t, 3) == 'met'
    plt.close(benchmark.plot_forest([dict(a='a', b='b', mean=0.01, lo=0.0, hi=0.02)]))
check('benchmark.load_study', _study)
done.update({f'benchmark.{n}' for n in ('summarize_study', 'summarize_arms', 'ladder_choice', 'study_comparisons', 'planned_ckans', 'paired_difference',
                                        't_quantile', 'format_difference', 'timing_ratio', 'target_status', 'plot_forest', 'STUDY_FAMILIES', 'STUDY_LADDER',
                                        'CKAN_FAMILIES', 'TWIN_FAMILIES')})
check('benchmark.count_multiply_adds', lambda: benchmark.count_multiply_adds(nn.Conv2d(1, 2, 3), (1, 5, 5)) == 2 * 9 * 9 or 1 / 0)

for mod, prefix in ((interpret, 'interpret'), (grids, 'grids'), (benchmark, 'benchmark'), (pretrained, 'pretrained')):
    missing = [n for n in mod.__all__ if f'{prefix}.{n}' not in done]
    if missing: failures.append(f'{prefix}: no call of {missing}'); print(f"FAIL  {prefix}: public names without a call here: {missing}")

print(f"installed package: {len(done) - len([f for f in failures if ':' not in f])} calls passed, {len(failures)} failed"
      + (f": {', '.join(failures)}" if failures else ''))
sys.exit(1 if failures else 0)
