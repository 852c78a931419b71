#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those that are missing.
#   scripts/install_deps.sh            what the library, the sample and the scope-profiler program need
#                                      (HDF5's C library, CLI11, nlohmann-json, RE2, pkg-config)
#   scripts/install_deps.sh --tests    plus GoogleTest, Google Benchmark, h5dump, h5py, OpenMPI and
#                                      clang with libFuzzer (scripts/fuzz.sh)
set -euo pipefail
packages=(cmake g++ make python3 pkg-config libhdf5-dev libcli11-dev nlohmann-json3-dev libre2-dev)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(googletest libgtest-dev libgmock-dev libbenchmark-dev hdf5-tools python3-h5py
             libopenmpi-dev openmpi-bin clang libclang-rt-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "scope-profiler: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
