// The errno → status mapping of files/open_error.hpp: absence is 404, refusal 403, and a fault of
// the storage (a dying disk, a stale NFS handle, fd exhaustion) 500.
#include "files/open_error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

using bws::files::is_storage_fault;
using bws::files::status_for_open_error;

TEST(FilesOpenError, AbsenceIs404) {
    for (int err : {ENOENT, ENOTDIR, EXDEV, ELOOP, ENAMETOOLONG}) {
        EXPECT_EQ(status_for_open_error(err), 404u) << std::strerror(err);
        EXPECT_FALSE(is_storage_fault(err)) << std::strerror(err);
    }
}

TEST(FilesOpenError, RefusalIs403) {
    for (int err : {EACCES, EPERM}) {
        EXPECT_EQ(status_for_open_error(err), 403u) << std::strerror(err);
        EXPECT_FALSE(is_storage_fault(err)) << std::strerror(err);
    }
}

TEST(FilesOpenError, StorageFaultsAre500) {
    for (int err : {EIO, ESTALE, ENODEV, ENXIO, EMFILE, ENFILE, ENOMEM, EOVERFLOW}) {
        EXPECT_EQ(status_for_open_error(err), 500u) << std::strerror(err);
        EXPECT_TRUE(is_storage_fault(err)) << std::strerror(err);
    }
}
