#!/usr/bin/env bash
# The kernel check on Oclgrind, the OpenCL simulator: every kernel of KernelCheckTests run item by item as a GPU
# would run it, with data-race (OCLGRIND_DATA_RACES), bounds (on by default) and API (OCLGRIND_CHECK_API) checks;
# any report fails the test that made the launch. Needs Debian's oclgrind and a built test bundle
# (swift build --build-tests). Oclgrind is the only OpenCL platform the tests see here.
set -euo pipefail
cd "$(dirname "$0")/../.."
icd=$(dpkg -L oclgrind | grep '/liboclgrind-rt-icd\.so$')
vendors=$(mktemp -d)
trap 'rm -rf "$vendors"' EXIT
echo "$icd" > "$vendors/oclgrind.icd"
# no kernel cache: every program is built by Oclgrind from its source
OCL_ICD_VENDORS="$vendors" OCLGRIND_LOG="$vendors/oclgrind.log" OCLGRIND_DATA_RACES=1 OCLGRIND_CHECK_API=1 \
    AUTOENCODERKIT_OCLGRIND=1 AUTOENCODERKIT_CACHE_DIR=off \
    swift test --skip-build --no-parallel --filter KernelCheckTests
