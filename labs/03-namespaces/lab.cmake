# labs/03-namespaces/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM nsbox                   # fixed/main.cpp + the student's namespaces.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp)
