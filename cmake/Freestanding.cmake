# Freestanding.cmake: a ctest that compiles every core/ source the way the guest
# will (-ffreestanding -fno-exceptions -fno-rtti, no C or C++ library headers)
# and fails on any hosted header or on an undefined symbol outside the small
# set the guest runtime provides.
add_test(NAME core_freestanding
  COMMAND ${CMAKE_COMMAND}
    -DCXX=${CMAKE_CXX_COMPILER}
    -DROOT=${INSTAR_ROOT}
    -DOUT=${CMAKE_BINARY_DIR}/freestanding
    -P ${INSTAR_ROOT}/cmake/CheckFreestanding.cmake)
set_tests_properties(core_freestanding PROPERTIES LABELS "core")
