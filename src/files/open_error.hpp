// What an errno from opening a path beneath a site root means for the response: the file is
// absent (404), refused (403), or the server's storage failed (500), which is worth a log line.
#pragma once

namespace bws::files {

// ENOENT, ENOTDIR, EXDEV (a symlink leaving the root), ELOOP, ENAMETOOLONG → 404: all look like
// absence. EACCES, EPERM → 403. Anything else (EIO from a failing disk, ESTALE from an NFS
// export that went away, EMFILE, ENOMEM, ...) → 500.
unsigned status_for_open_error(int err) noexcept;

// True when `err` is the storage's fault rather than the request's (status 500): the handler
// logs those, since no client can cause them and an operator has to act.
inline bool is_storage_fault(int err) noexcept {
    return status_for_open_error(err) == 500;
}

} // namespace bws::files
