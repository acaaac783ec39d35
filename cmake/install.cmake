# Install rules: headers, the library, a CMake package (boost_curlConfig.cmake + version file +
# exported targets) and a pkg-config file. Included from the top-level CMakeLists.txt when
# BOOST_CURL_INSTALL is ON (the default only when boost_curl is the top-level project, so a
# parent project that add_subdirectory()s us gets no install rules it did not ask for).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BOOST_CURL_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/boost_curl")

# INCLUDES DESTINATION puts the include dir into the exported target's usage requirements.
install(TARGETS boost_curl EXPORT boost_curlTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

install(FILES "${PROJECT_SOURCE_DIR}/include/boost_curl.hpp" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/boost_curl" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.ipp")

install(EXPORT boost_curlTargets NAMESPACE boost_curl:: DESTINATION "${BOOST_CURL_CMAKE_DIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/boost_curlConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/boost_curlConfig.cmake"
  INSTALL_DESTINATION "${BOOST_CURL_CMAKE_DIR}")
# SameMajorVersion as issue 3 asks. Caveat: while the major version is 0 this accepts any 0.y
# for a request of 0.x, although 0.y may break the API; consumers should then ask for an exact
# version (find_package(boost_curl 0.1.0 EXACT)) if they need that guarantee.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/boost_curlConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/boost_curlConfig.cmake"
  "${PROJECT_BINARY_DIR}/boost_curlConfigVersion.cmake"
  DESTINATION "${BOOST_CURL_CMAKE_DIR}")

# pkg-config. Paths are relative to the .pc file (${pcfiledir}) so the installed tree can be
# moved (Conan packages, temporary prefixes). Boost ships no .pc file: it is header-only for
# us and must be on the compiler's default include path (else add its -I yourself).
file(RELATIVE_PATH BOOST_CURL_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" BOOST_CURL_PC_TO_PREFIX "${BOOST_CURL_PC_TO_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(BOOST_CURL_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(BOOST_CURL_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
# Boost ships no pkg-config files: its libraries are named on the Libs line. Boost.JSON is
# public (response::json() returns its values); Boost.URL is needed by a static archive only.
if(BUILD_SHARED_LIBS)
  # The shared library carries its libcurl and Boost.URL dependencies; consumers only need the
  # import define.
  set(BOOST_CURL_PC_CFLAGS " -DBOOST_CURL_DYN_LINK")
  set(BOOST_CURL_PC_REQUIRES "Requires.private: libcurl >= ${BOOST_CURL_MIN_LIBCURL}")
  set(BOOST_CURL_PC_BOOST_LIBS "-lboost_json")
else()
  # A static archive needs libcurl and Boost.URL on the consumer's link line.
  set(BOOST_CURL_PC_CFLAGS "")
  set(BOOST_CURL_PC_REQUIRES "Requires: libcurl >= ${BOOST_CURL_MIN_LIBCURL}")
  set(BOOST_CURL_PC_BOOST_LIBS "-lboost_json -lboost_url")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/boost_curl.pc.in" "${PROJECT_BINARY_DIR}/boost_curl.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/boost_curl.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
