# Finds hiredis and provides the imported target hiredis::hiredis, for both:
#  - hiredis 1.x (upstream CMake package `hiredis`, vcpkg, source builds), and
#  - Debian/Ubuntu's 0.14 (pkg-config `hiredis` only).
# Never calls find_package(Hiredis) (capital H): Debian's HiredisConfigVersion.cmake aborts
# the configure when no version is requested.
# Used by jwtkit's own build and installed beside jwtkit-config.cmake for the redis component.
# Sets JWTKIT_HIREDIS_FOUND and JWTKIT_HIREDIS_VERSION.

if(TARGET hiredis::hiredis)
  set(JWTKIT_HIREDIS_FOUND TRUE)
  return()
endif()

set(JWTKIT_HIREDIS_FOUND FALSE)
set(JWTKIT_HIREDIS_VERSION "")

find_package(hiredis CONFIG QUIET)
if(hiredis_FOUND AND TARGET hiredis::hiredis)
  set(JWTKIT_HIREDIS_FOUND TRUE)
  set(JWTKIT_HIREDIS_VERSION "${hiredis_VERSION}")
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  # GLOBAL so that one find serves every directory of a build (src/redis and tests).
  pkg_check_modules(JWTKIT_HIREDIS QUIET IMPORTED_TARGET GLOBAL hiredis)
  if(JWTKIT_HIREDIS_FOUND AND TARGET PkgConfig::JWTKIT_HIREDIS)
    add_library(hiredis::hiredis INTERFACE IMPORTED GLOBAL)
    set_target_properties(hiredis::hiredis PROPERTIES
      INTERFACE_LINK_LIBRARIES PkgConfig::JWTKIT_HIREDIS)
    set(JWTKIT_HIREDIS_FOUND TRUE)
    # pkg_check_modules already set JWTKIT_HIREDIS_VERSION.
    return()
  endif()
endif()

set(JWTKIT_HIREDIS_FOUND FALSE)
if(NOT jwtkit_FIND_QUIETLY)
  message(STATUS "hiredis not found: install libhiredis-dev (Debian/Ubuntu) or "
                 "`vcpkg install hiredis`, or point CMAKE_PREFIX_PATH at a hiredis 1.x install")
endif()
