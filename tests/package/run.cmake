# Driver for the packaging tests (cmake -P). Each STEP is one ctest test:
#
#   install          configure, build (-j2) and install jwtkit itself into WORK/prefix
#   find_package     build + run tests/package/find_package against WORK/prefix (or, with
#                    BUILD_TREE, against the build tree of that install: export(EXPORT))
#   add_subdirectory build + run tests/package/add_subdirectory (jwtkit built in-tree)
#   pkgconfig        compile consumer.cpp with `pkg-config --cflags --libs <module>`, run it
#   symbols          nm -DC --defined-only on the installed shared libraries: jwtkit API only
#   layout           the installed files are where users look for them; SONAME; CLI runs
#   no_paths         no installed file contains a path of the build machine
#   no_redis         COMPONENTS redis fails clearly against WORK/prefix built without Redis,
#                    and the core is found without hiredis
#   redis_without_hiredis  COMPONENTS redis fails clearly when hiredis cannot be found
#
# Arguments (-D): STEP, SETTINGS (file written by tests/package/CMakeLists.txt with the
# generator, compiler and paths), WORK (this test's work directory), and per step:
# SHARED, WITH_REDIS, WITH_CLI (install, layout), PC_MODULE + PC_STATIC (pkgconfig),
# PREFIX_WORK (the WORK of the install whose prefix the step uses).
cmake_minimum_required(VERSION 3.21)
include("${SETTINGS}")  # JWTKIT_PKG_{SOURCE_DIR,GENERATOR,CXX,BUILD_TYPE,VERSION,FORWARD}

set(jobs 2)  # the machine builds jwtkit in several places at once: stay at -j2

function(run what)
  # run(<description> COMMAND ... [WORKING_DIRECTORY d]): fails the test with the output
  cmake_parse_arguments(R "" "WORKING_DIRECTORY" "COMMAND" ${ARGN})
  if(NOT R_WORKING_DIRECTORY)
    set(R_WORKING_DIRECTORY "${WORK}")
  endif()
  execute_process(COMMAND ${R_COMMAND}
    WORKING_DIRECTORY "${R_WORKING_DIRECTORY}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " shown "${R_COMMAND}")
    message(FATAL_ERROR "${what} failed (${rc}):\n$ ${shown}\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

function(configure_project source build)
  # configure_project(<source> <build> <-D args...>) with the outer build's toolchain.
  file(REMOVE_RECURSE "${build}")
  run("configure ${source}" COMMAND "${CMAKE_COMMAND}" -S "${source}" -B "${build}"
    -G "${JWTKIT_PKG_GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${JWTKIT_PKG_CXX}"
    "-DCMAKE_BUILD_TYPE=${JWTKIT_PKG_BUILD_TYPE}"
    ${JWTKIT_PKG_FORWARD} ${ARGN})
  set(last_output "${last_output}" PARENT_SCOPE)
endfunction()

function(build_project build)
  run("build ${build}" COMMAND "${CMAKE_COMMAND}" --build "${build}" --parallel ${jobs})
endfunction()

set(prefix_work "${WORK}")
if(PREFIX_WORK)
  set(prefix_work "${PREFIX_WORK}")
endif()
set(prefix "${prefix_work}/prefix")
set(libdir "${prefix}/lib")
if(NOT STEP MATCHES "^(install|add_subdirectory)$" AND NOT EXISTS "${prefix_work}/install.ok")
  message(FATAL_ERROR "no jwtkit install in ${prefix_work}: its install test did not pass")
endif()

if(NOT STEP STREQUAL "install")
  file(MAKE_DIRECTORY "${WORK}")
endif()
# Shared libraries of the installed tree are found through this when a program has no RPATH.
set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}")
  # CMAKE_INSTALL_PREFIX stays at its default: installing with --prefix elsewhere also shows
  # that nothing depends on the configured prefix.
  configure_project("${JWTKIT_PKG_SOURCE_DIR}" "${WORK}/build"
    "-DBUILD_SHARED_LIBS=${SHARED}"
    "-DJWTKIT_WITH_REDIS=${WITH_REDIS}"
    "-DJWTKIT_BUILD_CLI=${WITH_CLI}"
    -DJWTKIT_BUILD_TESTS=OFF -DJWTKIT_BUILD_EXAMPLES=OFF -DJWTKIT_BUILD_BENCH=OFF
    -DJWTKIT_INSTALL=ON
    -DCMAKE_INSTALL_LIBDIR=lib)
  build_project("${WORK}/build")
  run("install" COMMAND "${CMAKE_COMMAND}" --install "${WORK}/build" --prefix "${prefix}")
  file(WRITE "${WORK}/install.ok" "")
  message(STATUS "jwtkit installed into ${prefix}")

