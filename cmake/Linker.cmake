# Links with mold, else lld, when the compiler accepts it (Debian's mold and
# lld packages, scripts/install-deps.sh); GNU ld otherwise. GNU ld spends
# seconds on each of the tests' binaries and their debug info; mold a fraction.
# Off by default: the agent linked by Debian's mold 1.10 failed to start in
# the VM suite's guests (not yet understood); -DFSCANARY_FAST_LINKER=ON for
# local builds only.
option(FSCANARY_FAST_LINKER "Link with mold or lld when the compiler can" OFF)
if(FSCANARY_FAST_LINKER)
  include(CheckLinkerFlag)
  foreach(linker IN ITEMS mold lld)
    check_linker_flag(CXX "-fuse-ld=${linker}" FSCANARY_LINKER_${linker})
    if(FSCANARY_LINKER_${linker})
      add_link_options("-fuse-ld=${linker}")
      message(STATUS "Linking with ${linker}")
      break()
    endif()
  endforeach()
endif()
