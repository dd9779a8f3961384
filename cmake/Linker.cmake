# Links with mold, else lld, when the compiler accepts it (Debian's mold and
# lld packages, scripts/install-deps.sh); GNU ld otherwise. GNU ld spends
# seconds on each of the tests' binaries and their debug info; mold a fraction.
# Off by default: with the CI's -g1 builds GNU ld links all 60 executables in
# about 20 s here, and the shipped binaries stay linked as they were tested
# (the VM guests' agent start failure first blamed on mold was the guest's
# own take-over script). -DFSCANARY_FAST_LINKER=ON for local builds.
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
