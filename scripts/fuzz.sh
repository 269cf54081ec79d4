#!/bin/sh
# fuzz.sh <target> <seconds> - builds the libFuzzer targets with clang (-DWEMBED_FUZZ=ON, ASan +
# UBSan) in build-fuzz/ and runs one of them for the given wall time.
#
#   scripts/fuzz.sh json 600          targets: json, safetensors, gguf, tokenizer-load, tokenizer-encode
#   MAX_LEN=65536 scripts/fuzz.sh gguf 600
#
# The run starts from the committed replay corpus tests/fuzz/<target>/ plus the real files
# (read-only seeds: the fixtures' JSON and safetensors files, the GGUF files of tests/data) and
# writes what it finds to build-fuzz/corpus-<target>/ (not committed). A crash leaves its
# input as build-fuzz/crash-*; replay it with build-fuzz/fuzz-<target> <file>. Afterwards,
# `scripts/fuzz.sh <target> merge` minimizes the run's corpus back into tests/fuzz/<target>/
# (keep that folder small: it is replayed by ctest in every build).
set -eu
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh json|safetensors|gguf|tokenizer-load|tokenizer-encode seconds|merge}
arg=${2:-60}
case "$target" in json|safetensors|gguf|tokenizer-load|tokenizer-encode) ;; *) echo "unknown target $target" >&2; exit 2 ;; esac

build=build-fuzz
if [ ! -f $build/CMakeCache.txt ]; then
    CC=clang cmake -S . -B $build -DWEMBED_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
make -C $build -j2 fuzz-$target >/dev/null

seeds=$build/seeds-$target
rm -rf "$seeds"
mkdir -p "$seeds" $build/corpus-$target
case "$target" in
json)
    for f in tests/data/fixtures/*/config.json tests/data/fixtures/*/modules.json tests/data/fixtures/*/manifest.json \
             tests/data/fixtures/clip/preprocessor_config.json tests/data/broken/cases.json; do
        cp "$f" "$seeds/$(echo "$f" | tr / _)"
    done ;;
safetensors)
    for f in tests/data/broken/*/model.safetensors; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
    # the real fixtures: their headers and first tensors (the whole files are large for a fuzzer)
    for f in tests/data/fixtures/*/model.safetensors; do head -c 20000 "$f" > "$seeds/$(echo "$f" | tr / _)"; done ;;
gguf)
    cp tests/data/gguf/*.gguf tests/data/tokenizers/llama.cpp/*.gguf "$seeds/" ;;
tokenizer-load|tokenizer-encode)
    # the real files small enough to mutate (the big ones are tested whole by the differential test)
    for f in tests/data/tokenizers/*/tokenizer.json; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done ;;
esac

if [ "$arg" = merge ]; then
    mkdir -p $build/merged-$target
    $build/fuzz-$target -merge=1 $build/merged-$target tests/fuzz/$target $build/corpus-$target
    echo "minimized corpus in $build/merged-$target ($(ls $build/merged-$target | wc -l) files); copy what is worth keeping to tests/fuzz/$target/"
    exit 0
fi

# GGUF seeds are whole models, slow to run whole: MAX_LEN=65536 trades them for many more runs
# over the headers and the tiny models (bench/results/notes.md).
max_len=${MAX_LEN:-65536}
[ "$target" = gguf ] && max_len=${MAX_LEN:-1048576}
cd $build
exec ./fuzz-$target -max_total_time="$arg" -max_len=$max_len -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    corpus-$target ../tests/fuzz/$target seeds-$target
