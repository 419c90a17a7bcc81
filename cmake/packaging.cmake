# Install layout and the Debian package.
#   /usr/bin                      crm-maild, crm-mailctl (in src/daemon, src/ctl)
#   /etc/crm-mail                 crm-mail.toml.example (a conffile); crm-mail.toml is the
#                                 administrator's and never installed or overwritten
#   /usr/lib/systemd/system       crm-maild.service
#   /usr/share/crm-mail           schema/*.sql (reference: the binaries embed them), sample data
#   /usr/share/doc/crm-mail       README.md
# The configuration directory is absolute (not under the prefix), as systemd's
# ConfigurationDirectory= expects it there; stage installs with DESTDIR.
set(CRM_CONFIG_DIR "/etc/crm-mail" CACHE PATH "Installed configuration directory")
set(CRM_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE PATH "systemd system units (relative: under the prefix)")

install(FILES ${PROJECT_SOURCE_DIR}/config/crm-mail.toml.example DESTINATION ${CRM_CONFIG_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/crm-maild.service
        DESTINATION ${CRM_SYSTEMD_UNIT_DIR})
file(GLOB crm_schema_files ${PROJECT_SOURCE_DIR}/schema/*.sql)
install(FILES ${crm_schema_files} ${PROJECT_SOURCE_DIR}/schema/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/crm-mail/schema)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sample/ DESTINATION ${CMAKE_INSTALL_DATADIR}/crm-mail/sample)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "crm-mail")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "crm-mail maintainers <crm-mail@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "IMAP sync daemon and admin tool filing a team's mail into a CRM")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "mail")
# Shared-library dependencies from dpkg-shlibdeps (dpkg-dev), plus what the maintainer scripts
# and the unit use.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# As Debian packages do (dh_strip): the binaries in crm-mail_*.deb are stripped, and their debug
# information goes into crm-mail-dbgsym_*.ddeb under /usr/lib/debug/.build-id/, found by gdb
# through each binary's build id. (Not with CPACK_STRIP_FILES, which would drop it.)
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
file(WRITE ${PROJECT_BINARY_DIR}/deb/conffiles "${CRM_CONFIG_DIR}/crm-mail.toml.example\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/postrm ${PROJECT_BINARY_DIR}/deb/conffiles)
include(CPack)