elseif(STEP STREQUAL "find_package")
  set(redis_arg -DCONSUMER_WITH_REDIS=ON)
  if(NOT EXISTS "${prefix}/lib/cmake/jwtkit/jwtkit-redis-targets.cmake")
    set(redis_arg -DCONSUMER_WITH_REDIS=OFF)
  endif()
  set(search "${prefix}")
  if(BUILD_TREE)
    # The build-tree package that export(EXPORT) writes: jwtkit-config.cmake at its top.
    set(search "${prefix_work}/build")
  endif()
  configure_project("${JWTKIT_PKG_SOURCE_DIR}/tests/package/find_package" "${WORK}/consumer"
    "-DCMAKE_PREFIX_PATH=${search}" ${redis_arg}
    "-DCONSUMER_EXPECTED_VERSION=${JWTKIT_PKG_VERSION}")
  message(STATUS "${last_output}")
  build_project("${WORK}/consumer")
  run("consumer" COMMAND "${WORK}/consumer/consumer")
  message(STATUS "${last_output}")

elseif(STEP STREQUAL "add_subdirectory")
  file(MAKE_DIRECTORY "${WORK}")
  configure_project("${JWTKIT_PKG_SOURCE_DIR}/tests/package/add_subdirectory" "${WORK}/consumer"
    "-DJWTKIT_SOURCE_DIR=${JWTKIT_PKG_SOURCE_DIR}")
  build_project("${WORK}/consumer")
  run("consumer" COMMAND "${WORK}/consumer/consumer")
  message(STATUS "${last_output}")

