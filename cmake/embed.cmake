# Turns a text file into a C++ header holding it as a raw string literal.
file(READ ${IN} CONTENT)
get_filename_component(DIR ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${DIR})
file(WRITE ${OUT} "#pragma once\n// Generated from ${IN}: edit that file, not this one.\nnamespace safetynet {\ninline constexpr const char* kDefaultPolicyYaml = R\"SNPOLICY(${CONTENT})SNPOLICY\";\n}\n")
