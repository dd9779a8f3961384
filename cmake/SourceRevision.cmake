# fscanary_source_revision(<source dir> <out var>): the commit the source tree
# was checked out at, as 12 hex digits, with "-dirty" when tracked files differ
# from it; "unknown" where that cannot be known (a release tarball, no git).
# Run at configure time; the build configures again when HEAD moves.
function(fscanary_source_revision source_dir out_var)
  set(revision "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${source_dir}/.git")
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD
      WORKING_DIRECTORY "${source_dir}"
      RESULT_VARIABLE result
      OUTPUT_VARIABLE head
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
    if(result EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
      set(revision "${head}")
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" diff-index --quiet HEAD --
        WORKING_DIRECTORY "${source_dir}"
        RESULT_VARIABLE dirty
        OUTPUT_QUIET ERROR_QUIET)
      if(NOT dirty EQUAL 0)
        string(APPEND revision "-dirty")
      endif()
      # Configure again when HEAD moves (checkout, commit), so a build never
      # reports a revision older than its sources. Local edits ("-dirty") show
      # at the next configure only.
      if(NOT CMAKE_SCRIPT_MODE_FILE)
        execute_process(
          COMMAND "${GIT_EXECUTABLE}" rev-parse --git-path HEAD
          WORKING_DIRECTORY "${source_dir}"
          OUTPUT_VARIABLE head_file
          OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        execute_process(
          COMMAND "${GIT_EXECUTABLE}" symbolic-ref -q HEAD
          WORKING_DIRECTORY "${source_dir}"
          OUTPUT_VARIABLE branch_ref
          OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        set(watched "${head_file}")
        if(branch_ref)
          execute_process(
            COMMAND "${GIT_EXECUTABLE}" rev-parse --git-path "${branch_ref}"
            WORKING_DIRECTORY "${source_dir}"
            OUTPUT_VARIABLE branch_file
            OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
          list(APPEND watched "${branch_file}")
        endif()
        foreach(file IN LISTS watched)
          if(NOT IS_ABSOLUTE "${file}")
            set(file "${source_dir}/${file}")
          endif()
          if(EXISTS "${file}")
            set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
          endif()
        endforeach()
      endif()
    endif()
  endif()
  set(${out_var} "${revision}" PARENT_SCOPE)
endfunction()

# Run as a script (cmake -DSOURCE_DIR=... -P SourceRevision.cmake): prints it.
if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  fscanary_source_revision("${SOURCE_DIR}" revision)
  message("${revision}")
endif()
