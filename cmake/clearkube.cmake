# Helper functions so that each folder's CMakeLists.txt stays a short table.
#
#   ck_library(name SRCS a.cc b.cc DEPS other_lib PUBLIC_DEPS ...)
#   ck_binary(name SRCS main.cc DEPS lib [FAST_MALLOC]) -> build/bin/name
#     FAST_MALLOC links tcmalloc (libgoogle-perftools-dev) where it is installed: request paths
#     that allocate from many threads, where glibc's arenas trim and refault pages (apiserver and
#     its benchmark clients together: +17 % creates/s, 10,000-pod LIST 100 -> 66 ms; not for
#     daemons judged by memory: it cost ck-scheduler 90 MiB at 30,000 pods)
#   ck_test(name SRCS x_test.cc DEPS lib [LABEL unit|integration|e2e] [TIMEOUT s] [NEEDS binaries])
#     NEEDS names executables the test runs (built before the test; found via $CK_BIN_DIR).
#     Test code is compiled at -O0 with shared precompiled headers (ck_share_test_headers): a
#     test file spends most of its compile time parsing gtest and the generated API headers, and
#     the code it tests is in libraries built at the tree's own level.
#   ck_bench(name SRCS x_bench.cc DEPS lib [FAST_MALLOC]) -> build/bin/name, run by `make bench`
#   Libraries, daemons and benchmarks that use the API types share a precompiled header
#   (ck_share_library_headers).
#   ck_fuzz(name SRCS x_fuzz.cc DEPS lib [SECONDS n]) -> libFuzzer target in the CK_FUZZ tree

# Libraries and tests compile as unity translation units of CK_UNITY_BATCH files each (ck_unity):
# most of a file's compile time is parsing the generated API headers, which a batch parses once.
# Files of a target therefore share one namespace per batch: two files' anonymous-namespace helpers must not
# have the same name (a shared helper belongs in a header anyway). -DCK_UNITY=OFF builds file by
# file.
option(CK_UNITY "compile libraries and tests as unity batches" ON)
set(CK_UNITY_BATCH 8 CACHE STRING "files per unity translation unit")

