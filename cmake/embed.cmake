# Turns a text file into a C++ header holding it as a raw string literal.
#   cmake -DIN=file -DOUT=header [-DNAME=kIdentifier -DDELIM=TAG] -P embed.cmake
# NAME defaults to the policy's kDefaultPolicyYaml; DELIM (at most 16 characters) must not occur in
# the file as ")DELIM\"".
if(NOT DEFINED NAME)
  set(NAME kDefaultPolicyYaml)
endif()
if(NOT DEFINED DELIM)
  set(DELIM SNPOLICY)
endif()
file(READ ${IN} CONTENT)
string(FIND "${CONTENT}" ")${DELIM}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} holds the raw string's end )${DELIM}\": choose another DELIM")
endif()
get_filename_component(DIR ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${DIR})
file(WRITE ${OUT}.tmp "#pragma once\n// Generated from ${IN}: edit that file, not this one.\nnamespace safetynet {\ninline constexpr const char* ${NAME} = R\"${DELIM}(${CONTENT})${DELIM}\";\n}\n")
# Only a real change touches OUT: an unchanged file does not recompile.
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
