"""The notebook checks catch what they are for, on a fixture notebook (tools/tests/fixtures/checks.ipynb): one backed
and one unbacked number of each kind for `check_prose_numbers`, one figure with and one without its image for
`check_figures`.

    python tools/tests/test_checks.py
"""
import sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools'))
import check_prose_numbers as prose, check_figures as figures

FIXTURE = ROOT / 'tools' / 'tests' / 'fixtures' / 'checks.ipynb'

def test_prose_numbers():
    found = prose.check(FIXTURE)
    flagged = sorted(f.split(': ', 1)[1] for f in found)
    # 0.59 (a printed 0.5898), 54,000 (54_000 in code) and 12% (a printed fraction 0.1234) are backed; the factor 1.5x
    # appears only in code (a setting, not a measurement) and the duration is in words: both are flagged, nothing else.
    assert flagged == ["'about a millisecond' (a duration in words: measure it, or say what is measured)", '1.5×'], flagged
    assert all(f.startswith('checks.ipynb#m2: ') for f in found), found
    assert prose.main([str(FIXTURE)]) == 1

def test_rounding():
    ev = {0.5898, 54000., 0.1234, 1.46, 53871.}
    assert prose.backed_by(0.59, 0.005, '', ev, ev) == 0.5898
    assert prose.backed_by(0.6, 0.05, '', ev, ev) is not None         # 0.5898 rounds to 0.6 too
    assert prose.backed_by(0.58, 0.005, '', ev, ev) is None           # ... but not to 0.58
    assert prose.backed_by(12., 0.5, '%', ev, ev) == 0.1234           # a percentage may be printed as a fraction
    assert prose.backed_by(1.5, 0.05, '×', ev, ev) == 1.46
    nums = {t: (v, tol) for t, v, tol, _ in prose.prose_numbers('about 54,000 and 7K and 100 and 86–91% and 2.50')}
    assert nums['54,000'] == (54000., 500.) and nums['100'] == (100., 5.) and abs(nums['7K'][1] - 350.) < 1e-9, nums
    assert nums['91%'] == (91., 0.5) and nums['2.50'] == (2.5, 0.005), nums

def test_figures():
    assert [cid for _, cid in figures.missing_figures(FIXTURE)] == ['f2']
    assert figures.main([str(FIXTURE)]) == 1

if __name__ == '__main__':
    for t in (test_prose_numbers, test_rounding, test_figures): t(); print(f"ok  {t.__name__}")
