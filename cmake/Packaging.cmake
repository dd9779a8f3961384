# Debian packages fscanary-agent and fscanary-collector, built with CPack:
#   cmake --build BUILD && (cd BUILD && cpack -G DEB)
# Included at the end of the top-level CMakeLists.txt, once every target exists.
#
# Layout (what deploy/systemd/*.service expect): binaries in /usr/sbin (/usr/bin for
# the operator CLI), units in /lib/systemd/system (where bookworm's debhelper
# puts them), example configs as conffiles in /etc/fscanary, state in
# /var/lib/<package> made by the postinst. Maintainer scripts are made from
# deploy/debian/*.in and do what debhelper's generated ones would.
#
# Every rule here is EXCLUDE_FROM_ALL: a plain `cmake --install` keeps
# installing only the binaries (the rules in agent/ and collector/); the
# packages install their components explicitly.

set(FSCANARY_DEB_SOURCE_DIR "${PROJECT_SOURCE_DIR}/deploy/debian")
set(FSCANARY_DEB_WORK_DIR "${PROJECT_BINARY_DIR}/packaging")
set(FSCANARY_DEB_REVISION 1)
set(FSCANARY_DEB_VERSION "${PROJECT_VERSION}-${FSCANARY_DEB_REVISION}")
set(FSCANARY_DEB_MAINTAINER
    "fscanary maintainers <maintainers@users.noreply.r-seed-6e839cfa.example>")

# Installs FILE for COMPONENT into DESTINATION, for the packages only.
function(fscanary_package_file component destination file)
  install(FILES "${file}" DESTINATION "${destination}" COMPONENT ${component} EXCLUDE_FROM_ALL)
endfunction()

# Makes the maintainer scripts and the conffiles list of one package in
# FSCANARY_DEB_WORK_DIR/<package>/ and points CPack at them.
#   unit: the systemd unit the package ships, or "" (then no systemd snippets).
function(fscanary_maintainer_scripts component package user state_dir gecos unit conffiles)
  set(PACKAGE "${package}")
  set(USER "${user}")
  set(STATE_DIR "${state_dir}")
  set(GECOS "${gecos}")
  set(UNIT "${unit}")
  set(dir "${FSCANARY_DEB_WORK_DIR}/${package}")
  foreach(script postinst prerm postrm)
    set(snippet_var "SYSTEMD_${script}")
    string(TOUPPER "${snippet_var}" snippet_var)
    set(${snippet_var} "")
    if(unit)
      configure_file("${FSCANARY_DEB_SOURCE_DIR}/systemd-${script}.in"
                     "${dir}/systemd-${script}" @ONLY)
      file(READ "${dir}/systemd-${script}" ${snippet_var})
    endif()
    configure_file("${FSCANARY_DEB_SOURCE_DIR}/${script}.in" "${dir}/${script}" @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                                    GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  list(JOIN conffiles "\n" conffiles_text)
  file(WRITE "${dir}/conffiles" "${conffiles_text}\n")

  string(TOUPPER "${component}" upper)
  set(scripts "${dir}/postinst;${dir}/postrm;${dir}/conffiles")
  if(unit)
    list(APPEND scripts "${dir}/prerm")  # without a unit it would be empty
  endif()
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA "${scripts}" PARENT_SCOPE)
endfunction()

