# What `cmake --install` puts where, and the Debian package (CPack DEB) built from it by
# scripts/package. SAFETYNET_DEB=ON lays the tree out as Debian wants it (the unit in
# /lib/systemd/system, the config in /etc as a conffile, gzipped man pages, the copyright file and
# changelog); OFF installs the binary, the unit and the example only, under CMAKE_INSTALL_PREFIX.
option(SAFETYNET_DEB "Install layout and CPack settings of the Debian package" OFF)

set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(TARGETS safetynet RUNTIME DESTINATION bin)
install(FILES config/safetynet.example.yaml DESTINATION share/doc/safetynet)

if(NOT SAFETYNET_DEB)
  install(FILES packaging/safetynet.service DESTINATION lib/systemd/system)
  return()
endif()

# `install` (and so cpack) builds only what it installs: not the eval tools, not the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(pkg ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
set(gen ${CMAKE_CURRENT_BINARY_DIR}/package)
find_program(PYTHON3 python3 REQUIRED)
# gzip -9n: the maximum compression and no time stamp, as dh_compress does (reproducible).
set(gz sh -c "gzip -9n < \"$1\" > \"$2\"" gzip)
configure_file(${pkg}/man/safetynet.8 ${gen}/safetynet.8 @ONLY)   # @PROJECT_VERSION@
add_custom_command(OUTPUT ${gen}/safetynet.8.gz
  COMMAND ${gz} ${gen}/safetynet.8 ${gen}/safetynet.8.gz
  DEPENDS ${gen}/safetynet.8 VERBATIM)
add_custom_command(OUTPUT ${gen}/safetynet.yaml.5.gz
  COMMAND ${PYTHON3} ${pkg}/man/md2man ${CMAKE_CURRENT_SOURCE_DIR}/docs/configuration.md ${gen}/safetynet.yaml.5
          ${PROJECT_VERSION}
  COMMAND ${gz} ${gen}/safetynet.yaml.5 ${gen}/safetynet.yaml.5.gz
  DEPENDS ${pkg}/man/md2man ${CMAKE_CURRENT_SOURCE_DIR}/docs/configuration.md VERBATIM)
add_custom_command(OUTPUT ${gen}/changelog.gz
  COMMAND ${gz} ${pkg}/deb/changelog ${gen}/changelog.gz
  DEPENDS ${pkg}/deb/changelog VERBATIM)
add_custom_command(OUTPUT ${gen}/safetynet.yaml
  COMMAND sh ${pkg}/deb/shipped-config ${CMAKE_CURRENT_SOURCE_DIR}/config/safetynet.example.yaml ${gen}/safetynet.yaml
  DEPENDS ${pkg}/deb/shipped-config ${CMAKE_CURRENT_SOURCE_DIR}/config/safetynet.example.yaml VERBATIM)
add_custom_target(safetynet-package-files ALL DEPENDS
  ${gen}/safetynet.8.gz ${gen}/safetynet.yaml.5.gz ${gen}/changelog.gz ${gen}/safetynet.yaml)

# Debian 12 keeps units in /lib (lintian: systemd-service-file-outside-lib).
install(FILES packaging/safetynet.service DESTINATION /lib/systemd/system)
install(FILES ${gen}/safetynet.yaml DESTINATION /etc/safetynet)
install(FILES ${gen}/safetynet.8.gz DESTINATION share/man/man8)
install(FILES ${gen}/safetynet.yaml.5.gz DESTINATION share/man/man5)
install(FILES ${gen}/changelog.gz ${pkg}/deb/copyright README.md
  docs/operations.md docs/configuration.md docs/reason-codes.md docs/bounces.md docs/lists.md
  docs/architecture.md
  DESTINATION share/doc/safetynet)
install(DIRECTORY docs/connectors DESTINATION share/doc/safetynet)
if(EXISTS ${pkg}/prometheus/alerts.yml)
  install(FILES ${pkg}/prometheus/alerts.yml DESTINATION share/safetynet/prometheus)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME safetynet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "Safety Net maintainers <maintainers@users.noreply.h-seed-cbf9f113.example>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                 # safetynet_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "pre-send safety net for scheduled sales email
safetynet is a daemon that polls sales-engagement platforms (Close, Outreach,
Salesloft) for emails scheduled a few minutes ahead, checks every recipient
(syntax, DNS and MX, lists, SMTP probe, bounce history, engagement), moves the
risky emails back to drafts through the platform's API and tells the rep on
Slack why, with a reason code and the next step.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)                  # dpkg-shlibdeps: the libraries' packages
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")             # postinst creates the system user
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${pkg}/deb/conffiles ${pkg}/deb/postinst ${pkg}/deb/prerm ${pkg}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
