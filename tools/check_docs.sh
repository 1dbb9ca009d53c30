#!/usr/bin/env bash
# Offline docs check (stand-in for `nbdev_docs`, Quarto can't be installed here): see tools/docs.py.
# Installs nothing; it needs Debian's pandoc, libjs-mathjax and chromium, and the project's Python env.
# Usage: bash tools/check_docs.sh [--out DIR] [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v pandoc >/dev/null || missing+=(pandoc)
[ -f /usr/share/javascript/mathjax/MathJax.js ] || missing+=(libjs-mathjax)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_docs: missing ${missing[*]}; install them (as root) with:" >&2
  echo "  apt-get update && apt-get install -y pandoc libjs-mathjax chromium" >&2
  exit 2
fi
# the interpreter: $PYTHON, else an activated venv's, else the project's .venv (CI doesn't activate it)
if [ -n "${PYTHON:-}" ]; then py="$PYTHON"
elif [ -z "${VIRTUAL_ENV:-}" ] && [ -x "${VENV:-.venv}/bin/python" ]; then py="${VENV:-.venv}/bin/python"
else py=python; fi
exec "$py" tools/docs.py check "$@"
