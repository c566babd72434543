# labs/07-none-and-host/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM netns-lab               # fixed/main.cpp + the student's netns.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp
  HELPERS grader/probe.c)         # what the command looks at inside, built static