set(CK_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(ck_common_options target)
  target_compile_options(${target} PRIVATE ${CK_WARNINGS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/gen)
  if(CK_FUZZ)
    # -O1 keeps the sanitizers useful and the (second, clang) fuzz tree quick to build.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=undefined -O1 -gline-tables-only)
  endif()
endfunction()

function(ck_unity target)
  if(CK_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${CK_UNITY_BATCH})
    # A class defined in a .cc file may hold its file's anonymous-namespace types; in a unity
    # translation unit that file is an included one, which is all this warning looks at.
    target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
  endif()
endfunction()

function(ck_library name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SRCS})
  ck_common_options(${name})
  ck_unity(${name})
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  set_property(GLOBAL APPEND PROPERTY CK_CODE_TARGETS ${name})
endfunction()

find_library(CK_TCMALLOC NAMES tcmalloc_minimal)

function(ck_fast_malloc target)
  if(CK_TCMALLOC)
    # Without --as-needed, so that its malloc is the one every library of the process uses.
    target_compile_options(${target} PRIVATE -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free)
    target_link_libraries(${target} PRIVATE -Wl,--no-as-needed ${CK_TCMALLOC} -Wl,--as-needed)
  endif()
endfunction()

function(ck_binary name)
  cmake_parse_arguments(A "FAST_MALLOC" "" "SRCS;DEPS" ${ARGN})
  if(CK_FUZZ)
    return()
  endif()
  add_executable(${name} ${A_SRCS})
  ck_common_options(${name})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  if(A_FAST_MALLOC)
    ck_fast_malloc(${name})
  endif()
  set_property(GLOBAL APPEND PROPERTY CK_CODE_TARGETS ${name})
endfunction()

function(ck_test name)
  cmake_parse_arguments(A "NO_UNITY" "LABEL;TIMEOUT" "SRCS;DEPS;ARGS;NEEDS" ${ARGN})
  if(CK_FUZZ)
    return()
  endif()
  if(NOT A_LABEL)
    set(A_LABEL unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${name} ${A_SRCS})
  ck_common_options(${name})
  target_compile_options(${name} PRIVATE -O0)
  if(NOT A_NO_UNITY)
    ck_unity(${name})
  endif()
  set_property(GLOBAL APPEND PROPERTY CK_TEST_TARGETS ${name})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(A_NEEDS)
    add_dependencies(${name} ${A_NEEDS})
  endif()
  add_test(NAME ${name} COMMAND ${name} ${A_ARGS} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  # COST orders a first (history-less) parallel ctest run: the long end-to-end and integration
  # tests start first and the many short unit tests fill in beside them, instead of the long ones
  # starting last and running alone.
  set(cost 1)
  if(A_LABEL STREQUAL "e2e")
    set(cost 60)
  elseif(A_LABEL STREQUAL "integration")
    set(cost 30)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT} COST ${cost}
    ENVIRONMENT "CK_BIN_DIR=${CMAKE_BINARY_DIR}/bin;CK_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# Called once at the end of the top-level CMakeLists.txt: every ck_test target reuses one
# precompiled header of the standard library, gtest/gmock and the API object builders (which
# pull in the generated protobuf headers, ~190,000 of a test file's ~400,000 preprocessed lines).
function(ck_share_test_headers)
  get_property(tests GLOBAL PROPERTY CK_TEST_TARGETS)
  if(NOT tests OR NOT TARGET ck_api_testing)
    return()
  endif()
  file(WRITE ${CMAKE_BINARY_DIR}/ck_test_pch.cc "// The translation unit that builds the tests' precompiled header.\n")
  add_library(ck_test_pch OBJECT ${CMAKE_BINARY_DIR}/ck_test_pch.cc)
  ck_common_options(ck_test_pch)
  target_compile_options(ck_test_pch PRIVATE -O0)
  # Only gtest's own definitions: a test that links fewer libraries than ck_api_testing must not
  # lack a macro the header was built with (GCC then refuses it). The generated headers the
  # builders include must exist first.
  target_link_libraries(ck_test_pch PRIVATE GTest::gtest GTest::gmock)
  add_dependencies(ck_test_pch ck_api_testing)
  target_precompile_headers(ck_test_pch PRIVATE
    <algorithm> <atomic> <chrono> <functional> <map> <memory> <mutex> <optional> <set> <string>
    <thread> <vector> <gtest/gtest.h> <gmock/gmock.h> common/api/testing/builders.h)
  foreach(t IN LISTS tests)
    target_precompile_headers(${t} REUSE_FROM ck_test_pch)
  endforeach()
endfunction()

# Whether `target` links `wanted`, directly or through the libraries it links.
function(ck_links_to target wanted out)
  set(seen "")
  set(todo ${target})
  set(found FALSE)
  while(todo)
    list(POP_FRONT todo t)
    if(t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    if(t STREQUAL wanted)
      set(found TRUE)
      break()
    endif()
    get_target_property(imported ${t} IMPORTED)
    if(imported)
      continue()
    endif()
    get_target_property(deps ${t} LINK_LIBRARIES)
    if(deps)
      list(APPEND todo ${deps})
    endif()
  endwhile()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Called once at the end of the top-level CMakeLists.txt: the libraries, daemons and benchmarks
# that use the API types reuse one precompiled header of the standard library and the generated
# protobuf headers. core_v1.pb.h alone is ~120,000 of a small scheduler plugin's ~350,000
# preprocessed lines; parsing them was most of such a file's compile time.
# Only headers that no target-specific macro changes (spdlog's, Boost's and simdjson's
# definitions differ between targets; GCC refuses a header built with other ones). The clang fuzz
# tree builds without it: there it saved nothing (184 s against 182 s for `fuzzers`).
function(ck_share_library_headers)
  get_property(targets GLOBAL PROPERTY CK_CODE_TARGETS)
  if(CK_FUZZ OR NOT targets OR NOT TARGET ck_api_proto_headers)
    return()
  endif()
  file(WRITE ${CMAKE_BINARY_DIR}/ck_lib_pch.cc "// The translation unit that builds the libraries' precompiled header.\n")
  add_library(ck_lib_pch OBJECT ${CMAKE_BINARY_DIR}/ck_lib_pch.cc)
  ck_common_options(ck_lib_pch)
  add_dependencies(ck_lib_pch ck_api_proto_headers)
  target_precompile_headers(ck_lib_pch PRIVATE
    <algorithm> <atomic> <chrono> <functional> <map> <memory> <mutex> <optional> <set> <string>
    <string_view> <unordered_map> <vector> <common/api/proto/core_v1.pb.h>)
  foreach(t IN LISTS targets)
    if(t STREQUAL "ck_api_proto")
      continue()
    endif()
    ck_links_to(${t} ck_api_proto uses_api)
    if(uses_api)
      target_precompile_headers(${t} REUSE_FROM ck_lib_pch)
    endif()
  endforeach()
endfunction()

# Benchmarks are not part of `all` (make test does not need them); `make bench` builds the
# `benches` target.
function(ck_bench name)
  cmake_parse_arguments(A "FAST_MALLOC" "" "SRCS;DEPS" ${ARGN})
  if(CK_FUZZ)
    return()
  endif()
  add_executable(${name} EXCLUDE_FROM_ALL ${A_SRCS})
  if(NOT TARGET benches)
    add_custom_target(benches)
  endif()
  add_dependencies(benches ${name})
  ck_common_options(${name})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  if(A_FAST_MALLOC)
    ck_fast_malloc(${name})
  endif()
  set_property(GLOBAL APPEND PROPERTY CK_CODE_TARGETS ${name})
endfunction()

# In the normal tree a fuzz target becomes a `fuzz-smoke` ctest that runs the libFuzzer binary
# from the CK_FUZZ tree (build-fuzz/bin) for SECONDS (default 15: the seed corpus, then a short
# exploration; `make fuzz` is the long form, FUZZ_SECONDS each); in the CK_FUZZ tree it is built with
# -fsanitize=fuzzer.
set(CK_FUZZ_BIN_DIR ${CMAKE_SOURCE_DIR}/build-fuzz/bin CACHE PATH "where the fuzz-smoke tests find the libFuzzer binaries")
function(ck_fuzz name)
  cmake_parse_arguments(A "" "SECONDS" "SRCS;DEPS" ${ARGN})
  if(NOT A_SECONDS)
    set(A_SECONDS 15)
  endif()
  if(CK_FUZZ)
    add_executable(${name} ${A_SRCS})
    ck_common_options(${name})
    target_link_libraries(${name} PRIVATE ${A_DEPS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    if(NOT TARGET fuzzers)
      add_custom_target(fuzzers)
    endif()
    add_dependencies(fuzzers ${name})
  else()
    set(fuzz_bin ${CK_FUZZ_BIN_DIR}/${name})
    set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    add_test(NAME ${name}
      COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run_fuzzer.sh ${fuzz_bin} ${corpus} ${A_SECONDS})
    set_tests_properties(${name} PROPERTIES LABELS fuzz-smoke TIMEOUT 600 COST ${A_SECONDS})
  endif()
endfunction()
