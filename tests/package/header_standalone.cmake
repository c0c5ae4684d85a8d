# One public header compiled on its own (cmake -P): a translation unit that includes it twice
# (include guard) and nothing else, with -std=c++17 -Wall -Wextra -Wpedantic -Werror and the
# usage requirements a consumer gets. Fails if the header needs something it does not include,
# warns, or pulls in an OpenSSL or hiredis header (checked on the full include tree, -H).
# Arguments: HEADER (e.g. jwtkit/jws.hpp), SETTINGS (HDR_CXX, HDR_OWN_INCLUDES, HDR_INCLUDES,
# HDR_DEFINES), WORK.
cmake_minimum_required(VERSION 3.21)
include("${SETTINGS}")

string(MAKE_C_IDENTIFIER "${HEADER}" stem)
set(tu "${WORK}/${stem}.cpp")
file(WRITE "${tu}" "#include <${HEADER}>\n#include <${HEADER}>\nint main() { return 0; }\n")

set(flags -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -H)
foreach(dir IN LISTS HDR_OWN_INCLUDES)
  list(APPEND flags "-I${dir}")
endforeach()
list(REMOVE_DUPLICATES HDR_INCLUDES)
foreach(dir IN LISTS HDR_INCLUDES)
  if(dir IN_LIST HDR_OWN_INCLUDES OR dir MATCHES "^/usr(/local)?/include/?$")
    continue()  # ours are -I above; default system dirs must keep their place in the order
  endif()
  list(APPEND flags "-isystem" "${dir}")
endforeach()
foreach(def IN LISTS HDR_DEFINES)
  list(APPEND flags "-D${def}")
endforeach()

execute_process(COMMAND "${HDR_CXX}" ${flags} "${tu}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
# -H lists every included file on stderr, one per line, prefixed with dots.
string(REGEX MATCHALL "(^|\n)\\.+ [^\n]*" included "${err}")
string(REGEX REPLACE "(^|\n)\\.+ [^\n]*" "" diagnostics "${err}")
string(REGEX REPLACE "Multiple include guards may be useful for:\n([^\n]*\n)*" "" diagnostics
  "${diagnostics}")
if(NOT rc EQUAL 0)
  string(REPLACE ";" " " shown "${flags}")
  message(FATAL_ERROR "<${HEADER}> does not compile on its own:\n$ ${HDR_CXX} ${shown} ${tu}\n"
    "${diagnostics}")
endif()
string(STRIP "${diagnostics}" diagnostics)
if(diagnostics)
  message(FATAL_ERROR "<${HEADER}> compiled with output:\n${diagnostics}")
endif()
foreach(line IN LISTS included)
  if(line MATCHES "/(openssl|hiredis)/")
    string(STRIP "${line}" line)
    message(FATAL_ERROR "<${HEADER}> includes a dependency header it must hide: ${line}")
  endif()
endforeach()
list(LENGTH included n)
message(STATUS "<${HEADER}> compiles on its own (${n} headers pulled in)")
