"""Offline stand-ins for `nbdev_readme` and `nbdev_docs`: Quarto can't be installed here (shared/TOOLCHAIN.md).

    python tools/docs.py readme [--check] [--pandoc]   # README.md from nbs/index.ipynb
    python tools/docs.py check [--out DIR] [--force]   # build the site offline and check every page

Both start from nbdev's own notebook processing (front matter, hidden/exported cells, show_doc, doc links),
then turn each processed notebook into Quarto-flavoured markdown with `nb2md`, honouring the cell options
Quarto would (`include: false`, `echo: false`, `output: false|asis`, `code-fold`, `fig-cap`).

`readme` needs only the project's Python environment. `check` also needs Debian's pandoc, libjs-mathjax
and chromium (see tools/check_docs.sh): pandoc renders each page with a local MathJax, headless Chromium
loads it, and the page's DOM tells how many formulas MathJax typeset, which ones were TeX errors, and how
many figures are there. The site lands in `_docs_check/` (open `_docs_check/index.html`).
"""
import argparse, base64, concurrent.futures as cf, difflib, html, json, os, posixpath, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = 'file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS_CHTML-full'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--no-first-run', '--virtual-time-budget=8000', '--dump-dom']
# MathJax 2 hooks: report TeX errors (with undefined macros counted as errors, as KaTeX/Quarto would show
# them) and flag the end of typesetting in the DOM, where `--dump-dom` lets us read them back.
MATHJAX_PROBE = '''<script type="text/x-mathjax-config">
MathJax.Hub.Config({TeX: {noErrors: {disabled: true}, noUndefined: {disabled: true}}});
MathJax.Hub.Register.MessageHook("TeX Jax - parse error", function (m) {
  var e = document.documentElement, l = JSON.parse(e.dataset.texErrors || "[]");
  l.push(m[1] + " in: " + m[2]); e.dataset.texErrors = JSON.stringify(l); });
MathJax.Hub.Queue(function () { document.documentElement.dataset.mathjax = "done"; });
</script>
<style>body{max-width:60em} nav.site{float:left;width:13em;margin-left:-15em;font-size:90%}
 body{margin-left:17em} pre{overflow-x:auto} img{max-width:100%}</style>'''
ANSI = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
OPT = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

# --- notebook -> markdown -------------------------------------------------------------------------------
def text(x): return ''.join(x) if isinstance(x, list) else (x or '')

def cell_options(src):
    "Split a code cell into its leading `#| key: value` options and the code shown to readers."
    lines, opts = src.splitlines(), {}
    while lines and OPT.match(lines[0]):
        k, v = OPT.match(lines.pop(0)).groups()
        opts[k] = v.strip('\'"') if v else 'true'
    return opts, '\n'.join(lines).strip('\n')

def fence(body, info=''):
    "A fenced block whose fence is longer than any backtick run inside `body`."
    ticks = '`' * max([3] + [len(m) + 1 for m in re.findall(r'`{3,}', body)])
    return f'{ticks}{info}\n{body}\n{ticks}'

