# Host profile for the offline Conan proof (ci/conan/offline-create.sh): the detected default
# profile with C++17, the library's minimum (test_package itself asks CMake for C++20).
include(default)

[settings]
compiler.cppstd=17
