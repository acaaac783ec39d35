# Stand-in for ConanCenter's libcurl recipe that uses the system's libcurl (Debian
# libcurl4-openssl-dev) for offline builds. It ships nothing: CMakeDeps generates no files for it
# (cmake_find_mode none), so find_package(CURL) reaches CMake's FindCURL, and the names match
# ConanCenter's (file CURL, component curl -> CURL::libcurl) so the boost_curl recipe's
# requires=["libcurl::curl"] works unchanged. Exported with
# `conan export <this dir> --version <system libcurl version>` by ci/conan/offline-create.sh.
from conan import ConanFile


class SystemLibcurlConan(ConanFile):
    name = "libcurl"
    description = "The system's libcurl, used in place of ConanCenter's (ships nothing)"
    package_type = "shared-library"

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "CURL")
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.bindirs = self.cpp_info.libdirs = self.cpp_info.includedirs = []
        curl = self.cpp_info.components["curl"]
        curl.set_property("cmake_target_name", "CURL::libcurl")
        curl.bindirs = curl.libdirs = curl.includedirs = []
