#!/usr/bin/env bash
# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Create .venv-airflow/ with the real Apache Airflow 3.3 for tests/conformance, idempotently.
#
#   tests/conformance/setup_airflow_venv.sh             build (or keep) .venv-airflow/
#   tests/conformance/setup_airflow_venv.sh --refreeze  resolve requirements-airflow.txt afresh
#                                                       and rewrite constraints-airflow.txt
#
# The venv is rebuilt only when the stamp (a hash of the requirements, the constraints, the Python
# version and this script) differs, so a second call returns at once. Environment:
#   AIRFLOW_VENV          where to build (default: <repository>/.venv-airflow)
#   AIRFLOW_VENV_PYTHON   interpreter to build it with (default: python3.12, else python3.11)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
REQUIREMENTS="$HERE/requirements-airflow.txt"
# The Google provider, installed without its dependencies (the file says why).
NO_DEPS_REQUIREMENTS="$HERE/requirements-airflow-google.txt"
CONSTRAINTS="$HERE/constraints-airflow.txt"
STAMP="$VENV/.conformance-ready"

refreeze=false
case "${1:-}" in
  "") ;;
  --refreeze) refreeze=true ;;
  *) echo "usage: $0 [--refreeze]" >&2; exit 2 ;;
esac

pick_python() {
  if [ -n "${AIRFLOW_VENV_PYTHON:-}" ]; then
    echo "$AIRFLOW_VENV_PYTHON"; return
  fi
  local candidate
  # Python 3.12 is what constraints-airflow.txt was frozen with; 3.11 (the machine default)
  # is supported by Airflow 3.3 too and installs the same pins.
  for candidate in python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys, venv; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "setup_airflow_venv: no Python 3.10-3.13 found (set AIRFLOW_VENV_PYTHON)" >&2
  exit 1
}

# `pip check`, except that the Google provider (installed with --no-deps) may miss the dependencies
# requirements-airflow-google.txt names as unused by its GCS log handler; anything else fails.
check_venv() {
  local report unexpected
  if report="$("$1/bin/pip" check 2>&1)"; then
    echo "$report"; return 0
  fi
  unexpected="$(grep -v -E '^apache-airflow-providers-google [^ ]+ requires .*, which is not installed\.$' <<<"$report" || true)"
  if [ -n "$unexpected" ]; then
    echo "$report" >&2; return 1
  fi
  echo "setup_airflow_venv: pip check: no broken requirements apart from $(wc -l <<<"$report") dependencies of the" \
    "Google provider that its GCS log handler does not import (requirements-airflow-google.txt)"
}

PYTHON="$(pick_python)"
PYTHON_VERSION="$("$PYTHON" -c 'import platform; print(platform.python_version())')"

if $refreeze; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  echo "setup_airflow_venv: resolving $REQUIREMENTS afresh with Python $PYTHON_VERSION"
  "$PYTHON" -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" install --quiet --upgrade pip
  "$scratch/venv/bin/pip" install --quiet -r "$REQUIREMENTS"
  "$scratch/venv/bin/pip" install --quiet --no-deps -r "$NO_DEPS_REQUIREMENTS"
  check_venv "$scratch/venv"
  {
    echo "# Frozen from a clean resolve of requirements-airflow.txt on Python ${PYTHON_VERSION%.*} (pip install, no other constraints)."
    echo "# Regenerate: tests/conformance/setup_airflow_venv.sh --refreeze"
    "$scratch/venv/bin/pip" freeze --exclude pip --exclude setuptools --exclude wheel
  } > "$CONSTRAINTS"
  echo "setup_airflow_venv: wrote $CONSTRAINTS; now building $VENV from it"
fi

want="$(cat "$REQUIREMENTS" "$NO_DEPS_REQUIREMENTS" "$CONSTRAINTS" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1) python-$PYTHON_VERSION"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/airflow" ]; then
  echo "setup_airflow_venv: $VENV is up to date (Airflow $(cat "$VENV/.airflow-version" 2>/dev/null || echo '?'))"
  exit 0
fi

start=$(date +%s)
echo "setup_airflow_venv: building $VENV with Python $PYTHON_VERSION (takes a minute or two)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -r "$REQUIREMENTS" -c "$CONSTRAINTS"
"$VENV/bin/pip" install --quiet --no-deps -r "$NO_DEPS_REQUIREMENTS" -c "$CONSTRAINTS"
check_venv "$VENV"
# `airflow version` imports Airflow and its providers: proves the install works before the stamp.
probe_home="$(mktemp -d)"
AIRFLOW_HOME="$probe_home" "$VENV/bin/airflow" version > "$VENV/.airflow-version"
rm -rf "$probe_home"
echo "$want" > "$STAMP"
echo "setup_airflow_venv: Airflow $(cat "$VENV/.airflow-version") ready in $VENV after $(( $(date +%s) - start )) s"
