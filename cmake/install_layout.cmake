# Install layout shared by the Debian and RPM packagings: helper scripts, systemd units,
# sysusers/tmpfiles, logrotate, the default configuration and welcome page, man pages, docs.
# Included (OPTIONAL) from the top-level CMakeLists.txt.
#
#   cmake --install build --prefix /usr        (DESTDIR honoured everywhere)
#   /usr/bin/bws-health-check, /usr/bin/bws-recovery
#   UNITDIR/bws.service, bws.socket, bws-health-check.{service,timer}, bws-recovery.service,
#           bws-health.service -> bws-health-check.service (alias)
#   SYSUSERSDIR/bws.conf, TMPFILESDIR/bws.conf
#   /etc/logrotate.d/bws, /etc/bws/{config.toml,environment,sites/,ssl/}
#   /opt/bws/static/{index.html,404.html}
#   /usr/share/man/man{5,8}/*, /usr/share/doc/bws/*.md
#
# The /etc and systemd destinations are absolute and depend on the prefix, so they are
# resolved when installing, not when configuring: `cmake --install --prefix /usr` of a tree
# configured with the default /usr/local still puts the config in /etc. For prefix /usr:
# /etc, and the systemd directories that systemd.pc names (Debian 12: /lib/systemd/system;
# Fedora: /usr/lib/systemd/system). For any other prefix: PREFIX/etc and PREFIX/lib/...
# (systemd also reads /usr/local/lib/systemd/system). Each one can be forced with the cache
# variables below (empty = automatic).

include_guard(GLOBAL)
include(GNUInstallDirs)

set(BWS_SYSTEMD_UNITDIR "" CACHE PATH "systemd unit directory (empty: automatic)")
set(BWS_SYSUSERSDIR "" CACHE PATH "sysusers.d directory (empty: automatic)")
set(BWS_TMPFILESDIR "" CACHE PATH "tmpfiles.d directory (empty: automatic)")
set(BWS_SYSCONFDIR "" CACHE PATH
    "Directory holding bws/ and logrotate.d/ (empty: /etc for prefix /usr, else PREFIX/etc)")
# The manual's home of the web content; the shipped config.toml serves /opt/bws/static.
set(BWS_WEBROOT "/opt/bws" CACHE PATH "Home of the default site's content (static/)")
option(BWS_INSTALL_SYSTEMD "Install the systemd units, sysusers and tmpfiles files" ON)
option(BWS_INSTALL_CONFIG "Install /etc/bws, /etc/logrotate.d/bws and the welcome page" ON)

# What systemd.pc says for prefix /usr; these do not depend on the install prefix.
set(_bws_pc_unitdir "/usr/lib/systemd/system")
set(_bws_pc_sysusersdir "/usr/lib/sysusers.d")
set(_bws_pc_tmpfilesdir "/usr/lib/tmpfiles.d")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
    foreach(_v unitdir:systemdsystemunitdir sysusersdir:sysusersdir tmpfilesdir:tmpfilesdir)
        string(REPLACE ":" ";" _v "${_v}")
        list(GET _v 0 _name)
        list(GET _v 1 _pcvar)
        pkg_get_variable(_value systemd ${_pcvar})
        if(_value)
            set(_bws_pc_${_name} "${_value}")
        endif()
    endforeach()
endif()

# A CMAKE_INSTALL_SYSCONFDIR given as an absolute path at configure time wins too.
set(_bws_sysconfdir "${BWS_SYSCONFDIR}")
if(NOT _bws_sysconfdir AND IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}")
    set(_bws_sysconfdir "${CMAKE_INSTALL_SYSCONFDIR}")
endif()

set(_bws_src "${PROJECT_SOURCE_DIR}")
set(_bws_stage "${CMAKE_CURRENT_BINARY_DIR}/bws-install")

# Admin scripts, next to the bws binary (relative destination: follows the prefix).
install(PROGRAMS
    ${_bws_src}/scripts/bws-health-check
    ${_bws_src}/scripts/bws-recovery
    DESTINATION ${CMAKE_INSTALL_BINDIR})

