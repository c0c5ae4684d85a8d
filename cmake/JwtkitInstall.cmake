# Install rules, the CMake package (find_package(jwtkit [COMPONENTS redis])) and the
# pkg-config files. Included last from the top-level CMakeLists.txt when JWTKIT_INSTALL is ON,
# so that every target it installs already exists.
#
# Layout under the prefix:
#   include/jwtkit/**                 public headers + generated export.hpp, version.hpp
#   lib/libjwtkit[-redis].{a,so*}     the libraries (BUILD_SHARED_LIBS picks one)
#   bin/jwtkit                        the CLI, when built (rule in tools/CMakeLists.txt)
#   lib/cmake/jwtkit/                 jwtkit-config.cmake, -config-version.cmake, -targets.cmake,
#                                     jwtkit-redis-targets.cmake + jwtkit-find-hiredis.cmake
#   lib/pkgconfig/                    jwtkit.pc, jwtkit-redis.pc
# Every installed file is relocatable: no absolute path of the build machine inside.

include(CMakePackageConfigHelpers)

set(JWTKIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/jwtkit"
  CACHE STRING "Where jwtkit-config.cmake is installed (relative to the prefix)")
set(JWTKIT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
  CACHE STRING "Where jwtkit.pc and jwtkit-redis.pc are installed (relative to the prefix)")
mark_as_advanced(JWTKIT_INSTALL_CMAKEDIR JWTKIT_INSTALL_PKGCONFIGDIR)

# Build-tree package: find_package(jwtkit) with jwtkit_DIR pointing at the build directory
# works too (install(EXPORT) for installed users, export(EXPORT) for the build tree).
set(_jwtkit_build_pkgdir "${PROJECT_BINARY_DIR}")

# --- core ---------------------------------------------------------------------------------
install(TARGETS jwtkit EXPORT jwtkit-targets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/jwtkit"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp"
  PATTERN "redis" EXCLUDE)  # installed with the redis component below
install(FILES
    "${PROJECT_BINARY_DIR}/include/jwtkit/export.hpp"
    "${PROJECT_BINARY_DIR}/include/jwtkit/version.hpp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/jwtkit")
install(EXPORT jwtkit-targets
  NAMESPACE jwtkit::
  FILE jwtkit-targets.cmake
  DESTINATION "${JWTKIT_INSTALL_CMAKEDIR}")
export(EXPORT jwtkit-targets
  NAMESPACE jwtkit::
  FILE "${_jwtkit_build_pkgdir}/jwtkit-targets.cmake")

# --- redis component ----------------------------------------------------------------------
if(TARGET jwtkit_redis)
  install(TARGETS jwtkit_redis EXPORT jwtkit-redis-targets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/jwtkit/redis"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/jwtkit"
    FILES_MATCHING PATTERN "*.hpp")
  install(FILES "${PROJECT_BINARY_DIR}/include/jwtkit/redis/export.hpp"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/jwtkit/redis")
  install(EXPORT jwtkit-redis-targets
    NAMESPACE jwtkit::
    FILE jwtkit-redis-targets.cmake
    DESTINATION "${JWTKIT_INSTALL_CMAKEDIR}")
  # The config loads this to re-find hiredis (1.x config or Debian's pkg-config 0.14).
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/jwtkit-find-hiredis.cmake"
    DESTINATION "${JWTKIT_INSTALL_CMAKEDIR}")
  export(EXPORT jwtkit-redis-targets
    NAMESPACE jwtkit::
    FILE "${_jwtkit_build_pkgdir}/jwtkit-redis-targets.cmake")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/jwtkit-find-hiredis.cmake"
    "${_jwtkit_build_pkgdir}/jwtkit-find-hiredis.cmake" COPYONLY)
else()
  # A build directory reconfigured without Redis must not keep offering the component.
  file(REMOVE "${_jwtkit_build_pkgdir}/jwtkit-redis-targets.cmake")
endif()

# The CLI (jwtkit_cli -> bin/jwtkit) has its install() rule in tools/CMakeLists.txt.

install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# --- CMake package config -----------------------------------------------------------------
# While 0.x every minor release may break the API/ABI, so 0.1 accepts only 0.1.z.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_jwtkit_compat SameMinorVersion)
else()
  set(_jwtkit_compat SameMajorVersion)