# /usr/share/doc/<package>/changelog.Debian.gz: Debian policy 12.7 wants one in
# every package. One entry for this version; its date honours SOURCE_DATE_EPOCH.
function(fscanary_debian_changelog component package)
  set(PACKAGE "${package}")
  set(DEB_VERSION "${FSCANARY_DEB_VERSION}")
  set(MAINTAINER "${FSCANARY_DEB_MAINTAINER}")
  string(TIMESTAMP DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
  set(dir "${FSCANARY_DEB_WORK_DIR}/${package}")
  configure_file("${FSCANARY_DEB_SOURCE_DIR}/changelog.in" "${dir}/changelog.Debian" @ONLY)
  file(ARCHIVE_CREATE OUTPUT "${dir}/changelog.Debian.gz" PATHS "${dir}/changelog.Debian"
       FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9)
  fscanary_package_file(${component} share/doc/${package} "${dir}/changelog.Debian.gz")
endfunction()

# --- fscanary-agent -------------------------------------------------------------
if(TARGET fscanary-agent)
  install(TARGETS fscanary-agent RUNTIME DESTINATION sbin COMPONENT agent EXCLUDE_FROM_ALL)
else()
  message(WARNING "Packaging: target fscanary-agent is missing; fscanary-agent.deb has no daemon")
endif()
fscanary_package_file(agent /lib/systemd/system
                      "${PROJECT_SOURCE_DIR}/deploy/systemd/fscanary-agent.service")
fscanary_package_file(agent /etc/fscanary "${PROJECT_SOURCE_DIR}/deploy/config/agent.yaml")
fscanary_package_file(agent share/doc/fscanary-agent "${PROJECT_SOURCE_DIR}/README.md")
# A raw scratch disk: the udev rule and the unit drop-in the README describes.
fscanary_package_file(agent share/doc/fscanary-agent/examples
                      "${PROJECT_SOURCE_DIR}/deploy/udev/61-fscanary-scratch.rules")
fscanary_package_file(agent share/doc/fscanary-agent/examples
                      "${PROJECT_SOURCE_DIR}/deploy/systemd/scratch-device.conf")
fscanary_debian_changelog(agent fscanary-agent)
fscanary_maintainer_scripts(agent fscanary-agent fscanary-agent /var/lib/fscanary-agent
                            "fscanary agent" fscanary-agent.service /etc/fscanary/agent.yaml)

# --- fscanary-collector ---------------------------------------------------------
# The operator CLI and the daemon may not exist yet while the collector is
# written; the package then ships what exists, and no unit without its daemon.
if(TARGET fscanary)
  install(TARGETS fscanary RUNTIME DESTINATION bin COMPONENT collector EXCLUDE_FROM_ALL)
else()
  message(WARNING "Packaging: target fscanary is missing; fscanary-collector.deb lacks the CLI")
endif()
set(collector_unit "")
if(TARGET fscanary-collector)
  install(TARGETS fscanary-collector RUNTIME DESTINATION sbin COMPONENT collector
          EXCLUDE_FROM_ALL)
  fscanary_package_file(collector /lib/systemd/system
                        "${PROJECT_SOURCE_DIR}/deploy/systemd/fscanary-collector.service")
  set(collector_unit fscanary-collector.service)
else()
  message(STATUS "Packaging: no target fscanary-collector yet; "
                 "fscanary-collector.deb ships neither the daemon nor its unit")
endif()
fscanary_package_file(collector /etc/fscanary
                      "${PROJECT_SOURCE_DIR}/deploy/config/collector.yaml")
fscanary_package_file(collector share/doc/fscanary-collector "${PROJECT_SOURCE_DIR}/README.md")
fscanary_debian_changelog(collector fscanary-collector)
fscanary_maintainer_scripts(collector fscanary-collector fscanary-collector
                            /var/lib/fscanary-collector "fscanary collector"
                            "${collector_unit}" /etc/fscanary/collector.yaml)

# --- CPack ------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fscanary)
set(CPACK_PACKAGE_VENDOR fscanary)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${FSCANARY_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL agent collector)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${FSCANARY_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps (package dpkg-dev), added to the
# ones named below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# 0755 scripts, 0644 conffiles list, whatever the umask of the build.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME fscanary-agent)
# adduser: the postinst; procps: /bin/kill in the unit's ExecReload.
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_DEBIAN_AGENT_DESCRIPTION
    "fscanary agent: detects silent filesystem and block-layer corruption
Writes blocks that describe themselves to a scratch file or device, reads them
back later and classifies what changed: lost writes, misdirected writes, torn
writes, bit rot. Findings, with evidence, go to the fscanary collector.
Runs as the systemd service fscanary-agent (user fscanary-agent).")

set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME fscanary-collector)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_COLLECTOR_DESCRIPTION
    "fscanary collector: fleet-wide corruption findings and their correlation
Receives the fscanary agents' reports, keeps them in SQLite, correlates
findings with kernel, block-layer and filesystem attributes across the fleet,
and exports Prometheus metrics. Also ships the operator CLI fscanary.
Runs as the systemd service fscanary-collector (user fscanary-collector).")

include(CPack)
