# Compiles ignored_result.cpp twice with -Werror: dropping the Result must fail with a
# nodiscard diagnostic; dropping it through .ignore() must succeed (so the failure is the
# attribute's doing, not a broken include path).
set(common -std=c++17 -Wall -Wextra -Werror -fsyntax-only
    -I${JWTKIT_INCLUDE} -I${JWTKIT_GEN_INCLUDE} -DJWTKIT_STATIC_DEFINE)
foreach(dir IN LISTS NLOHMANN_INCLUDE)
  list(APPEND common -I${dir})
endforeach()

execute_process(COMMAND ${CXX} ${common} -DJWTKIT_DROP_EXPLICITLY ${SOURCE_DIR}/ignored_result.cpp
  RESULT_VARIABLE rc_ok OUTPUT_VARIABLE out_ok ERROR_VARIABLE err_ok)
if(NOT rc_ok EQUAL 0)
  message(FATAL_ERROR "control case (.ignore()) failed to compile:\n${err_ok}")
endif()

execute_process(COMMAND ${CXX} ${common} ${SOURCE_DIR}/ignored_result.cpp
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "ignoring a Result<void> compiled; [[nodiscard]] is not in force")
endif()
if(NOT err MATCHES "nodiscard|ignoring return value|unused-result")
  message(FATAL_ERROR "compile failed, but not because of [[nodiscard]]:\n${err}")
endif()
message(STATUS "ignored Result<void> rejected: OK")
