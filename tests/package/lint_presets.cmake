# Checks CMakePresets.json (cmake -P): this CMake (Debian 12: 3.25, schema 6 at most) accepts
# it, it has the dev/asan/coverage/release/vcpkg configure presets with matching build, test
# and workflow presets, it names no absolute path, and CMakeUserPresets.json is git-ignored.
# Arguments: SOURCE_DIR.
cmake_minimum_required(VERSION 3.21)

set(problems "")
macro(problem text)
  string(APPEND problems "  - ${text}\n")
endmacro()

file(READ "${SOURCE_DIR}/CMakePresets.json" presets)
string(JSON version ERROR_VARIABLE err GET "${presets}" version)
if(err)
  message(FATAL_ERROR "CMakePresets.json is not valid JSON: ${err}")
endif()
if(version GREATER 6)
  problem("schema version ${version}: CMake 3.25 (Debian 12) reads 6 at most")
endif()
if(presets MATCHES "\"(/|[A-Za-z]:[/\\\\])[^\"]*\"")
  problem("absolute path ${CMAKE_MATCH_0}: use the sourceDir macro or an environment variable")
endif()
if(NOT presets MATCHES "[$]env[{]VCPKG_ROOT[}]/scripts/buildsystems/vcpkg.cmake")
  problem("the vcpkg preset does not take its toolchain from the VCPKG_ROOT environment variable")
endif()

# Let this CMake parse it; VCPKG_ROOT set so that the vcpkg preset's condition holds.
set(ENV{VCPKG_ROOT} "${SOURCE_DIR}/no-such-vcpkg")
execute_process(COMMAND "${CMAKE_COMMAND}" --list-presets=all
  WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --list-presets=all refuses CMakePresets.json:\n${err}")
endif()
string(REPLACE "Available " ";Available " sections "${out}")
foreach(kind IN ITEMS configure build test workflow)
  set(listed "")
  foreach(section IN LISTS sections)
    if(section MATCHES "^Available ${kind} presets:")
      set(listed "${section}")
    endif()
  endforeach()
  foreach(name IN ITEMS dev asan coverage release vcpkg)
    if(NOT listed MATCHES "\"${name}\"")
      problem("no ${kind} preset '${name}'")
    endif()
  endforeach()
endforeach()

file(READ "${SOURCE_DIR}/.gitignore" ignore)
if(NOT ignore MATCHES "(^|\n)/?CMakeUserPresets.json(\n|$)")
  problem(".gitignore does not ignore CMakeUserPresets.json")
endif()

if(problems)
  message(FATAL_ERROR "CMakePresets.json:\n${problems}")
endif()
message(STATUS "CMakePresets.json: schema ${version}, presets dev/asan/coverage/release/vcpkg")
