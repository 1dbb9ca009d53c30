"""Shared measurement helpers for the benchmarks: one training step, interleaved timing, peak memory in a fresh process."""
import json, os, statistics, subprocess, sys, time

def step(m, x, g):
    "One forward + backward of module `m` on input `x` with upstream gradient `g`; gradients are dropped afterwards."
    m(x).backward(g)
    x.grad = None
    for p in m.parameters(): p.grad = None

def interleaved(fns:dict, repeats:int)->dict:
    "Time each zero-argument function once per round, `repeats` rounds; return the per-function lists of seconds."
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, f in fns.items():
            t = time.perf_counter(); f(); times[name].append(time.perf_counter() - t)
    return times

def median_ms(times:dict)->dict: return {name: statistics.median(v) * 1e3 for name, v in times.items()}

def _status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1]) * 1024
    return 0

def report_peak_growth(m, small, big):
    "In this (fresh) process: warm `m` up on `small` (x, g), then print the peak RSS growth of one step on `big` (x, g)."
    step(m, *small)                                                      # load code paths before measuring
    with open('/proc/self/clear_refs', 'w') as fh: fh.write('5')         # reset VmHWM (Linux)
    before = _status('VmRSS')
    step(m, *big)
    print(json.dumps({'peak_growth': _status('VmHWM') - before}))

def peak_growth_mib(script:str, name:str, *args:str)->float:
    "Run `script --memory-child name *args` in a fresh process and return its reported peak growth in MiB."
    r = subprocess.run([sys.executable, script, '--memory-child', name, *args], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])['peak_growth'] / 2**20

def write_json(path:str, med:dict, times:dict, **fields):
    "Write a benchmark's medians (ms), every round's times (ms) and its settings to `path`, creating its folder."
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as fh:
        json.dump({'median_ms': med, 'times_ms': {k: [t * 1e3 for t in v] for k, v in times.items()}, **fields}, fh, indent=1)
