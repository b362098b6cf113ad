#!/usr/bin/env bash
# The chapters on a CUDA machine: strict nbval over chapters/ and solutions/, with PyTorch's
# side of every comparison on the GPU (each notebook sets DEVICE = "cuda" when one is present).
# The stored outputs come from a CPU run; tests/nbval_sanitize.cfg maps what legitimately
# differs (torch.cuda.* type names).  Run it with `make gpu-check` whenever a GPU is available
# and record the result in the issue or pull request.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
"$PYTHON" - <<'PY'
import torch

assert torch.cuda.is_available(), "no CUDA device: this check needs a GPU"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
PY
exec "$PYTHON" -m pytest -rs chapters solutions --nbval --nbval-current-env \
    --nbval-sanitize-with tests/nbval_sanitize.cfg "$@"
