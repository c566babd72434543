# labs/02-chroot/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM enter-root              # fixed/main.cpp + the student's enter_root.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp
  REFERENCES chroot_only          # the escapes must be seen to work against these two
             leaked_old_root
  HELPERS grader/escape.c)        # copied into the root the checks build
