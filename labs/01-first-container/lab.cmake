# labs/01-first-container/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM lifecycle-lab           # fixed/main.cpp + the student's lifecycle_lab.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp)

# One check relays typed keys to a real container through `skiff attach`: it
# needs the built skiff. $SKIFF_BIN wins; else the main build's bin/skiff
# (grade.sh grades in BUILD/labs-grade/NN-topic or BUILD/labs-ctest/NN-topic,
# so BUILD/bin/skiff is two folders up), else the repository's build/bin/skiff.
get_filename_component(lab_build_bin ${CMAKE_BINARY_DIR}/../../bin/skiff ABSOLUTE)
if(NOT EXISTS ${lab_build_bin})
  get_filename_component(lab_build_bin ${LAB_DIR}/../../build/bin/skiff ABSOLUTE)
endif()
target_compile_definitions(grader PRIVATE LAB_SKIFF_DEFAULT="${lab_build_bin}")
