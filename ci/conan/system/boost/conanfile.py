# Stand-in for ConanCenter's boost recipe that uses the system's Boost (Debian
# libboost1.81-all-dev, libboost-json1.81-dev, libboost-url1.81-dev) for offline builds. It
# ships nothing: the headers and libraries are the system's, on the compiler's default paths.
# CMakeDeps makes a Boost config of it (file Boost, targets Boost::headers, Boost::json and
# Boost::url, the last two linking the system's libboost_json and libboost_url): with
# `cmake_find_mode none` a consumer's find_dependency(Boost) would reach the system's
# BoostConfig.cmake without components, which makes no Boost::json. The names match
# ConanCenter's so the
# boost_curl recipe's requires=["boost::headers", "boost::json", "boost::url"] works unchanged. Exported with
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
        self.cpp_info.bindirs = self.cpp_info.libdirs = self.cpp_info.includedirs = []
        headers = self.cpp_info.components["headers"]
        headers.set_property("cmake_target_name", "Boost::headers")
        headers.bindirs = headers.libdirs = headers.includedirs = []
        # The compiled libraries boost_curl links (ConanCenter's component names).
        for name in ("json", "url"):
            c = self.cpp_info.components[name]
            c.set_property("cmake_target_name", f"Boost::{name}")
            c.requires = ["headers"]
            c.system_libs = [f"boost_{name}"]
            c.bindirs = c.libdirs = c.includedirs = []
