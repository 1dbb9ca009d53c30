"""Numbers in a chapter's prose come from its outputs: list every number in a markdown cell that no code cell and no
output of the same notebook holds.

    python tools/check_prose_numbers.py                      # every notebook in nbs/; exit 1 if a number is unbacked
    python tools/check_prose_numbers.py nbs/04_conv.ipynb    # some notebooks
    python tools/check_prose_numbers.py -v nbs/04_conv.ipynb # also show what backs each checked number

Checked: in markdown cells, each number with a decimal point (0.59), a percentage (12%, and both ends of 86-91%), a
factor (1.5x written with the sign ×), or an integer >= 100 (54,000; 7K counts as 7,000). Not checked: inline code and
code blocks (they are code), links, HTML comments, issue numbers (#356), version strings (2.14.1), shapes (3×3, 201\\times 201), names with
digits (float32, AVX-512), years (1850-2099 followed by `)`, `,`, `;`, `:`, `.` or a capitalised word, as in
"Kolmogorov (1957)"), a `## References` section (citations), and the entries of ALLOWED below.

Backed: some number in the notebook's code (hidden cells too) or outputs (text, and markdown or HTML that code
printed) that rounds to it at the precision written: 0.59 is backed by 0.5898 (within 0.005), 54,000 by 54_000 or
54,210 (trailing zeros are rounding, within 500; a single significant digit, as in 100 or 7K, allows 5%), 12% by 12,
11.8 or a fraction 0.118, 1.5x by 1.46. A percentage or a factor states a measured comparison, so only an output backs
it (a `* 1.5` in code is a setting, not a result). Signs are ignored.
Also flagged: durations in words ('about a millisecond', 'in seconds', 'a few minutes', 'tens of microseconds'), which
no number can back: measure them and format the result, or say what was measured.
Exempt for now: the notebooks and cells in EXEMPT, which other issues are rewriting (the list is to be emptied).
"""
import argparse, json, re, sys
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent / 'nbs'

# Whole notebooks or cells left out while they are being rewritten elsewhere. Empty this list as they land.
EXEMPT = {
}

# Numbers that are neither measured nor computed, each with the reason it may be typed by hand.
# (notebook name or '*', the number as written, reason)
ALLOWED = [
    ('index.ipynb', '10,000', "`make compare`'s --train-size, a setting shown in the command below it"),
    ('06_data.ipynb', '0.2023', "a widely quoted (wrong) CIFAR-10 standard deviation, named as such, not a measurement"),
    ('06_data.ipynb', '0.1994', "the same quoted CIFAR-10 value"),
    ('06_data.ipynb', '0.2010', "the same quoted CIFAR-10 value"),
    ('A0_spline_module.ipynb', '256', "2^8: bfloat16's 8 significant bits, a property of the format"),
    ('A1_reliability.ipynb', '0600', "a file mode (mkstemp's permissions), not a number"),
    ('A2_triton_kernels.ipynb', '65535', "CUDA's limit on a launch grid's second dimension, a protocol constant"),
    ('A2_triton_kernels.ipynb', '3.8', "Triton's version"),
    ('index.ipynb', '7K', "the study's smaller size, a protocol constant (chapter 09)"),
    ('index.ipynb', '30K', "the study's larger size, a protocol constant (chapter 09)"),
    ('09a_pretrained.ipynb', '30K', "the study's larger size, a protocol constant (chapter 09)"),
    ('index.ipynb', '7.5', "a T4's CUDA compute capability, a property of the hardware"),
    ('A3_cpu_kernels.ipynb', '4,096', "the kernel's FLUSH constant (csrc/spline_activation.cpp), quoted from the source"),
    ('A3_cpu_kernels.ipynb', '144', "16 input channels x (8 basis functions + the base channel): the benchmark layer's shape"),
]

_NUM = r'(?<![\w.])(\d{1,3}(?:,\d{3})+|\d[\d_]*)(\.\d+)?(?:[eE]([-+]?\d+))?'
_SCALE = {'K': 1e3, 'M': 1e6}

