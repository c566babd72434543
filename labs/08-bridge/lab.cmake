# labs/08-bridge/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
# libnl-3's route library: the student's program talks rtnetlink with it, and
# the grader reads with it what the program made (devices, addresses, routes).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-route-3.0)   # libnl-route-3-dev
skiff_lab(
  PROGRAM bridge-lab              # fixed/main.cpp + the student's bridge.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp grader/network.cpp
  LIBS PkgConfig::LIBNL)