MIME_ORDER = {'html': ['text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'text/markdown', 'text/latex', 'text/plain'],
              'gfm':  ['text/markdown', 'image/svg+xml', 'image/png', 'image/jpeg', 'text/plain']}

def output2md(o, fmt, asis, cap=''):
    "One cell output as markdown; images are embedded for html and left out of README (it must stay small)."
    kind = o.get('output_type')
    if kind == 'stream':
        s = ANSI.sub('', text(o.get('text'))).rstrip()
        return s if asis else (fence(s) if s else '')
    if kind == 'error':
        return fence(ANSI.sub('', '\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"])))
    data = o.get('data', {})
    mime = next((m for m in MIME_ORDER[fmt] if m in data), None)
    if mime is None or (fmt == 'gfm' and mime.startswith('image/')): return ''
    s = text(data[mime])
    if mime == 'image/svg+xml': s = f'data:{mime};base64,' + base64.b64encode(s.encode()).decode()
    if mime.startswith('image/'): return f'![{cap}]({s if s.startswith("data:") else f"data:{mime};base64," + s.strip()})'
    if mime == 'text/html': return fence(s.strip(), '{=html}')
    if mime in ('text/markdown', 'text/latex') or asis: return s.strip()
    return fence(s.rstrip())

def nb2md(nb, fmt='html'):
    "Processed notebook -> (front matter dict, markdown), the way Quarto reads an nbdev-processed notebook."
    fm, parts = {}, []
    for c in nb['cells']:
        src = text(c.get('source'))
        if c['cell_type'] == 'raw' and not fm and not parts and src.lstrip().startswith('---'):
            fm = yaml.safe_load(src.strip().strip('-')) or {}; continue
        if c['cell_type'] != 'code': parts.append(src.strip()); continue
        opts, body = cell_options(src)
        flag = lambda k, default='true': opts.get(k, default).lower()
        if flag('include') == 'false' or flag('hide', 'false') == 'true': continue
        if flag('echo') != 'false' and body.strip():
            code = fence(body, ' python' if fmt == 'gfm' else 'python')
            if 'code-fold' in opts:
                code = f"<details><summary>{opts.get('code-summary', 'Code')}</summary>\n\n{code}\n\n</details>"
            parts.append(code)
        if flag('output') != 'false':
            parts += [output2md(o, fmt, flag('output') == 'asis', opts.get('fig-cap', ''))
                      for o in c.get('outputs', [])]
    return fm, '\n\n'.join(p for p in parts if p.strip()) + '\n'

# --- README ---------------------------------------------------------------------------------------------
def process_one(path):
    "Run nbdev's docs processors on one notebook in this process (what `nbdev_readme` does before Quarto)."
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults
    old = os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'           # as nbdev.serve_drv does while processing
    try:
        nb = read_nb(path); FilterDefaults()(nb)
    finally:
        if old is None: del os.environ['IN_TEST']
        else: os.environ['IN_TEST'] = old
    return nb

def readme_text(use_pandoc=False):
    "README.md content: '# title', '> description', then the index notebook's cells as GitHub markdown."
    from nbdev.config import get_config
    cfg = get_config()
    fm, md = nb2md(process_one(cfg.nbs_path/cfg.readme_nb), 'gfm')
    head = f"# {fm.get('title', cfg.lib_name)}\n\n" + (f"> {fm['description']}\n\n" if fm.get('description') else '')
    md = head + md
    if use_pandoc:
        md = subprocess.run(['pandoc', '-f', 'markdown', '-t', 'gfm+tex_math_dollars', '--wrap=preserve'], input=md,
                            text=True, capture_output=True, check=True).stdout
    return re.sub(r'\n{3,}', '\n\n', '\n'.join(l.rstrip() for l in md.splitlines())).strip() + '\n'

def cmd_readme(args):
    "Write README.md, or with --check exit 1 when it differs from what would be written."
    dest, new = ROOT/'README.md', readme_text(args.pandoc)
    if not args.check:
        dest.write_text(new); return print(f'wrote {dest.relative_to(ROOT)} ({len(new)} bytes)')
    old = dest.read_text() if dest.exists() else ''
    if old == new: return print('README.md is up to date with nbs/index.ipynb')
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), 'README.md', 'generated', lineterm=''))
    print('\n'.join(diff[:60] + (['...'] if len(diff) > 60 else [])))
    sys.exit(f"README.md is out of date with nbs/index.ipynb: run `python tools/docs.py readme{' --pandoc' * args.pandoc}` and commit it.")

# --- docs check -----------------------------------------------------------------------------------------
def nbdev_process(force=False):
    "What `nbdev_proc_nbs` does, without its Quarto install and `pip install -e .[dev]`: fills `_proc/`."
    import nbdev.doclinks
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    cfg = get_config()
    nbdev.doclinks._build_modidx()        # ckan_nb/_modidx.py, as nbdev_export writes it
    nbdev_sidebar.__wrapped__()           # nbs/sidebar.yml (generated; committed like nbdev users do)
    proc = proc_nbs(force=force)
    # refresh_quarto_yml() would rewrite nbs/nbdev.yml; the check only needs it in _proc/
    vals = {k: cfg.get(k, '') for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    (proc/'nbdev.yml').write_text(_nbdev_yml.format(doc_path=cfg.doc_path.name, **vals))
    return cfg, proc

def sidebar_files(items):
    "Page paths from a Quarto sidebar `contents` list, sections flattened, in order."
    for it in items or []:
        if isinstance(it, str): yield it
        elif isinstance(it, dict):
            if it.get('href') or it.get('file'): yield it.get('href') or it.get('file')
            yield from sidebar_files(it.get('contents'))

class Page:
    "One docs page: its processed notebook, its markdown and HTML paths, and what the check found."
    def __init__(self, proc, src):
        self.src, self.rel = src, src.relative_to(proc)
        self.nb = json.loads(src.read_text())
        self.fm, self.md = nb2md(self.nb)
        self.html = self.rel.with_name(str(self.fm.get('output-file', self.rel.with_suffix('.html').name)))
        self.title = str(self.fm.get('title', self.rel.stem))
        self.res, self.problems, self.notes = {}, [], []

def error_outputs(nb_path):
    "`cell N: Error: message` for each cell of the committed notebook with an error output, unless `#| error: true`."
    if not nb_path.exists(): return []
    cells = json.loads(nb_path.read_text())['cells']
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(cells) if c['cell_type'] == 'code'
            and cell_options(text(c['source']))[0].get('error', '').lower() != 'true'
            for o in c.get('outputs', []) if o.get('output_type') == 'error']