def _strip(md:str)->str:
    "Markdown prose without the parts that are not prose: comments, code, links' targets, URLs, references."
    md = re.sub(r'<!--.*?-->', ' ', md, flags=re.S)
    md = re.sub(r'```.*?```', ' ', md, flags=re.S)
    md = re.sub(r'`[^`\n]*`', ' ', md)
    md = re.sub(r'\]\([^)]*\)', '] ', md)
    md = re.sub(r'https?://\S+', ' ', md)
    md = re.sub(r'#\d+', ' ', md)                                        # issue numbers: pykan #356
    md = re.sub(r'^#+\s*References\b.*?(?=^#|\Z)', ' ', md, flags=re.S | re.M | re.I)
    md = re.sub(r'\\(times|cdot)\b', lambda m: '×' if m.group(1) == 'times' else '·', md)
    md = re.sub(r'\\[A-Za-z]+', ' ', md)                                  # other TeX commands
    md = re.sub(r'(?<![\w.])\d+(?:\.\d+){2,}\w*', ' ', md)                # version strings: 2.14.1, 3.8.0
    md = re.sub(r'(?<![\w.])\d+(?:\s*[×x]\s*\d+)+(?![\w.])', ' ', md)     # shapes: 3×3, 28x28, 201 × 201
    return md

def prose_numbers(md:str)->list:
    "(text, value, tolerance, kind) of each number in `md` that the rule checks; kind is '', '%' or '×'."
    s, out = _strip(md), []
    for m in re.finditer(_NUM + r'(\s*[KM](?![\w]))?(\s*(?:%|×|[–-]\s*\d[\d.]*\s*%))?', s):
        whole, frac, exp = m.group(1), m.group(2) or '', m.group(3)
        before, after = s[max(0, m.start() - 2):m.start()], s[m.end():m.end() + 2]
        if re.match(r'[A-Za-z_]-', before) or re.match(r'[A-Za-z_]', after[:1]): continue   # AVX-512, 2nd, 3D, 1e
        suffix = (m.group(5) or '').strip()
        kind = '%' if suffix.endswith('%') else '×' if suffix == '×' else ''
        value = float(whole.replace(',', '').replace('_', '') + frac + (f'e{exp}' if exp else ''))
        mult = _SCALE[m.group(4).strip()] if m.group(4) else 1.
        if exp is not None: continue                                      # 1e-10 is a setting, not a measurement
        if not frac and not kind and not m.group(4):
            if value < 100: continue
            if 1850 <= value <= 2099 and ',' not in whole and re.match(r'\s*([),;:.]|[A-Z]|$)', s[m.end():m.end() + 2] or ''):
                continue                                                  # a year
        if frac: tol = 0.5 * 10 ** -(len(frac) - 1)
        else:
            digits = whole.replace(',', '').replace('_', '')
            z = len(digits) - len(digits.rstrip('0'))
            tol = 0.5 * 10 ** z * mult if len(digits.rstrip('0')) > 1 else 0.05 * value * mult
            if value == 0: tol = 0.
        out.append((m.group(0).strip(), value * mult, tol, kind))
        rng = re.match(r'[–-]\s*(\d[\d.]*)\s*%', suffix)
        if rng:                                                           # 86–91%: the upper end is a percentage too
            hi = rng.group(1); d = hi.split('.')[1] if '.' in hi else ''
            out.append((hi + '%', float(hi), 0.5 * 10 ** -len(d), '%'))
    return out

_SPELLED = re.compile(r"\b(?:(?:in |within |under |about |in about |for about )?(?:a|one) (?:millisecond|microsecond|nanosecond|minute|hour)"
                      r"|(?:in |within |under |about |in about )a second\b|(?:a |in a )?(?:few|several|couple of) (?:milli|micro|nano)?(?:seconds|minutes|hours)"
                      r"|(?:tens|hundreds|thousands) of (?:milli|micro|nano)?(?:seconds|minutes|hours)|\bin (?:milli|micro|nano)?(?:seconds|minutes|hours)\b)", re.I)

def spelled_timings(md:str)->list:
    "Durations stated in words ('about a millisecond', 'in seconds', 'a few minutes'): claims no number backs."
    return [m.group(0) for m in _SPELLED.finditer(_strip(md))]

