#!/usr/bin/env bash
# Source checks a reviewer would make first: banned functions (STYLE.md B7) and machine
# paths. Fails with the offending lines.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
banned='\b(strcpy|strcat|strncpy|sprintf|vsprintf|strtok|gets|atoi)\s*\('
if grep -nE "$banned" -r src tests/fuzz tests/unit --include='*.c' --include='*.h'; then
  echo "check: banned function used (see STYLE.md B7)"; fail=1
fi
if git grep -InE '(/wor[k]/|/roo[t]/|/hom[e]/[a-z]+/)' -- ':!*.md' 2>/dev/null; then
  echo "check: machine-specific path in the repo"; fail=1
fi
exit $fail
