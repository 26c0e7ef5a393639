#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs each one on the seed inputs for a share of the time budget.
#
#   Fuzz/run.sh [TOTAL_SECONDS] [HARNESS...]
#
# TOTAL_SECONDS (default 60) is split evenly over the harnesses run (all six by default: idx gzip csv
# npy safetensors config). Each runs with -timeout=5, -rss_limit_mb=2048 and -malloc_limit_mb=1024, so a
# hang or a huge allocation counts as a finding like a crash. The seeds are Fuzz/Seeds/<harness> (valid
# files, made by make_seeds.py) and the matching files of Tests/AutoencodersTests/Corpus; inputs the
# fuzzer finds interesting accumulate in Fuzz/.build/corpus/<harness> between local runs. Dictionaries/
# holds the tokens (header keys, dtypes) the fuzzer cannot find by itself: Swift string comparisons are
# not instrumented.
#
# On a finding the input is copied into Tests/AutoencodersTests/Corpus as fuzz-<harness>-<hash>.<ext>
# with a manifest line whose expected message is empty (CorpusTests flags it until someone fixes the
# loader and writes the message in); config findings go to Fuzz/Findings instead (no corpus loader
# reads JSON configs). The script exits 1 when any harness found something.
set -uo pipefail
cd "$(dirname "$0")"
fuzz_dir=$(pwd)
corpus_dir="$fuzz_dir/../Tests/AutoencodersTests/Corpus"

total=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(idx gzip csv npy safetensors config)
per=$(( total / ${#harnesses[@]} ))
[ "$per" -lt 5 ] && per=5

echo "Building the fuzz harnesses (release, -sanitize=fuzzer,address)"
swift build -c release --package-path "$fuzz_dir" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -E "error|Compiling|Build" || true
bin=$(swift build -c release --package-path "$fuzz_dir" --show-bin-path)

# harness → executable, seed files from the corpus (globs), loader for the manifest, extension, -max_len.
target_of() { case $1 in idx) echo FuzzIDX;; gzip) echo FuzzGzip;; csv) echo FuzzCSV;; npy) echo FuzzNPY;;
                         safetensors) echo FuzzSafeTensors;; config) echo FuzzConfig;; esac; }
globs_of() { case $1 in idx) echo "*.idx *-ubyte *.gz";; gzip) echo "*.gz";; csv) echo "*.csv";;
                        npy) echo "*.npy";; safetensors) echo "*.safetensors";; config) echo "";; esac; }
loader_of() { case $1 in idx|gzip) echo idx;; *) echo "$1";; esac; }
ext_of() { case $1 in idx) echo idx;; gzip) echo gz;; *) echo "$1";; esac; }
max_len_of() { case $1 in gzip) echo 16384;; csv|config) echo 8192;; *) echo 4096;; esac; }

status=0
for name in "${harnesses[@]}"; do
    target=$(target_of "$name")
    if [ -z "$target" ] || [ ! -x "$bin/$target" ]; then echo "unknown or unbuilt harness: $name"; exit 2; fi
    work="$fuzz_dir/.build/corpus/$name"
    artifacts="$fuzz_dir/.build/artifacts/$name"
    mkdir -p "$work" "$artifacts"
    rm -f "$artifacts"/*
    # Seeds: the valid files and the bad files of the matching kind (regular files only).
    cp -f "$fuzz_dir/Seeds/$name"/* "$work"/
    for glob in $(globs_of "$name"); do
        for file in "$corpus_dir"/$glob; do [ -f "$file" ] && cp -f "$file" "$work/"; done
    done
    dict=()
    [ -f "$fuzz_dir/Dictionaries/$name.dict" ] && dict=(-dict="$fuzz_dir/Dictionaries/$name.dict")
    echo "== $name: $per s (max_len $(max_len_of "$name"))"
    # The Swift backtracer would catch the trap first and trip ASan in its own memory reader; let
    # libFuzzer handle the signal and write the artifact.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 "$bin/$target" "$work" \
        -max_total_time="$per" -max_len="$(max_len_of "$name")" -timeout=5 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" 2>&1 | grep -E "^#[0-9]+ *DONE|^INFO: seed corpus|ERROR|SUMMARY|^==[0-9]+==|Fatal error|stat::number_of_executed_units|artifact_prefix|Test unit written"
    code=${PIPESTATUS[0]}
    found=$(ls "$artifacts" 2>/dev/null)
    if [ "$code" -ne 0 ] || [ -n "$found" ]; then
        status=1
        echo "!! $name: libFuzzer exited $code"
        for artifact in $found; do
            hash=$(sha1sum "$artifacts/$artifact" | cut -c1-10)
            kind=${artifact%%-*}
            if [ "$name" = config ]; then
                mkdir -p "$fuzz_dir/Findings"
                cp "$artifacts/$artifact" "$fuzz_dir/Findings/fuzz-config-$kind-$hash.json"
                echo "   saved Fuzz/Findings/fuzz-config-$kind-$hash.json"
            else
                file="fuzz-$name-$kind-$hash.$(ext_of "$name")"
                if [ ! -e "$corpus_dir/$file" ]; then
                    cp "$artifacts/$artifact" "$corpus_dir/$file"
                    printf '%s\t%s\t\n' "$file" "$(loader_of "$name")" >> "$corpus_dir/manifest.tsv"
                fi
                echo "   saved Tests/AutoencodersTests/Corpus/$file (add its expected message to manifest.tsv)"
            fi
        done
    fi
done
exit $status
