# Overlay port: vcpkg install jwtkit[redis,tools] --overlay-ports=<jwtkit checkout>/ports
# REF/SHA512 name a release tag; update both (vcpkg prints the SHA512 to use) when releasing.
vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO jwtkit/jwtkit
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

# Each feature switches an explicit option, so nothing is picked up because it happens to be
# installed.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        redis   JWTKIT_WITH_REDIS
        tools   JWTKIT_BUILD_CLI
)

# Static or shared comes from the triplet through BUILD_SHARED_LIBS alone.
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DJWTKIT_BUILD_TESTS=OFF
        -DJWTKIT_BUILD_EXAMPLES=OFF
        -DJWTKIT_BUILD_BENCH=OFF
        -DJWTKIT_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/jwtkit)
vcpkg_fixup_pkgconfig()

if("tools" IN_LIST FEATURES)
    vcpkg_copy_tools(TOOL_NAMES jwtkit AUTO_CLEAN)
endif()

file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug/include"
    "${CURRENT_PACKAGES_DIR}/debug/share"
    "${CURRENT_PACKAGES_DIR}/share/doc"  # the LICENSE; vcpkg installs it as copyright below
)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