endif()
write_basic_package_version_file("${_jwtkit_build_pkgdir}/jwtkit-config-version.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY ${_jwtkit_compat})

set(JWTKIT_CONFIG_SHARED ${BUILD_SHARED_LIBS})
if(NOT JWTKIT_CONFIG_SHARED)
  set(JWTKIT_CONFIG_SHARED OFF)
endif()
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/jwtkit-config.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/install/jwtkit-config.cmake"
  INSTALL_DESTINATION "${JWTKIT_INSTALL_CMAKEDIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/jwtkit-config.cmake.in"
  "${_jwtkit_build_pkgdir}/jwtkit-config.cmake"
  INSTALL_DESTINATION "${_jwtkit_build_pkgdir}"
  INSTALL_PREFIX "${PROJECT_BINARY_DIR}")
install(FILES
    "${PROJECT_BINARY_DIR}/cmake/install/jwtkit-config.cmake"
    "${_jwtkit_build_pkgdir}/jwtkit-config-version.cmake"
  DESTINATION "${JWTKIT_INSTALL_CMAKEDIR}")

# --- pkg-config ---------------------------------------------------------------------------
# prefix is derived from the .pc file's own location (${pcfiledir}), so the installed tree can
# be moved (and `cmake --install --prefix` used) without rewriting it.
function(_jwtkit_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

if(IS_ABSOLUTE "${JWTKIT_INSTALL_PKGCONFIGDIR}")
  set(JWTKIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _jwtkit_up "/jwtkit-root/${JWTKIT_INSTALL_PKGCONFIGDIR}" "/jwtkit-root")
  string(REGEX REPLACE "/$" "" _jwtkit_up "${_jwtkit_up}")
  set(JWTKIT_PC_PREFIX "\${pcfiledir}/${_jwtkit_up}")
endif()
_jwtkit_pc_dir(JWTKIT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
_jwtkit_pc_dir(JWTKIT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")

# Static builds need the export macros defined away, as the CMake targets do.
set(JWTKIT_PC_CFLAGS "")
set(JWTKIT_REDIS_PC_CFLAGS "")
# A static library's own dependencies must be linked by the consumer, so for a static build
# they are plain Requires: `pkg-config --libs jwtkit` then links without --static.
if(BUILD_SHARED_LIBS)
  set(JWTKIT_PC_REQUIRES "nlohmann_json >= 3.10")
  set(JWTKIT_PC_REQUIRES_PRIVATE "libcrypto >= 3.0")
  set(JWTKIT_REDIS_PC_REQUIRES "jwtkit = ${PROJECT_VERSION}")
  set(JWTKIT_REDIS_PC_REQUIRES_PRIVATE "hiredis libcrypto >= 3.0")
else()
  set(JWTKIT_PC_REQUIRES "nlohmann_json >= 3.10, libcrypto >= 3.0")
  set(JWTKIT_PC_REQUIRES_PRIVATE "")
  set(JWTKIT_REDIS_PC_REQUIRES "jwtkit = ${PROJECT_VERSION}, hiredis")
  set(JWTKIT_REDIS_PC_REQUIRES_PRIVATE "")
endif()
if(NOT BUILD_SHARED_LIBS)
  set(JWTKIT_PC_CFLAGS " -DJWTKIT_STATIC_DEFINE")
  set(JWTKIT_REDIS_PC_CFLAGS " -DJWTKIT_REDIS_STATIC_DEFINE")
endif()

configure_file("${PROJECT_SOURCE_DIR}/cmake/jwtkit.pc.in"
  "${PROJECT_BINARY_DIR}/pkgconfig/jwtkit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/jwtkit.pc"
  DESTINATION "${JWTKIT_INSTALL_PKGCONFIGDIR}")
if(TARGET jwtkit_redis)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/jwtkit-redis.pc.in"
    "${PROJECT_BINARY_DIR}/pkgconfig/jwtkit-redis.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/jwtkit-redis.pc"
    DESTINATION "${JWTKIT_INSTALL_PKGCONFIGDIR}")
endif()