def fix_links(page, pages, cfg, have_lookup):
    "Point doc links at the local site, and note those to missing pages or anchors, or left unresolved."
    site = f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}".rstrip('/') + '/'
    by_nb = {p.rel.as_posix(): p.html.as_posix() for p in pages}
    page.links = []
    def local(m):
        if m['site'] is not None: path = m['site'] or 'index.html'
        else:
            nb = posixpath.normpath((page.rel.parent/m['nb']).as_posix())
            path = by_nb.get(nb + '.ipynb', nb + '.ipynb')
        page.links.append((path, (m['anchor'] or '').lstrip('#')))
        return '](' + posixpath.relpath(path, page.html.parent.as_posix()) + (m['anchor'] or '') + ')'
    pat = rf'\]\((?:{re.escape(site)}(?P<site>[^)\s#]*)|(?P<nb>[\w./-]+?)\.ipynb)(?P<anchor>#[^)\s]*)?\)'
    page.md = re.sub(pat, local, page.md)
    if have_lookup:                      # `ckan_nb.x.y` nbdev could not link, that is no module either
        lib = cfg.lib_path
        for name in re.findall(rf'(?<!\[)`({re.escape(cfg.lib_name)}(?:\.\w+)+)(?:\(\))?`(?!\])', page.md):
            mod = lib.parent/name.replace('.', '/')
            if not (mod.with_suffix('.py').exists() or mod.is_dir()): page.notes.append(f'unresolved doclink `{name}`')

def render(page, pages, out, css):
    "Markdown -> standalone HTML with pandoc, MathJax from Debian's libjs-mathjax, a nav of all pages."
    up = posixpath.relpath('.', page.html.parent.as_posix())
    nav = ''.join(f'<p><a href="{posixpath.relpath(p.html.as_posix(), page.html.parent.as_posix())}">'
                  f'{html.escape(p.title)}</a></p>' for p in pages)
    dest = out/page.html; dest.parent.mkdir(parents=True, exist_ok=True)
    (out/page.html.with_suffix('.md')).write_text(page.md)
    cmd = ['pandoc', '-f', 'markdown', '-t', 'html5', '-s', '--toc', f'--mathjax={MATHJAX}',
           '-M', f'title={page.title}', '-V', f'header-includes={MATHJAX_PROBE}',
           '-V', f'include-before=<nav class="site">{nav}</nav>', '-o', str(dest)]
    if page.fm.get('description'): cmd += ['-M', f'subtitle={page.fm["description"]}']
    if css: cmd += ['-c', f'{up}/{css}']
    r = subprocess.run(cmd, input=page.md, text=True, capture_output=True)
    if r.returncode: page.problems.append(f'pandoc failed: {r.stderr.strip()}')
    page.notes += [f'pandoc: {l}' for l in r.stderr.splitlines() if l.strip() and 'Duplicate identifier' not in l]
    return dest

def browse(dest, dom_dir):
    "Open a page in headless Chromium and count, in its DOM after MathJax ran, what the check reports."
    static = dest.read_text()
    res = {'math': len(re.findall(r'class="math (?:inline|display)"', static)),
           'png': len(re.findall(r'<img[^>]+src="data:image/png', static))}
    with tempfile.TemporaryDirectory() as prof:
        try:
            dom = subprocess.run(['chromium', *CHROMIUM_FLAGS, f'--user-data-dir={prof}', dest.resolve().as_uri()],
                                 capture_output=True, text=True, timeout=120).stdout
        except subprocess.TimeoutExpired: dom = ''
    (dom_dir/dest.name).write_text(dom)
    m = re.search(r'data-tex-errors="([^"]*)"', dom)
    res['tex_errors'] = json.loads(html.unescape(m.group(1))) if m else []
    res['typeset'] = len(re.findall(r'type="math/tex', dom))
    res['mathjax_done'] = 'data-mathjax="done"' in dom
    res['loaded'] = '</html>' in dom
    return res

