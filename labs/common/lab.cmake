# labs/common/lab.cmake — skiff_lab(): how a lab is built for grading.
#
# Included by labs/common/CMakeLists.txt (the grading project that
# scripts/grade.sh configures), which sets:
#   LAB_DIR         the lab's folder, labs/NN-topic
#   LAB_SUBMISSION  a folder holding the student's files: the same names as
#                   LAB_DIR/starter/ (grade.sh copies them there)
# Each lab's lab.cmake then calls, once:
#
#   skiff_lab(PROGRAM name            the student's program, bin/<name>
#             FIXED files...          the lab's own sources compiled with the
#                                     student's (a main, headers in fixed/)
#             CHECKS files...         the Catch2 checks (grader/*.cpp)
#             [REFERENCES mutant...]  mutants/<m>.patch applied to the
#                                     solution and built like a submission,
#                                     as bin/<name>-<m>: a known-wrong program
#                                     a check runs to prove it can see the fault
#             [HELPERS files.c...]    C programs built static (-static), e.g.
#                                     to be copied into a container
#             [LIBS libraries...])    what the program, its references and the
#                                     grader also link (target_link_libraries:
#                                     names, files or imported targets, e.g. a
#                                     pkg-config target that brings headers)
#
# The checks find the programs through compile definitions:
#   LAB_PROGRAM="…/bin/<name>", LAB_REFERENCE_<M>="…/bin/<name>-<m>",
#   LAB_HELPER_<STEM>="…/bin/<stem>"   (<M>, <STEM> upper case)
# Targets: lab_tools (grader, references, helpers: the lab's own code, must
# always build) and lab_program (the student's program: may fail to build).
function(skiff_lab)
  cmake_parse_arguments(L "" "PROGRAM" "FIXED;CHECKS;REFERENCES;HELPERS;LIBS" ${ARGN})
  if(NOT L_PROGRAM OR NOT L_CHECKS)
    message(FATAL_ERROR "skiff_lab: PROGRAM and CHECKS are required")
  endif()
  list(TRANSFORM L_FIXED PREPEND ${LAB_DIR}/)
  list(TRANSFORM L_CHECKS PREPEND ${LAB_DIR}/)

  # The student's files are, by contract, the files of starter/.
  file(GLOB student_names RELATIVE ${LAB_DIR}/starter CONFIGURE_DEPENDS ${LAB_DIR}/starter/*)
  set(student_files ${student_names})
  list(TRANSFORM student_files PREPEND ${LAB_SUBMISSION}/)

  add_executable(${L_PROGRAM} ${L_FIXED} ${student_files})
  target_include_directories(${L_PROGRAM} PRIVATE ${LAB_SUBMISSION} ${LAB_DIR}/fixed)
  target_link_libraries(${L_PROGRAM} PRIVATE ${L_LIBS})
  add_custom_target(lab_program DEPENDS ${L_PROGRAM})

  set(definitions LAB_PROGRAM="$<TARGET_FILE:${L_PROGRAM}>")
  set(tools "")
  foreach(ref IN LISTS L_REFERENCES)
    # A mutant is kept as a patch on the solution; here it is made whole.
    set(ref_dir ${CMAKE_CURRENT_BINARY_DIR}/mutants/${ref})
    set(patch_file ${LAB_DIR}/mutants/${ref}.patch)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${patch_file})
    file(REMOVE_RECURSE ${ref_dir})
    file(COPY ${LAB_DIR}/solution/ DESTINATION ${ref_dir})
    execute_process(COMMAND patch -s -p1 -d ${ref_dir} -i ${patch_file} RESULT_VARIABLE patched)
    if(NOT patched EQUAL 0)
      message(FATAL_ERROR "${patch_file} does not apply to the solution")
    endif()
    set(ref_files ${student_names})
    list(TRANSFORM ref_files PREPEND ${ref_dir}/)
    add_executable(${L_PROGRAM}-${ref} ${L_FIXED} ${ref_files})
    target_include_directories(${L_PROGRAM}-${ref} PRIVATE ${ref_dir} ${LAB_DIR}/fixed)
    target_link_libraries(${L_PROGRAM}-${ref} PRIVATE ${L_LIBS})
    string(TOUPPER ${ref} REF)
    list(APPEND definitions LAB_REFERENCE_${REF}="$<TARGET_FILE:${L_PROGRAM}-${ref}>")
    list(APPEND tools ${L_PROGRAM}-${ref})
  endforeach()
  foreach(helper IN LISTS L_HELPERS)
    get_filename_component(stem ${helper} NAME_WE)
    add_executable(${stem} ${LAB_DIR}/${helper})
    target_link_options(${stem} PRIVATE -static)
    string(TOUPPER ${stem} STEM)
    list(APPEND definitions LAB_HELPER_${STEM}="$<TARGET_FILE:${stem}>")
    list(APPEND tools ${stem})
  endforeach()

  add_executable(grader ${L_CHECKS})
  target_link_libraries(grader PRIVATE lab_grading ${L_LIBS})
  target_compile_definitions(grader PRIVATE ${definitions})
  add_custom_target(lab_tools DEPENDS grader ${tools})
endfunction()
