"""Shared measurement helpers for the benchmarks: a steady process, one training step, interleaved timing, peak memory in a fresh process."""
import json, os, statistics, subprocess, sys, time

STEADY_ENV = {'MALLOC_TRIM_THRESHOLD_': str(1 << 36),   # glibc keeps freed memory instead of returning it to the OS ...
              'MALLOC_MMAP_THRESHOLD_': str(1 << 25)}   # ... and serves blocks up to 32 MiB from its heap, not fresh mmaps

def steady_process():
    """Call before importing torch: re-run this script once in a process whose timings measure the code, not the OS.
    - glibc keeps freed memory (STEADY_ENV). Otherwise a 12 MB tensor freed at the top of the heap goes back to the OS
      and the next one page-faults it in again: measured here, 6,240 faults in one activation step in some runs and 0
      in others, so a method's time depended on what ran before it. Every method gets the same setting.
    - `--isa avx2` also limits PyTorch to AVX2 (ATEN_CPU_CAPABILITY=avx2 for its own kernels, ONEDNN_MAX_CPU_ISA=AVX2
      for its convolutions): an emulated AVX2-only CPU, where nn.SiLU and nn.Conv2d cannot use AVX-512 either, so the
      ratios compare like with like. (`--isa scalar` only switches off the kernels' hand-written SIMD.)"""
    env = dict(STEADY_ENV)
    isa = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == '--isa'), None)
    isa = isa or next((a.split('=', 1)[1] for a in sys.argv if a.startswith('--isa=')), None)
    if isa == 'avx2': env.update(ATEN_CPU_CAPABILITY='avx2', ONEDNN_MAX_CPU_ISA='AVX2')
    if any(os.environ.get(k) != v for k, v in env.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **env})

def cpu_capability()->str:
    "What PyTorch's own CPU kernels use here ('AVX512', 'AVX2', 'DEFAULT'; oneDNN's limit if one is set), for the report."
    import torch
    cap = torch.backends.cpu.get_cpu_capability()
    return cap + (f", oneDNN <= {os.environ['ONEDNN_MAX_CPU_ISA']}" if os.environ.get('ONEDNN_MAX_CPU_ISA') else '')

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
