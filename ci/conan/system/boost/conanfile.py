# Stand-in for ConanCenter's boost recipe that uses the system's Boost (Debian
# libboost1.81-all-dev) for offline builds. It ships nothing: CMakeDeps generates no files for
# it (cmake_find_mode none), so find_package(Boost CONFIG) reaches the system's BoostConfig.cmake,
# and the names match ConanCenter's (file Boost, component headers -> Boost::headers) so the
# boost_curl recipe's requires=["boost::headers"] works unchanged. Exported with
# `conan export <this dir> --version <system Boost version>` by ci/conan/offline-create.sh.
from conan import ConanFile


class SystemBoostConan(ConanFile):
    name = "boost"
    description = "The system's Boost, used in place of ConanCenter's (ships nothing)"
    package_type = "header-library"

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "Boost")
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.bindirs = self.cpp_info.libdirs = self.cpp_info.includedirs = []
        headers = self.cpp_info.components["headers"]
        headers.set_property("cmake_target_name", "Boost::headers")
        headers.bindirs = headers.libdirs = headers.includedirs = []
