# jwtkit_package_binary(<target>): what every binary jwtkit installs gets.
#  - Shared libraries on ELF platforms are linked with a version script, so that their
#    dynamic symbol table holds jwtkit's API only (see jwtkit-exports.map).
#  - Outside Debug builds, the source and build directories are mapped out of __FILE__ and
#    debug info (-ffile-prefix-map), so no path of the build machine ends up in an installed
#    file (OpenSSL's OPENSSL_free() and friends record __FILE__).
# PRIVATE only: nothing here reaches the projects that use jwtkit.
include(CheckCXXCompilerFlag)
include(CheckLinkerFlag)

set(JWTKIT_EXPORTS_MAP "${CMAKE_CURRENT_LIST_DIR}/jwtkit-exports.map")

function(jwtkit_package_binary target)
  check_cxx_compiler_flag("-ffile-prefix-map=a=b" JWTKIT_CXX_HAS_FILE_PREFIX_MAP)
  if(JWTKIT_CXX_HAS_FILE_PREFIX_MAP)
    # Both: the build tree may live outside the source tree (generated sources).
    target_compile_options(${target} PRIVATE
      "$<$<NOT:$<CONFIG:Debug>>:-ffile-prefix-map=${PROJECT_BINARY_DIR}/=>"
      "$<$<NOT:$<CONFIG:Debug>>:-ffile-prefix-map=${PROJECT_SOURCE_DIR}/=>")
  endif()

  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "SHARED_LIBRARY" OR APPLE OR WIN32)
    return()
  endif()
  check_linker_flag(CXX "LINKER:--version-script=${JWTKIT_EXPORTS_MAP}"
    JWTKIT_LINKER_HAS_VERSION_SCRIPT)
  if(JWTKIT_LINKER_HAS_VERSION_SCRIPT)
    target_link_options(${target} PRIVATE "LINKER:--version-script=${JWTKIT_EXPORTS_MAP}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${JWTKIT_EXPORTS_MAP}")
  endif()
endfunction()
