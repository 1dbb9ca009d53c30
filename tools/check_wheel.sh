#!/usr/bin/env bash
# Test ckan_nb where its users meet it, from a folder outside the checkout:
#   build   : build the wheel, make a fresh venv, install the wheel with its runtime requirements only
#   package : the README's quick start and one call of every public function of interpret, grids, benchmark, pretrained
#   cli     : the console script's `models`, `pretrained` and `evaluate --pretrained` subcommands (the weights from the wheel)
#   colab   : install what a chapter's Colab install cell installs ("ckan_nb[dev]"), then run chapters
#             (copied out of the repository) top to bottom, slow cells skipped: colab 02_spline_activation ...
#   all     : all of the above (chapters 02, 05 and 10)
# Usage: bash tools/check_wheel.sh STEP [ARGS]     (CKAN_NB_WHEEL_WORK=dir keeps the venv between steps; .ci/run sets it)
#
# Torch: the fresh venv gets its own `pip install torch==2.14.1 torchvision==0.29.1` (the versions tools/setup.sh
# installs), which pip takes from this workplace's local wheel copies: about 70 s on a 2-core machine. That is the
# honest fast option: a --system-site-packages venv would see the dev venv's packages (and its editable ckan_nb), so
# it could not show what a user's install lacks.
set -uo pipefail
unset PYTHONPATH PYTHONHOME   # a user's python sees only its own venv, never the checkout
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${CKAN_NB_WHEEL_WORK:-}"
[ -n "$WORK" ] || { WORK=$(mktemp -d); echo "work folder: $WORK"; }
mkdir -p "$WORK"
case "$WORK" in "$REPO"|"$REPO"/*) echo "CKAN_NB_WHEEL_WORK must be outside the checkout"; exit 2;; esac
VPY="$WORK/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
quiet() { grep -v "^WARNING: Location" || true; }   # this workplace's pip index prints one such line per package

build() {
  local t0=$SECONDS
  rm -rf "$WORK/dist" && mkdir -p "$WORK/dist" || return 1
  local fresh=0
  [ -x "$VPY" ] || { python3 -m venv "$WORK/venv" && fresh=1; } || return 1
  "$VPY" -m pip install -q --upgrade pip 2>&1 | quiet
  (cd "$WORK" && "$VPY" -m pip wheel -q --no-deps -w "$WORK/dist" "$REPO" >"$WORK/wheel.log" 2>&1) || { quiet <"$WORK/wheel.log"; return 1; }
  local whl; whl=$(ls "$WORK"/dist/ckan_nb-*.whl 2>/dev/null | head -1)
  [ -n "$whl" ] || { echo "no wheel built"; return 1; }
  echo "wheel: $(basename "$whl") ($((SECONDS - t0))s)"
  if ! "$VPY" -c "import torch, torchvision" 2>/dev/null; then
    case "$(uname -m)" in
      aarch64|arm64) "$VPY" -m pip install -q "torch==2.9.1" "torchvision==0.24.1" ;;
      *)             "$VPY" -m pip install -q "torch==2.14.1" "torchvision==0.29.1" ;;
    esac 2>&1 | quiet
    echo "torch installed ($((SECONDS - t0))s)"
  fi
  "$VPY" -m pip install -q "$whl" 2>&1 | quiet                                # the wheel + its runtime requirements only
  "$VPY" -m pip install -q --force-reinstall --no-deps "$whl" 2>&1 | quiet    # this build, even over an older one
  "$VPY" -m pip check || return 1
  echo "installed into a fresh venv ($((SECONDS - t0))s): $("$VPY" -m pip list --format=freeze 2>/dev/null | grep -ic '') packages"
  if [ $fresh = 1 ]; then for dev in nbdev execnb IPython; do   # no dev extras: the package must work without them
    "$VPY" -c "import $dev" 2>/dev/null && { echo "the runtime venv has $dev, a dev tool"; return 1; }
  done; fi
  return 0
}

package() {
  [ -x "$VPY" ] || { echo "run the build step first"; return 1; }
  cp "$REPO/tools/check_installed.py" "$REPO/README.md" "$WORK/" && cd "$WORK" && "$VPY" check_installed.py README.md
}

cli() {
  [ -x "$VPY" ] || { echo "run the build step first"; return 1; }
  cd "$WORK" || return 1
  local out
  if [ -x "$WORK/venv/bin/ckan-nb" ]; then echo "$ ckan-nb models"; out=$("$WORK/venv/bin/ckan-nb" models) || return 1
  else echo "$ python -m ckan_nb.cli models   (no ckan-nb entry point in this wheel)"; out=$("$VPY" -m ckan_nb.cli models) || return 1; fi
  echo "$out"
  echo "$out" | grep -q "ckan_small" || { echo "the models listing lacks ckan_small"; return 1; }
  local bin=("$WORK/venv/bin/ckan-nb"); [ -x "${bin[0]}" ] || bin=("$VPY" -m ckan_nb.cli)
  echo "$ ckan-nb pretrained"; out=$("${bin[@]}" pretrained) || return 1
  echo "$out"
  local first; first=$(echo "$out" | sed -n 2p | awk '{print $1}')
  [ -n "$first" ] || { echo "the pretrained listing is empty"; return 1; }
  echo "$ ckan-nb evaluate --pretrained $first"; "${bin[@]}" evaluate --pretrained "$first" || return 1
  local rc; "${bin[@]}" evaluate --pretrained no_such_model 2>"$WORK/err.txt"; rc=$?
  [ $rc = 2 ] && grep -q "known: $first" "$WORK/err.txt" || { echo "an unknown model should be one line, exit 2 (got $rc)"; cat "$WORK/err.txt"; return 1; }
}

colab() {
  [ -x "$VPY" ] || { echo "run the build step first"; return 1; }
  local whl; whl=$(ls "$WORK"/dist/ckan_nb-*.whl | head -1)
  if ! "$VPY" -c "import nbdev, execnb, ipykernel" 2>/dev/null; then   # what the chapters' Colab install cell adds
    "$VPY" -m pip install -q "ckan_nb[dev] @ file://$whl" 2>&1 | quiet
  fi
  mkdir -p "$WORK/colab" && cp "$REPO/tools/run_as_colab.py" "$WORK/colab/" || return 1
  local nbs=()
  for n in "$@"; do cp "$REPO/nbs/$n.ipynb" "$WORK/colab/" || return 1; nbs+=("$n.ipynb"); done
  cd "$WORK/colab" && "$VPY" run_as_colab.py "${nbs[@]}"
}

step="${1:-all}"; shift || true
case "$step" in
  build|package|cli) "$step" ;;
  colab) colab "$@" ;;
  all) rc=0; for s in build package cli; do ( "$s" ) || { echo "FAIL $s"; rc=1; }; done
       ( colab 02_spline_activation 05_models 10_interpret ) || rc=1; exit $rc ;;
  *) echo "usage: $0 build|package|cli|colab NOTEBOOK...|all"; exit 2 ;;
esac
