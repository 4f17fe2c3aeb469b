# shellcheck shell=bash
# ensure_venv EXTRAS: create .venv with Python >= 3.11 and install this package (with EXTRAS, e.g. "dev")
# when pyproject.toml changed since the last install. Prints what it does; fails with the missing tool named.

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python >= 3.11 is required (python3 not found or too old)" >&2
  return 1
}

ensure_venv() {
  local extras="$1" python stamp want
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $python"
    "$python" -m venv .venv
  fi
  want="$(sha256sum pyproject.toml | cut -c1-16)-${extras:-base}"
  stamp=.venv/.crm-installed
  if [ ! -f "$stamp" ] || ! grep -qx -- "$want" "$stamp"; then
    echo "==> installing crm${extras:+[$extras]} into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
  fi
}
