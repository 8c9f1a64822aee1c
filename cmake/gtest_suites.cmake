# GoogleTest binaries as ctest entries, one per test suite (a fixture's tests run in one process)
# rather than one per test as gtest_discover_tests makes them.
#
# Why: a test process costs its start under ASan (about 0.3 s for these binaries) and whatever its
# fixture starts for every process (a PostgreSQL cluster by initdb, unbound, a fake platform). One
# entry per test made that cost 723 times: the store contract's 44 tests took 125 s of ctest time
# one by one against 8 s in one process, the unit tests 425 s against 25 s (docs/testing.md).
# Suites whose tests are each long (a daemon end to end, a real MTA) stay one entry per test, so
# that they spread over the cores; ONE_PER_TEST names them (a regular expression on the suite).
#
# COST orders a parallel run (ctest starts the highest first): an estimate in seconds, MS_PER_TEST
# milliseconds for each test an entry runs, so the long entries start first and the short ones fill
# in around them (a measured cost never replaces a COST the project sets).
#
#   safetynet_gtest_suites(TARGET TIMEOUT seconds MS_PER_TEST ms
#                          [ONE_PER_TEST regex] [TEST_TIMEOUT seconds] [TEST_MS ms]
#                          [TEST_PROCESSORS n])
#   TIMEOUT: of a suite's entry; TEST_TIMEOUT and TEST_MS: of a one-test entry (defaults TIMEOUT
#   and MS_PER_TEST); TEST_PROCESSORS: the slots of `ctest -jN` a one-test entry takes (default 1).
#   The long tests run a sanitized daemon or real MTAs: two of them at once on 2 cores, with short
#   ones beside, rather than four, which left a Postfix peer silent past a probe's 10 s twice.
function(safetynet_gtest_suites target)
  cmake_parse_arguments(arg "" "TIMEOUT;MS_PER_TEST;ONE_PER_TEST;TEST_TIMEOUT;TEST_MS;TEST_PROCESSORS" "" ${ARGN})
  if(NOT arg_TIMEOUT OR NOT arg_MS_PER_TEST)
    message(FATAL_ERROR "safetynet_gtest_suites(${target}): TIMEOUT and MS_PER_TEST are required")
  endif()
  if(NOT arg_TEST_TIMEOUT)
    set(arg_TEST_TIMEOUT ${arg_TIMEOUT})
  endif()
  if(NOT arg_TEST_PROCESSORS)
    set(arg_TEST_PROCESSORS 1)
  endif()
  if(NOT arg_TEST_MS)
    set(arg_TEST_MS ${arg_MS_PER_TEST})
  endif()
  set(ctest_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  # Listed after every link, as gtest_discover_tests does: the list is the binary's, never stale.
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND}
            -D "EXECUTABLE=$<TARGET_FILE:${target}>"
            -D "CTEST_FILE=${ctest_file}"
            -D "WORKING_DIR=${CMAKE_CURRENT_BINARY_DIR}"
            -D "TIMEOUT=${arg_TIMEOUT}"
            -D "TEST_TIMEOUT=${arg_TEST_TIMEOUT}"
            -D "MS_PER_TEST=${arg_MS_PER_TEST}"
            -D "TEST_MS=${arg_TEST_MS}"
            -D "TEST_PROCESSORS=${arg_TEST_PROCESSORS}"
            -D "ONE_PER_TEST=${arg_ONE_PER_TEST}"
            -P "${PROJECT_SOURCE_DIR}/cmake/gtest_suites_list.cmake"
    BYPRODUCTS "${ctest_file}"
    VERBATIM)
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake")
  file(WRITE "${include_file}"
       "if(EXISTS \"${ctest_file}\")\n"
       "  include(\"${ctest_file}\")\n"
       "else()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
