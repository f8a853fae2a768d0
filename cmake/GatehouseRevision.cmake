# The git revision this tree was configured from, for `--version` and the About dialog:
# `git describe` (tag, commits since, short hash, "-dirty" for local changes), or "unknown"
# outside a git checkout (a source tarball). Read at configure time; scripts/package.sh
# configures again before it builds, so a package names the revision it was built from.
set(GATEHOUSE_REVISION "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
    execute_process(
        COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
        OUTPUT_VARIABLE gatehouse_git_describe
        OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE gatehouse_git_result
        ERROR_QUIET)
    if(gatehouse_git_result EQUAL 0 AND gatehouse_git_describe)
        set(GATEHOUSE_REVISION "${gatehouse_git_describe}")
    endif()
endif()
message(STATUS "Gatehouse ${PROJECT_VERSION}, revision ${GATEHOUSE_REVISION}")
