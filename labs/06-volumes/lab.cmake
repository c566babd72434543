# labs/06-volumes/lab.cmake — what the grading project builds for this lab
# (skiff_lab() is in labs/common/lab.cmake; the contract in labs/README.md).
skiff_lab(
  PROGRAM mount-target            # fixed/main.cpp + the student's mount_target.cpp
  FIXED fixed/main.cpp
  CHECKS grader/checks.cpp        # each check builds its own root and "host"
  REFERENCES kernel_follows)      # a naive walk: proves a check sees the host's /etc