elseif(STEP STREQUAL "pkgconfig")
  find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}")
  set(ENV{PKG_CONFIG_PATH} "${libdir}/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  run("pkg-config --modversion" COMMAND "${PKG_CONFIG}" --modversion ${PC_MODULE})
  string(STRIP "${last_output}" modversion)
  if(NOT modversion STREQUAL JWTKIT_PKG_VERSION)
    message(FATAL_ERROR "pkg-config reports ${PC_MODULE} ${modversion}, expected ${JWTKIT_PKG_VERSION}")
  endif()
  set(static_flag "")
  if(PC_STATIC)
    set(static_flag --static)  # a static libjwtkit also needs libcrypto and hiredis
  endif()
  run("pkg-config --cflags --libs" COMMAND "${PKG_CONFIG}" ${static_flag} --cflags --libs ${PC_MODULE})
  string(STRIP "${last_output}" flags)
  message(STATUS "pkg-config ${static_flag} --cflags --libs ${PC_MODULE}: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(defs)
  if(PC_MODULE STREQUAL "jwtkit-redis")
    set(defs -DCONSUMER_WITH_REDIS)
  endif()
  run("compile with pkg-config flags" COMMAND "${JWTKIT_PKG_CXX}" -std=c++17 ${defs}
    "-DCONSUMER_EXPECTED_VERSION=\"${JWTKIT_PKG_VERSION}\""
    "${JWTKIT_PKG_SOURCE_DIR}/tests/package/consumer.cpp" ${flags} -o "${WORK}/consumer")
  run("consumer" COMMAND "${WORK}/consumer")
  message(STATUS "${last_output}")

elseif(STEP STREQUAL "symbols")
  find_program(NM nm REQUIRED)
  file(GLOB libs "${libdir}/libjwtkit*.so")
  if(NOT libs)
    message(FATAL_ERROR "no shared jwtkit library in ${libdir}")
  endif()
  # Demangled names that are jwtkit's own: `jwtkit::...`, or its classes' vtables, typeinfo,
  # thunks and guard variables.
  set(ours "^((typeinfo name|typeinfo|vtable|VTT|construction vtable|virtual thunk|non-virtual thunk|guard variable) (for|to) )?jwtkit::")
  set(foreign "")
  foreach(lib IN LISTS libs)
    run("nm ${lib}" COMMAND "${NM}" -DC --defined-only "${lib}")
    string(REPLACE "\n" ";" lines "${last_output}")
    set(count 0)
    foreach(line IN LISTS lines)
      if(line MATCHES "^[0-9a-fA-F]+ [A-Za-z] (.*)$")
        set(symbol "${CMAKE_MATCH_1}")
        math(EXPR count "${count} + 1")
        if(NOT symbol MATCHES "${ours}")
          string(APPEND foreign "  ${lib}: ${symbol}\n")
        endif()
      endif()
    endforeach()
    get_filename_component(name "${lib}" NAME)
    message(STATUS "${name}: ${count} exported symbols")
    if(count EQUAL 0)
      message(FATAL_ERROR "${lib} exports nothing")
    endif()
  endforeach()
  if(foreign)
    message(FATAL_ERROR "symbols other than jwtkit's API are exported:\n${foreign}")
  endif()
  # And the API is there (the check above would pass on an empty table).
  run("nm core" COMMAND "${NM}" -DC --defined-only "${libdir}/libjwtkit.so")
  foreach(sym "jwtkit::error_category()" "jwtkit::Key::from_pem(" "jwtkit::JwsVerifier::verify(")
    string(FIND "${last_output}" "${sym}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "libjwtkit.so does not export ${sym}")
    endif()
  endforeach()

elseif(STEP STREQUAL "layout")
  set(missing "")
  foreach(f IN ITEMS
      include/jwtkit/export.hpp include/jwtkit/version.hpp include/jwtkit/error.hpp
      include/jwtkit/result.hpp include/jwtkit/jws.hpp
      lib/cmake/jwtkit/jwtkit-config.cmake lib/cmake/jwtkit/jwtkit-config-version.cmake
      lib/cmake/jwtkit/jwtkit-targets.cmake lib/pkgconfig/jwtkit.pc share/doc/jwtkit/LICENSE)
    if(NOT EXISTS "${prefix}/${f}")
      string(APPEND missing " ${f}")
    endif()
  endforeach()
  if(EXISTS "${prefix}/lib/cmake/jwtkit/jwtkit-redis-targets.cmake")
    foreach(f IN ITEMS include/jwtkit/redis/export.hpp include/jwtkit/redis/redis.hpp
        lib/cmake/jwtkit/jwtkit-find-hiredis.cmake lib/pkgconfig/jwtkit-redis.pc)
      if(NOT EXISTS "${prefix}/${f}")
        string(APPEND missing " ${f}")
      endif()
    endforeach()
  endif()
  if(missing)
    message(FATAL_ERROR "not installed:${missing}")
  endif()
  # The generated version header matches the project.
  file(READ "${prefix}/include/jwtkit/version.hpp" version_hpp)
  if(NOT version_hpp MATCHES "JWTKIT_VERSION_STRING \"${JWTKIT_PKG_VERSION}\"")
    message(FATAL_ERROR "version.hpp does not say ${JWTKIT_PKG_VERSION}:\n${version_hpp}")
  endif()
  # No private header (src/) and no test support file is installed.
  file(GLOB_RECURSE headers RELATIVE "${prefix}/include" "${prefix}/include/*")
  foreach(h IN LISTS headers)
    if(NOT h MATCHES "^jwtkit/.*\\.hpp$")
      message(FATAL_ERROR "unexpected file under include/: ${h}")
    endif()
  endforeach()
  # Shared builds: real file + SONAME link (VERSION/SOVERSION), SONAME recorded in the ELF.
  if(EXISTS "${libdir}/libjwtkit.so")
    string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${JWTKIT_PKG_VERSION}")
    set(soname "libjwtkit.so.${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
    foreach(f IN ITEMS "libjwtkit.so.${JWTKIT_PKG_VERSION}" "${soname}")
      if(NOT EXISTS "${libdir}/${f}")
        message(FATAL_ERROR "missing ${libdir}/${f}")
      endif()
    endforeach()
    find_program(OBJDUMP objdump)
    if(OBJDUMP)
      run("objdump -p" COMMAND "${OBJDUMP}" -p "${libdir}/libjwtkit.so")
      if(NOT last_output MATCHES "SONAME +${soname}")
        message(FATAL_ERROR "libjwtkit.so has no SONAME ${soname}")
      endif()
      if(last_output MATCHES "R(UN)?PATH")
        message(FATAL_ERROR "installed libjwtkit.so carries an RPATH/RUNPATH")
      endif()
    endif()
  elseif(NOT EXISTS "${libdir}/libjwtkit.a")
    message(FATAL_ERROR "neither libjwtkit.so nor libjwtkit.a in ${libdir}")
  endif()
  # Exported targets carry no warning or sanitizer flags of jwtkit's own build.
  file(GLOB target_files "${prefix}/lib/cmake/jwtkit/*targets*.cmake")
  foreach(f IN LISTS target_files)
    file(READ "${f}" text)
    if(text MATCHES "INTERFACE_COMPILE_OPTIONS|INTERFACE_LINK_OPTIONS|-Werror|-fsanitize")
      message(FATAL_ERROR "${f} exports compile/link options:\n${text}")
    endif()
  endforeach()
  # The CLI, when this install has it: bin/jwtkit, runnable.
  if(WITH_CLI)
    if(NOT EXISTS "${prefix}/bin/jwtkit")
      message(FATAL_ERROR "the CLI was built but bin/jwtkit is not installed")
    endif()
    run("jwtkit --help" COMMAND "${prefix}/bin/jwtkit" --help)
  endif()
  message(STATUS "install tree layout: OK")

elseif(STEP STREQUAL "no_paths")
  # Paths of this machine that must not leak into a package: the source tree (the build trees
  # live inside or beside it), the build tree of the install and the prefix itself.
  set(forbidden "${JWTKIT_PKG_SOURCE_DIR}" "${JWTKIT_PKG_BINARY_DIR}" "${prefix_work}")
  file(GLOB_RECURSE files LIST_DIRECTORIES false "${prefix}/*")
  list(LENGTH files nfiles)
  if(nfiles LESS 10)
    message(FATAL_ERROR "only ${nfiles} files under ${prefix}")
  endif()
  set(found "")
  foreach(f IN LISTS files)
    if(IS_SYMLINK "${f}")
      continue()
    endif()
    foreach(p IN LISTS forbidden)
      string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" re "${p}")
      # file(STRINGS) also pulls the printable strings out of binaries (.so, .a, bin/jwtkit).
      file(STRINGS "${f}" hits REGEX "${re}")
      if(hits)
        list(GET hits 0 first)
        string(APPEND found "  ${f}: ${first}\n")
        break()
      endif()
    endforeach()
  endforeach()
  if(found)
    message(FATAL_ERROR "installed files name paths of the build machine:\n${found}")
  endif()
  message(STATUS "${nfiles} installed files, none names a build path")

elseif(STEP STREQUAL "no_redis")
  if(EXISTS "${prefix}/lib/cmake/jwtkit/jwtkit-redis-targets.cmake")
    message(FATAL_ERROR "${prefix} was meant to be built without Redis")
  endif()
  set(consumer_src "${JWTKIT_PKG_SOURCE_DIR}/tests/package/find_package")
  # 1. Asking for the component fails at configure time, with the reason.
  file(REMOVE_RECURSE "${WORK}/with-redis")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${consumer_src}" -B "${WORK}/with-redis"
      -G "${JWTKIT_PKG_GENERATOR}" "-DCMAKE_CXX_COMPILER=${JWTKIT_PKG_CXX}"
      ${JWTKIT_PKG_FORWARD} "-DCMAKE_PREFIX_PATH=${prefix}" -DCONSUMER_WITH_REDIS=ON
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(jwtkit COMPONENTS redis) succeeded without Redis:\n${out}")
  endif()
  string(REGEX REPLACE "[ \n]+" " " flat "${err}")
  if(NOT flat MATCHES "Reason given by package: jwtkit was built without JWTKIT_WITH_REDIS, so it has no jwtkit::redis \\(rebuild")
    message(FATAL_ERROR "the failure does not say why:\n${err}")
  endif()
  message(STATUS "COMPONENTS redis refused, as it must:\n${err}")
  # 2. The core alone is found and works with hiredis unfindable: no hiredis CMake package and
  #    an empty pkg-config search path (the consumer also checks no hiredis target appeared).
  file(MAKE_DIRECTORY "${WORK}/empty-pkgconfig")
  set(ENV{PKG_CONFIG_LIBDIR} "${WORK}/empty-pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "")
  configure_project("${consumer_src}" "${WORK}/core"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCONSUMER_WITH_REDIS=OFF
    -DCMAKE_DISABLE_FIND_PACKAGE_hiredis=ON
    "-DCONSUMER_EXPECTED_VERSION=${JWTKIT_PKG_VERSION}")
  build_project("${WORK}/core")
  run("consumer" COMMAND "${WORK}/core/consumer")
  message(STATUS "${last_output}")

elseif(STEP STREQUAL "redis_without_hiredis")
  # A jwtkit with Redis, but hiredis cannot be found on this machine: COMPONENTS redis must
  # fail at configure time and say so, not at link time.
  file(MAKE_DIRECTORY "${WORK}/empty-pkgconfig")
  set(ENV{PKG_CONFIG_LIBDIR} "${WORK}/empty-pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "")
  file(REMOVE_RECURSE "${WORK}/consumer")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${JWTKIT_PKG_SOURCE_DIR}/tests/package/find_package"
      -B "${WORK}/consumer" -G "${JWTKIT_PKG_GENERATOR}" "-DCMAKE_CXX_COMPILER=${JWTKIT_PKG_CXX}"
      ${JWTKIT_PKG_FORWARD} "-DCMAKE_PREFIX_PATH=${prefix}" -DCONSUMER_WITH_REDIS=ON
      -DCMAKE_DISABLE_FIND_PACKAGE_hiredis=ON
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "COMPONENTS redis succeeded although hiredis cannot be found:\n${out}")
  endif()
  string(REGEX REPLACE "[ \n]+" " " flat "${err}")
  if(NOT flat MATCHES "Reason given by package: jwtkit::redis needs hiredis, which was not found")
    message(FATAL_ERROR "the failure does not say why:\n${err}")
  endif()
  message(STATUS "COMPONENTS redis without hiredis refused, as it must:\n${err}")

else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