def evidence_numbers(text:str)->set:
    "Every number written in `text` (code or output), as floats; 1,234 also counts as 1 and 234, 54_000 as 54000."
    vals = set()
    for m in re.finditer(r'(?<![\w])(\d[\d_,]*)(\.\d*)?(?:[eE]([-+]?\d+))?', text):
        whole, frac, exp = m.group(1).rstrip(',_'), m.group(2) or '', m.group(3)
        parts = [whole.replace(',', '').replace('_', '')] + whole.split(',')
        for w in parts:
            if not w.replace('_', ''): continue
            try: vals.add(abs(float(w.replace('_', '') + (frac if frac != '.' else '') + (f'e{exp}' if exp else ''))))
            except ValueError: pass
    for m in re.finditer(r'(?<![\w\d])(\.\d+)', text): vals.add(float(m.group(1)))
    return vals

def notebook_evidence(cells, code:bool=True)->str:
    "The text of every output (text, markdown, HTML, LaTeX) of a notebook, and of every code cell if `code`."
    parts = []
    for c in cells:
        if c['cell_type'] != 'code': continue
        if code: parts.append(''.join(c['source']))
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': parts.append(''.join(o.get('text', '')))
            for key in ('text/plain', 'text/markdown', 'text/html', 'text/latex'):
                v = o.get('data', {}).get(key)
                if v: parts.append(''.join(v) if isinstance(v, list) else v)
    return '\n'.join(parts)

def backed_by(value:float, tol:float, kind:str, evidence:set, outputs:set):
    "A number of `evidence` (of `outputs` for a percentage or factor) that rounds to `value`, or None."
    eps = 1e-9 * max(1., abs(value))
    for e in (outputs if kind else evidence):
        if abs(e - value) <= tol + eps: return e
        if kind == '%' and abs(100 * e - value) <= tol + eps: return e
    return None

def check(path:Path, verbose:bool=False)->list:
    "The unbacked numbers of the notebook at `path`, as 'name#cell-id: number' lines."
    cells = json.loads(path.read_text(encoding='utf-8'))['cells']
    if path.name in EXEMPT: return []
    evidence, outputs = evidence_numbers(notebook_evidence(cells)), evidence_numbers(notebook_evidence(cells, code=False))
    allowed = {n for nb, n, _ in ALLOWED if nb in ('*', path.name)}
    bad = []
    for c in cells:
        if c['cell_type'] != 'markdown' or f"{path.name}#{c.get('id')}" in EXEMPT: continue
        for text, value, tol, kind in prose_numbers(''.join(c['source'])):
            if text in allowed: continue
            e = backed_by(value, tol, kind, evidence, outputs)
            if e is None: bad.append(f"{path.name}#{c.get('id')}: {text}")
            elif verbose: print(f"  backed  {path.name}#{c.get('id')}: {text} <- {e:g}")
        for text in spelled_timings(''.join(c['source'])):
            if text not in allowed: bad.append(f"{path.name}#{c.get('id')}: '{text}' (a duration in words: measure it, or say what is measured)")
    return bad

def main(argv=None)->int:
    p = argparse.ArgumentParser(prog='check_prose_numbers.py', description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='*', help='notebooks to check (default: every notebook in nbs/)')
    p.add_argument('-v', '--verbose', action='store_true', help='also list the backed numbers')
    a = p.parse_args(argv)
    paths = [Path(n) for n in a.notebooks] or sorted(NBS.glob('*.ipynb'))
    missing = [str(q) for q in paths if not q.is_file()]
    if missing: p.error(f"no such notebook: {missing[0]}")
    bad = [b for q in paths for b in check(q, a.verbose)]
    for b in bad: print(f"UNBACKED  {b}")
    skipped = sorted(k for k in EXEMPT if '#' not in k and NBS / k in [q.resolve() for q in paths])
    print(f"prose numbers: {len(bad)} not found in their notebook's code or outputs, in {len(paths)} notebooks"
          + (f" ({len(skipped)} exempt: {', '.join(skipped)})" if skipped else ''))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