# Resolve the absolute destinations in the install script itself.
install(CODE "
set(_bws_unitdir \"${BWS_SYSTEMD_UNITDIR}\")
set(_bws_sysusersdir \"${BWS_SYSUSERSDIR}\")
set(_bws_tmpfilesdir \"${BWS_TMPFILESDIR}\")
set(_bws_etc \"${_bws_sysconfdir}\")
if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_bws_auto_unitdir \"${_bws_pc_unitdir}\")
    set(_bws_auto_sysusersdir \"${_bws_pc_sysusersdir}\")
    set(_bws_auto_tmpfilesdir \"${_bws_pc_tmpfilesdir}\")
    set(_bws_auto_etc \"/etc\")
else()
    set(_bws_auto_unitdir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
    set(_bws_auto_sysusersdir \"\${CMAKE_INSTALL_PREFIX}/lib/sysusers.d\")
    set(_bws_auto_tmpfilesdir \"\${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d\")
    set(_bws_auto_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
endif()
foreach(_d unitdir sysusersdir tmpfilesdir etc)
    if(NOT _bws_\${_d})
        set(_bws_\${_d} \"\${_bws_auto_\${_d}}\")
    endif()
endforeach()
")

# Units, the logrotate file and the scripts' defaults name /usr/bin/bws* and /etc/bws/...
# For another prefix those paths are rewritten while installing, so that a /usr/local
# install is consistent too; for /usr the files are installed byte for byte.
install(CODE "
set(_bws_bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
if(IS_ABSOLUTE \"${CMAKE_INSTALL_BINDIR}\")
    set(_bws_bindir \"${CMAKE_INSTALL_BINDIR}\")
endif()
function(_bws_install_file src dest name)
    if(_bws_bindir STREQUAL \"/usr/bin\" AND _bws_etc STREQUAL \"/etc\")
        set(_from \"\${src}\")
    else()
        file(READ \"\${src}\" _text)
        string(REPLACE \"/usr/bin/bws\" \"\${_bws_bindir}/bws\" _text \"\${_text}\")
        string(REPLACE \"/etc/bws\" \"\${_bws_etc}/bws\" _text \"\${_text}\")
        set(_from \"${CMAKE_CURRENT_BINARY_DIR}/bws-install/rewritten/\${name}\")
        file(WRITE \"\${_from}\" \"\${_text}\")
    endif()
    file(INSTALL \"\${_from}\" DESTINATION \"\${dest}\" RENAME \"\${name}\"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()
")

if(BWS_INSTALL_SYSTEMD)
    # The manual calls the check unit bws-health.service. A unit without [Install] cannot
    # declare Alias=, but a symlink in the unit directory is an alias all the same
    # (`systemctl start bws-health.service` works). The timer's alias comes from Alias=.
    file(MAKE_DIRECTORY "${_bws_stage}")
    file(CREATE_LINK bws-health-check.service "${_bws_stage}/bws-health.service" SYMBOLIC)
    install(CODE "
foreach(_unit bws.service bws.socket bws-health-check.service bws-health-check.timer
        bws-recovery.service)
    _bws_install_file(\"${_bws_src}/systemd/\${_unit}\" \"\${_bws_unitdir}\" \${_unit})
endforeach()
file(INSTALL \"${_bws_stage}/bws-health.service\" DESTINATION \"\${_bws_unitdir}\")
_bws_install_file(\"${_bws_src}/systemd/bws.sysusers\" \"\${_bws_sysusersdir}\" bws.conf)
_bws_install_file(\"${_bws_src}/systemd/bws.tmpfiles\" \"\${_bws_tmpfilesdir}\" bws.conf)
")
endif()

if(BWS_INSTALL_CONFIG)
    # /etc/bws is root:bws 0750 and its files 0640 once installed: bws.tmpfiles sets the
    # group (`systemd-tmpfiles --create bws.conf`), since the bws group does not exist at
    # build time. Until then they are root's only, never world-readable.
    file(MAKE_DIRECTORY "${_bws_stage}/etc/bws/sites" "${_bws_stage}/etc/bws/ssl")
    install(CODE "
_bws_install_file(\"${_bws_src}/logrotate/bws\" \"\${_bws_etc}/logrotate.d\" bws)
file(INSTALL \"${_bws_stage}/etc/bws\" DESTINATION \"\${_bws_etc}\" DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
file(INSTALL \"${_bws_src}/dist/config.toml\" \"${_bws_src}/dist/environment\"
    DESTINATION \"\${_bws_etc}/bws\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
")

    # The welcome page of the default site (absolute: config.toml points at it).
    install(DIRECTORY ${_bws_src}/dist/static/
        DESTINATION ${BWS_WEBROOT}/static
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
            GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endif()

# Man pages and the operator guide, whichever exist in the tree (CONFIGURE_DEPENDS: pages
# added later are picked up by the next build).
file(GLOB _bws_man8 CONFIGURE_DEPENDS ${_bws_src}/man/*.8)
file(GLOB _bws_man5 CONFIGURE_DEPENDS ${_bws_src}/man/*.5)
if(_bws_man8)
    install(FILES ${_bws_man8} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
endif()
if(_bws_man5)
    install(FILES ${_bws_man5} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
endif()
file(GLOB _bws_docs CONFIGURE_DEPENDS ${_bws_src}/docs/*.md)
if(_bws_docs)
    install(FILES ${_bws_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
