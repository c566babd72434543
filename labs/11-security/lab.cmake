# labs/11-security/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM sandbox                 # fixed/main.cpp + the student's filter.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp
  REFERENCES no_arch_check        # proves the i386 unlink gets through a filter that ignores arch
  HELPERS grader/probe.c)         # the calls tried inside the filter, built static
