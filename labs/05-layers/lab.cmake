# labs/05-layers/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM apply-layers            # fixed/ + the student's layers.cpp
  FIXED fixed/main.cpp fixed/given.cpp
  CHECKS grader/checks.cpp)       # each check writes its own layers
# The student's program reads layers with libarchive, and the grader writes
# them with it.
find_package(LibArchive REQUIRED)
target_link_libraries(apply-layers PRIVATE LibArchive::LibArchive)
target_link_libraries(grader PRIVATE LibArchive::LibArchive)
