# Fuzzing.cmake: add_fuzzer() turns one LLVMFuzzerTestOneInput source into a ctest that replays its
# corpora in every build and, with INSTAR_FUZZ=libfuzzer (clang), afl (AFL++'s clang) or oss-fuzz (the flags
# OSS-Fuzz / ClusterFuzzLite give), into a fuzzer.
set(INSTAR_FUZZ "" CACHE STRING
    "Fuzzing engine for fuzz-targets/: empty (corpus replay only), libfuzzer, afl or oss-fuzz")
set_property(CACHE INSTAR_FUZZ PROPERTY STRINGS "" libfuzzer afl oss-fuzz)
set(INSTAR_AFL_CXX "afl-clang-lto++" CACHE STRING
    "With INSTAR_FUZZ=afl: AFL++'s C++ compiler for the fuzz targets and their libraries")
option(INSTAR_AFL_CMPLOG "With INSTAR_FUZZ=afl: build the CMPLOG variant (AFL_LLVM_CMPLOG=1) for afl-fuzz -c" OFF)
# OSS-Fuzz and ClusterFuzzLite: the sanitizer and coverage flags come in $CXXFLAGS, the engine in
# $LIB_FUZZING_ENGINE. ci/oss-fuzz/build.sh passes them here rather than as CMAKE_CXX_FLAGS, so that they
# reach the fuzz targets and the libraries they link but not the freestanding guest.
set(INSTAR_OSS_FUZZ_CXXFLAGS "" CACHE STRING "With INSTAR_FUZZ=oss-fuzz: $CXXFLAGS")
set(INSTAR_LIB_FUZZING_ENGINE "-fsanitize=fuzzer" CACHE STRING "With INSTAR_FUZZ=oss-fuzz: $LIB_FUZZING_ENGINE")

# Per engine: what instruments the libraries a target links (coverage + sanitizers), what those libraries'
# users link (the sanitizer runtimes), and how the fuzzer itself compiles and links.
# As in Sanitizers.cmake: no vptr check, since core/ is built without RTTI (as in the guest).
set(instar_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)
set(instar_fuzz_runtimes -fsanitize=address,undefined)
if(INSTAR_FUZZ STREQUAL "libfuzzer" OR INSTAR_FUZZ STREQUAL "afl")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "INSTAR_FUZZ=${INSTAR_FUZZ} needs clang (the fuzz and afl presets use clang++-14), "
                        "not ${CMAKE_CXX_COMPILER_ID}")
  endif()
elseif(INSTAR_FUZZ AND NOT INSTAR_FUZZ STREQUAL "oss-fuzz")
  message(FATAL_ERROR "INSTAR_FUZZ must be empty, libfuzzer, afl or oss-fuzz, not '${INSTAR_FUZZ}'")
endif()
if(INSTAR_FUZZ STREQUAL "libfuzzer")
  set(instar_fuzz_coverage -fsanitize=fuzzer-no-link
      -fsanitize-coverage-ignorelist=${INSTAR_ROOT}/fuzz-targets/coverage_ignorelist.txt)
  set(instar_fuzz_compile -fsanitize=fuzzer)
  set(instar_fuzz_link -fsanitize=fuzzer,address,undefined)
elseif(INSTAR_FUZZ STREQUAL "afl")
  # AFL++ instruments whatever its compiler builds; -fsanitize=fuzzer at link makes afl-cc link
  # libAFLDriver.a, which runs LLVMFuzzerTestOneInput in persistent mode from shared memory. The project is
  # configured with plain clang and only the fuzz targets and their libraries go through afl-cc (as a
  # launcher), so that the freestanding guest does not get AFL++'s runtime. afl-cc reads AFL_LLVM_CMPLOG
  # when compiling, and in LTO mode when linking too.
  set(instar_fuzz_coverage "")
  set(instar_fuzz_compile "")
  set(instar_fuzz_link -fsanitize=fuzzer,address,undefined)
  set(instar_afl_cmplog OFF)
  if(INSTAR_AFL_CMPLOG)
    set(instar_afl_cmplog ON)
  endif()
  set(instar_afl_launcher ${INSTAR_ROOT}/fuzz-targets/afl-cc-launcher.sh ${INSTAR_AFL_CXX} ${instar_afl_cmplog})
elseif(INSTAR_FUZZ STREQUAL "oss-fuzz")
  # $CXXFLAGS holds the sanitizer, -fsanitize=fuzzer-no-link and (in OSS-Fuzz) -stdlib=libc++: for compiling
  # and linking alike.
  separate_arguments(instar_fuzz_coverage UNIX_COMMAND "${INSTAR_OSS_FUZZ_CXXFLAGS}")
  set(instar_fuzz_sanitizers "")
  set(instar_fuzz_runtimes ${instar_fuzz_coverage})
  set(instar_fuzz_compile "")
  separate_arguments(instar_fuzz_link UNIX_COMMAND "${INSTAR_LIB_FUZZING_ENGINE}")
  list(PREPEND instar_fuzz_link ${instar_fuzz_coverage})
