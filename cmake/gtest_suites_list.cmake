# Run by safetynet_gtest_suites (cmake/gtest_suites.cmake) after a test binary is linked: lists its
# tests (--gtest_list_tests) and writes CTEST_FILE, one ctest entry per suite, or per test for the
# suites ONE_PER_TEST matches.
execute_process(COMMAND "${EXECUTABLE}" --gtest_list_tests
                WORKING_DIRECTORY "${WORKING_DIR}"
                OUTPUT_VARIABLE listing ERROR_VARIABLE listing_errors RESULT_VARIABLE rc
                TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} --gtest_list_tests failed (${rc}):\n${listing}\n${listing_errors}")
endif()

set(suites "")
set(suite "")
# A bracket in a printed parameter value would make the list below merge lines; names never hold
# one, and the values (after "  # ") are dropped anyway.
string(REPLACE "[" "(" listing "${listing}")
string(REPLACE "]" ")" listing "${listing}")
string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  # A parameter's value follows "  # " (GetParam() = ..., TypeParam = ...).
  string(REGEX REPLACE "  #.*$" "" line "${line}")
  if(line MATCHES "^([^ ].*)\\.$")
    set(suite "${CMAKE_MATCH_1}")
    # Disabled suites run only on request, as with gtest_discover_tests.
    if(NOT suite MATCHES "(^|/)DISABLED_")
      list(APPEND suites "${suite}")
      set(tests_of_${suite} "")
    endif()
  elseif(line MATCHES "^  ([^ ]+)$")
    set(test "${CMAKE_MATCH_1}")  # (the next MATCHES clears CMAKE_MATCH_1)
    # (not `if(suite)`: a suite named No or Off would read false)
    if(NOT suite STREQUAL "" AND NOT suite MATCHES "(^|/)DISABLED_" AND NOT test MATCHES "^DISABLED_")
      list(APPEND tests_of_${suite} "${test}")
    endif()
  endif()  # anything else ("Running main() from ...") is not the listing
endforeach()
if(NOT suites)
  message(FATAL_ERROR "${EXECUTABLE} lists no test")
endif()

math(EXPR whole "${TEST_MS} / 1000")
math(EXPR frac "${TEST_MS} % 1000 + 1000")
string(SUBSTRING "${frac}" 1 3 frac)
set(seconds_per_test "${whole}.${frac}")
set(out "# Written by cmake/gtest_suites_list.cmake from ${EXECUTABLE} --gtest_list_tests\n")
foreach(suite IN LISTS suites)
  list(LENGTH tests_of_${suite} count)
  if(count EQUAL 0)
    continue()
  endif()
  if(ONE_PER_TEST AND suite MATCHES "${ONE_PER_TEST}")
    foreach(test IN LISTS tests_of_${suite})
      set(name "${suite}.${test}")
      string(APPEND out
        "add_test([==[${name}]==] [==[${EXECUTABLE}]==] [==[--gtest_filter=${name}]==])\n"
        "set_tests_properties([==[${name}]==] PROPERTIES WORKING_DIRECTORY [==[${WORKING_DIR}]==]"
        " TIMEOUT ${TEST_TIMEOUT} COST ${seconds_per_test} PROCESSORS ${TEST_PROCESSORS})\n")
    endforeach()
  else()
    # COST is seconds; MS_PER_TEST is whole milliseconds (math() has no fractions).
    math(EXPR ms "${count} * ${MS_PER_TEST}")
    math(EXPR whole "${ms} / 1000")
    math(EXPR frac "${ms} % 1000 + 1000")  # 1000..1999: the leading 1 keeps the zeros
    string(SUBSTRING "${frac}" 1 3 frac)
    string(APPEND out
      "add_test([==[${suite}]==] [==[${EXECUTABLE}]==] [==[--gtest_filter=${suite}.*]==])\n"
      "set_tests_properties([==[${suite}]==] PROPERTIES WORKING_DIRECTORY [==[${WORKING_DIR}]==]"
      " TIMEOUT ${TIMEOUT} COST ${whole}.${frac})\n")
  endif()
endforeach()
file(WRITE "${CTEST_FILE}" "${out}")
