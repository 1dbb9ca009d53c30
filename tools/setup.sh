#!/usr/bin/env bash
# Create .venv (if needed) and install PyTorch, the library and its dev tools into it.
# Usage: bash tools/setup.sh            (VENV=path to use another folder)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip="$VENV/bin/python -m pip"
$pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch + torchvision: a CUDA build on x86_64 (runs on the CPU when there is no GPU), a CPU build on aarch64.
if ! "$VENV/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  case "$(uname -m)" in
    aarch64|arm64) $pip install -q "torch==2.9.1" "torchvision==0.24.1" ;;
    *)             $pip install -q "torch==2.14.1" "torchvision==0.29.1" ;;
  esac 2>&1 | grep -v "^WARNING: Location" || true
fi
$pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import torch, torchvision, nbdev, ckan_nb; print('ready: torch', torch.__version__, '| torchvision', torchvision.__version__, '| nbdev', nbdev.__version__, '| ckan_nb', ckan_nb.__version__)"
