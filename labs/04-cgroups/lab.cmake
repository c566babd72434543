# labs/04-cgroups/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM cglimit                 # fixed/main.cpp + the student's cgroup.cpp
  FIXED fixed/main.cpp fixed/given.cpp
  CHECKS grader/checks.cpp
  HELPERS grader/forks.c)         # forks until the kernel says no
