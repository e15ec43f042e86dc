#!/usr/bin/env bash
# Print the path of a Python interpreter >= 3.12, or explain on stderr and exit 1.
#
# Order tried: $PYTHON, python3.13 and python3.12 on PATH, python3 on PATH,
# pyenv's installed 3.12.x / 3.13.x, then /usr/bin/python3.12 and
# /usr/local/bin/python3.1[2-9].  Each candidate is actually run (pyenv shims
# exist on PATH even for versions that are not selected, and then fail), and
# the path printed is the real interpreter (sys.executable), not a shim.
set -u

tried=()

# try CANDIDATE: if it runs and is >= 3.12, print its real path and exit 0.
try() {
    local cand=$1 exe
    [ -n "$cand" ] || return 1
    tried+=("$cand")
    if [[ $cand != */* ]]; then
        command -v "$cand" >/dev/null 2>&1 || return 1
    else
        [ -x "$cand" ] || return 1
    fi
    exe=$("$cand" -c 'import sys
if sys.version_info < (3, 12): raise SystemExit(1)
print(sys.executable)' 2>/dev/null) || return 1
    [ -n "$exe" ] && [ -x "$exe" ] || return 1
    printf '%s\n' "$exe"
    exit 0
}

if [ -n "${PYTHON:-}" ]; then
    try "$PYTHON"
    echo "warning: PYTHON=$PYTHON is not a runnable Python >= 3.12; looking elsewhere" >&2
fi
try python3.13
try python3.12
try python3

# pyenv: its root from `pyenv root`, else $PYENV_ROOT, else ~/.pyenv
# (pyenv may be installed but not on PATH in a non-interactive shell).
roots=()
if command -v pyenv >/dev/null 2>&1; then
    r=$(pyenv root 2>/dev/null) && [ -n "$r" ] && roots+=("$r")
fi
[ -n "${PYENV_ROOT:-}" ] && roots+=("$PYENV_ROOT")
[ -n "${HOME:-}" ] && roots+=("$HOME/.pyenv")
seen=""
for root in "${roots[@]}"; do
    case " $seen " in *" $root "*) continue ;; esac
    seen="$seen $root"
    for minor in 3.12 3.13; do
        # newest patch release first
        while IFS= read -r p; do
            [ -n "$p" ] && try "$p"
        done < <(ls -d "$root"/versions/"$minor"*/bin/python3 2>/dev/null | sort -rV)
    done
done

try /usr/bin/python3.12
for p in /usr/local/bin/python3.1[2-9]; do
    [ -e "$p" ] && try "$p"
done

list=$(IFS=', '; printf '%s' "${tried[*]}")
list=${list//,/, }
echo "error: affiliate_sim needs Python >= 3.12 and none was found (tried: ${list:-nothing}); install one (e.g. pyenv install 3.12) or set PYTHON=/path/to/python3.12" >&2
exit 1
