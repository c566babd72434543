# labs/02-chroot/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM enter-root              # fixed/main.cpp + the student's enter_root.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp
  REFERENCES chroot_only          # the escape must be seen to work against chroot alone
  HELPERS grader/escape.c)        # copied into the root the checks build