def cmd_check(args):
    "Process notebooks with nbdev, render every page, check it in Chromium; print a line a page and a summary."
    t0 = time.time()
    missing = [t for t in ('pandoc', 'chromium') if not shutil.which(t)]
    if missing or not Path(MATHJAX[7:].split('?')[0]).exists():
        sys.exit('needs Debian packages: apt-get install -y pandoc libjs-mathjax chromium')
    out = (ROOT/args.out).resolve(); dom_dir = out/'_dom'
    if (out/'.docs_check').exists(): shutil.rmtree(out)        # a site we wrote before: start afresh
    elif out.exists() and any(out.iterdir()): sys.exit(f'{out} is not empty and not ours: pick another --out')
    dom_dir.mkdir(parents=True); (out/'.docs_check').write_text('written by tools/docs.py check\n')
    try: cfg, proc = nbdev_process(args.force)
    except Exception as e: sys.exit(f'nbdev notebook processing failed: {type(e).__name__}: {e}')
    from nbdev.doclinks import NbdevLookup
    have_lookup = cfg.lib_name in NbdevLookup().entries
    order = list(sidebar_files(yaml.safe_load((proc/'sidebar.yml').read_text())['website']['sidebar']['contents'])
                 if (proc/'sidebar.yml').exists() else [])
    srcs = sorted((p for p in proc.rglob('*.ipynb') if (cfg.nbs_path/p.relative_to(proc)).exists()   # _proc keeps
                   and not any(s.startswith(('_', '.')) for s in p.relative_to(proc).parts)),       # deleted ones
                  key=lambda p: (order.index(p.relative_to(proc).as_posix()) if p.relative_to(proc).as_posix() in order
                                 else len(order), p.as_posix()))
    pages = [Page(proc, s) for s in srcs]
    css = 'styles.css' if (proc/'styles.css').exists() else None
    if css: shutil.copy(proc/css, out/css)
    for p in pages:
        fix_links(p, pages, cfg, have_lookup)
        p.errors = error_outputs(cfg.nbs_path/p.rel)
    dests = [render(p, pages, out, css) for p in pages]
    if not (out/'index.html').exists():
        (out/'index.html').write_text(''.join(f'<p><a href="{p.html.as_posix()}">{html.escape(p.title)}</a></p>' for p in pages))
    with cf.ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as ex:
        for p, res in zip(pages, ex.map(lambda d: browse(d, dom_dir), dests)): p.res = res
    ids = {p.html.as_posix(): set(re.findall(r'\sid="([^"]+)"', (out/p.html).read_text())) for p in pages}
    for p in pages:
        r = p.res
        if not r['loaded']: p.problems.append('chromium did not load the page')
        if r['math'] and not r['mathjax_done']: p.problems.append('MathJax did not finish within the time budget')
        if r['typeset'] < r['math']: p.problems.append(f"{r['math'] - r['typeset']} formula(s) not typeset")
        p.problems += [f'TeX error: {e}' for e in r['tex_errors']]
        p.problems += [f'error output in nbs/{p.rel.as_posix()} {e}' for e in p.errors]
        for path, anchor in sorted(set(p.links)):
            if path not in ids: p.notes.append(f'broken doclink: {path} is not a page of this site')
            elif anchor and anchor not in ids[path]: p.notes.append(f'broken doclink: {path} has no #{anchor}')
    bad = [p for p in pages if p.problems]
    w = max([len(p.rel.as_posix()) for p in pages] + [4])
    for p in pages:
        r = p.res
        print(f"{'FAIL' if p.problems else 'ok  '} {p.rel.as_posix():<{w}} -> {p.html.as_posix():<{w}} math={r['math']} "
              f"typeset={r['typeset']} tex_errors={len(r['tex_errors'])} png={r['png']} error_outputs={len(p.errors)}")
        for s in p.problems: print(f'       {s}')
        for s in p.notes: print(f'       note: {s}')
    tot = lambda k: sum(p.res[k] if isinstance(p.res[k], int) else len(p.res[k]) for p in pages)
    print(f"{len(pages)} pages, math={tot('math')} typeset={tot('typeset')} tex_errors={tot('tex_errors')} "
          f"png={tot('png')} error_outputs={sum(len(p.errors) for p in pages)} "
          f"notes={sum(len(p.notes) for p in pages)}, {len(bad)} failing; {time.time() - t0:.1f}s")
    if not have_lookup: print(f'note: {cfg.lib_name} is not pip-installed (pip install -e .), so nbdev linked no names to its docs')
    print(f'site: {out/"index.html"}')
    if not pages: sys.exit('no notebooks to check')
    sys.exit(1 if bad else 0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('readme', help='regenerate README.md from nbs/index.ipynb')
    r.add_argument('--check', action='store_true', help='exit 1 if README.md is not what would be written')
    r.add_argument('--pandoc', action='store_true', help='normalise through `pandoc -t gfm` (output then depends on pandoc)')
    c = sub.add_parser('check', help='render the docs offline and check every page')
    c.add_argument('--out', default='_docs_check', help='output folder (default: _docs_check)')
    c.add_argument('--force', action='store_true', help='reprocess every notebook, ignoring the _proc cache')
    args = ap.parse_args()
    os.chdir(ROOT)
    (cmd_readme if args.cmd == 'readme' else cmd_check)(args)

if __name__ == '__main__': main()   # guard needed: nbdev's proc_nbs starts workers with multiprocessing 'spawn'
