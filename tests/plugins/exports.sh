#!/bin/bash
# exports.sh — every plugin built in the tree (and the good test plugins) exports exactly one
# dynamic symbol: pt_plugin_entry (hidden visibility for everything else).
set -u
command -v nm >/dev/null || { echo "nm not found (binutils)"; exit 77; }
root=${PT_BUILD_ROOT:?}
shopt -s nullglob
files=("$root"/plugins/*/pcaptrace-*.so "$root"/tests/plugins/pcaptrace-alpha.so "$root"/tests/plugins/pcaptrace-beta.so)
[ ${#files[@]} -gt 0 ] || { echo "no plugins built"; exit 77; }
fail=0
for f in "${files[@]}"; do
    syms=$(nm -D --defined-only "$f" | awk 'NF == 3 { print $3 }' | sort | tr '\n' ' ')
    if [ "$syms" != "pt_plugin_entry " ]; then
        echo "FAIL: $f exports: $syms"
        fail=1
    else
        echo "ok: $f exports only pt_plugin_entry"
    fi
done
exit $fail
