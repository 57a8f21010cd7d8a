# SPDX-License-Identifier: GPL-2.0-or-later
# Writes a man page with the project's version and the build date in its
# .TH line, so they are never edited by hand: the sources leave both empty
# (`man -l packaging/man/PAGE` still reads them). The date follows
# SOURCE_DATE_EPOCH when set, for reproducible packages.
# Usage: cmake -DIN=PAGE -DOUT=FILE -DVERSION=X.Y.Z -P man_version.cmake
file(READ ${IN} text)
string(TIMESTAMP date "%Y-%m-%d" UTC)
string(REGEX REPLACE "\n\\.TH ([^ ]+) ([1-9]) \"\" \"mdev-vncd\"" "\n.TH \\1 \\2 \"${date}\" \"mdev-vncd ${VERSION}\""
       versioned "${text}")
if(versioned STREQUAL text)
  message(FATAL_ERROR "${IN}: no '.TH NAME SECTION \"\" \"mdev-vncd\"' line to put the version in")
endif()
file(WRITE ${OUT} "${versioned}")
