# Fuzzing.cmake: add_fuzzer() turns one LLVMFuzzerTestOneInput source into a ctest that replays its
# corpora in every build and, with INSTAR_FUZZ=libfuzzer (clang), into a libFuzzer binary.
set(INSTAR_FUZZ "" CACHE STRING "Fuzzing engine for fuzz-targets/: empty (corpus replay only) or libfuzzer")
set_property(CACHE INSTAR_FUZZ PROPERTY STRINGS "" libfuzzer)

if(INSTAR_FUZZ STREQUAL "libfuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "INSTAR_FUZZ=libfuzzer needs clang (the fuzz preset uses clang++-14), "
                        "not ${CMAKE_CXX_COMPILER_ID}")
  endif()
elseif(INSTAR_FUZZ)
  message(FATAL_ERROR "INSTAR_FUZZ must be empty or libfuzzer, not '${INSTAR_FUZZ}'")
endif()

# Every fuzz executable, so that `cmake --build --target fuzzers` (and the fuzz build preset) builds just these.
if(NOT TARGET fuzzers)
  add_custom_target(fuzzers)
endif()

# As in Sanitizers.cmake: no vptr check, since core/ is built without RTTI (as in the guest).
set(instar_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)

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
  target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link ${instar_fuzz_sanitizers})
  target_link_options(${lib} INTERFACE -fsanitize=address,undefined)
  get_target_property(deps ${lib} LINK_LIBRARIES)
  foreach(dep IN LISTS deps)
    instar_fuzz_instrument(${dep})
  endforeach()
endfunction()

# add_fuzzer(NAME name SOURCES file... LIBS target... [DICT file])
#   fuzz_<name>_replay   replay_main.cc + the sources: runs every file of the corpus directories once;
#                        ctest fuzz/<name>/replay (label "fuzz") runs it over corpora/seeds/<name>/ and
#                        corpora/regressions/fuzz/<name>/ (skipping a missing one; no input at all fails).
#   fuzz_<name>          with INSTAR_FUZZ=libfuzzer: the libFuzzer binary (-fsanitize=fuzzer,address,undefined),
#                        with the dictionary copied beside it as fuzz_<name>.dict.
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

  if(INSTAR_FUZZ STREQUAL "libfuzzer")
    foreach(lib IN LISTS arg_LIBS)
      instar_fuzz_instrument(${lib})
    endforeach()
    target_compile_options(${replay} PRIVATE -fsanitize=fuzzer-no-link ${instar_fuzz_sanitizers})
    target_link_options(${replay} PRIVATE -fsanitize=address,undefined)

    set(fuzzer fuzz_${name})
    add_executable(${fuzzer} ${arg_SOURCES})
    target_include_directories(${fuzzer} PRIVATE ${INSTAR_ROOT})
    target_link_libraries(${fuzzer} PRIVATE ${arg_LIBS})
    target_compile_options(${fuzzer} PRIVATE -fsanitize=fuzzer ${instar_fuzz_sanitizers})
    target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer,address,undefined)
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