endif()

# With INSTAR_FUZZ=afl: compiles and links a target with AFL++'s compiler.
function(instar_fuzz_launcher target)
  if(instar_afl_launcher)
    set_target_properties(${target} PROPERTIES CXX_COMPILER_LAUNCHER "${instar_afl_launcher}"
                                               CXX_LINKER_LAUNCHER "${instar_afl_launcher}")
  endif()
endfunction()

# Every fuzz executable, so that `cmake --build --target fuzzers` (and the fuzz build preset) builds just these.
if(NOT TARGET fuzzers)
  add_custom_target(fuzzers)
endif()

# Coverage instrumentation and sanitizers for a library a fuzz target links, and for the project
# libraries it links in turn; whatever else links it gets the sanitizer runtimes.
function(instar_fuzz_instrument lib)
  get_property(done GLOBAL PROPERTY INSTAR_FUZZ_INSTRUMENTED)
  if(NOT TARGET ${lib} OR lib IN_LIST done)
    return()
  endif()
  get_target_property(imported ${lib} IMPORTED)
  get_target_property(type ${lib} TYPE)
  if(imported OR type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY INSTAR_FUZZ_INSTRUMENTED ${lib})
  target_compile_options(${lib} PRIVATE ${instar_fuzz_coverage} ${instar_fuzz_sanitizers})
  target_link_options(${lib} INTERFACE ${instar_fuzz_runtimes})
  instar_fuzz_launcher(${lib})
  get_target_property(deps ${lib} LINK_LIBRARIES)
  foreach(dep IN LISTS deps)
    instar_fuzz_instrument(${dep})
  endforeach()
endfunction()

# add_fuzzer(NAME name SOURCES file... LIBS target... [DICT file])
#   fuzz_<name>_replay   replay_main.cc + the sources: runs every file of the corpus directories once;
#                        ctest fuzz/<name>/replay (label "fuzz") runs it over corpora/seeds/<name>/ and
#                        corpora/regressions/fuzz/<name>/ (skipping a missing one; no input at all fails).
#   fuzz_<name>          with INSTAR_FUZZ=libfuzzer: the libFuzzer binary (-fsanitize=fuzzer,address,undefined);
#                        with INSTAR_FUZZ=afl: the AFL++ binary (libAFLDriver.a, persistent mode, ASan + UBSan);
#                        with INSTAR_FUZZ=oss-fuzz: built with $CXXFLAGS, linked with $LIB_FUZZING_ENGINE;
#                        either way with the dictionary copied beside it as fuzz_<name>.dict.
function(add_fuzzer)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;DICT" "SOURCES;LIBS")
  if(NOT arg_NAME OR NOT arg_SOURCES OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "add_fuzzer(NAME name SOURCES file... LIBS target... [DICT file]): "
                        "got ${ARGV}")
  endif()
  set(name ${arg_NAME})

  set(replay fuzz_${name}_replay)
  add_executable(${replay} ${arg_SOURCES} ${INSTAR_ROOT}/fuzz-targets/replay_main.cc)
  target_include_directories(${replay} PRIVATE ${INSTAR_ROOT})
  target_link_libraries(${replay} PRIVATE ${arg_LIBS})
  add_dependencies(fuzzers ${replay})

  if(INSTAR_FUZZ)
    foreach(lib IN LISTS arg_LIBS)
      instar_fuzz_instrument(${lib})
    endforeach()
    target_compile_options(${replay} PRIVATE ${instar_fuzz_coverage} ${instar_fuzz_sanitizers})
    target_link_options(${replay} PRIVATE ${instar_fuzz_runtimes})
    instar_fuzz_launcher(${replay})

    set(fuzzer fuzz_${name})
    add_executable(${fuzzer} ${arg_SOURCES})
    target_include_directories(${fuzzer} PRIVATE ${INSTAR_ROOT})
    target_link_libraries(${fuzzer} PRIVATE ${arg_LIBS})
    target_compile_options(${fuzzer} PRIVATE ${instar_fuzz_compile} ${instar_fuzz_sanitizers})
    target_link_options(${fuzzer} PRIVATE ${instar_fuzz_link})
    instar_fuzz_launcher(${fuzzer})
    add_dependencies(fuzzers ${fuzzer})
    if(arg_DICT)
      configure_file(${arg_DICT} ${CMAKE_CURRENT_BINARY_DIR}/${fuzzer}.dict COPYONLY)
    endif()
  endif()

  # Both directories, whether or not they exist yet: the replay skips a missing one, but fails when it
  # finds no input at all.
  set(corpora ${INSTAR_ROOT}/corpora/seeds/${name} ${INSTAR_ROOT}/corpora/regressions/fuzz/${name})
  add_test(NAME fuzz/${name}/replay COMMAND ${replay} ${corpora})
  set_tests_properties(fuzz/${name}/replay PROPERTIES LABELS "fuzz")
endfunction()
