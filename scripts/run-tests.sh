#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is needed, then
#   1. Release build with g++ (-Wall -Wextra): unit, integration, external (nginx), examples,
#      bcurl and bench-contract tests
#   2. the same with clang++
#   3. AddressSanitizer + UBSan build (g++), same tests
#   4. ThreadSanitizer build (g++), same tests
#   5. fuzzing: each libFuzzer target (clang, ASan+UBSan) for FUZZ_SECONDS (default 30) from
#      its seed corpus (test/fuzz/run.sh)
#   6. consumer projects: installed package, add_subdirectory/FetchContent, pkg-config, Conan
# (The sanitizer builds use g++: clang 14 cannot build C++20 coroutines under ASan, "Cannot
# represent a difference across sections", and its TSan runtime crashed in Asio's strand code.)
# and ends with one line "summary: N passed, M failed" (test programs counted by ctest, plus
# the consumer proofs).
#   bash scripts/run-tests.sh            (everything)
#   STAGES="release asan" bash scripts/run-tests.sh   (a subset: release clang asan tsan fuzz consumers)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh" || exit 1
stages=${STAGES:-release clang asan tsan fuzz consumers}
jobs=$(nproc)
passed=0 failed=0
start=$SECONDS

run_ctest_stage() {  # name, cmake args...
  local name=$1; shift
  local build=$root/build/ci-$name t0=$SECONDS
  echo "=== $name: configure and build"
  mkdir -p "$root/build"
  if ! cmake -S "$root" -B "$build" -G Ninja -DBOOST_CURL_BUILD_BENCH=ON "$@" >"$build.configure.log" 2>&1 ||
     ! cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; then
    tail -50 "$build.configure.log" "$build.build.log" 2>/dev/null
    echo "=== $name: BUILD FAILED"
    failed=$((failed + 1))
    return
  fi
  echo "=== $name: test"
  local log=$build.ctest.log
  (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 900) 2>&1 | tee "$log"
  local p f
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log")
  f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Exception)' "$log")
  passed=$((passed + p)) failed=$((failed + f))
  echo "=== $name: $p passed, $f failed in $((SECONDS - t0)) s"
}

# Compiling is most of each stage's time. The release stage builds every file on its own (so each
# one compiles with its own includes); the others build each target as one translation unit
# (CMake's unity build: the headers are parsed once per target, 166 s instead of 275 s here).
unity=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=0)
for stage in $stages; do
  case $stage in
    release) run_ctest_stage release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ ;;
    clang) run_ctest_stage clang "${unity[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ ;;
    asan) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            run_ctest_stage asan "${unity[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DBOOST_CURL_SANITIZER=address ;;
    tsan) TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            run_ctest_stage tsan "${unity[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DBOOST_CURL_SANITIZER=thread \
              -DCMAKE_CXX_FLAGS=-Wno-tsan ;;
    fuzz)
      echo "=== fuzz"
      t0=$SECONDS
      log=$root/build/fuzz.log
      mkdir -p "$root/build"
      BOOST_CURL_FUZZ_BUILD=$root/build/ci-fuzz bash "$root/test/fuzz/run.sh" "${FUZZ_SECONDS:-30}" 2>&1 | tee "$log"
      p=$(grep -cE '^fuzz [a-z_]+: ok' "$log")
      f=$(grep -cE '^fuzz [a-z_]+: FAILED' "$log")
      [ "$p" -gt 0 ] || f=$((f + 1))  # the build failed
      passed=$((passed + p)) failed=$((failed + f))
      echo "=== fuzz: $p passed, $f failed in $((SECONDS - t0)) s" ;;
    consumers)
      echo "=== consumers"
      t0=$SECONDS
      log=$root/build/consumers.log
      mkdir -p "$root/build"
      BOOST_CURL_JOBS=$jobs bash "$root/test/consumers/run.sh" 2>&1 | tee "$log"
      line=$(grep -E '^consumers: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
      if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | sed -E 's/consumers: ([0-9]+) passed.*/\1/')))
        failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed/\1/')))
      else
        failed=$((failed + 1))
      fi
      echo "=== consumers done in $((SECONDS - t0)) s" ;;
    *) echo "unknown stage $stage"; failed=$((failed + 1)) ;;
  esac
done

echo "total time $((SECONDS - start)) s"
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
