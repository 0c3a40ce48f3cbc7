// Error-log and access-log lines of a finished request (see request_log.hpp).
#include "http/request_log.hpp"

#include "http/server.hpp"
#include "log/access_log.hpp"
#include "log/context.hpp"

#include <spdlog/spdlog.h>

namespace bws::http {

void log_finished_request(server& owner, site_runtime& site, const request_head& head,
                          const finished_request& request) {
    if (request.status >= 500) {
        // Server-side failures belong in the error log (and the journal, under BWS_SITE).
        log::site_scope scope(site.config->name);
        spdlog::error("{} {} {} -> {}", request.client_address, head.method_string, head.target,
                      request.status);
    }
    if (!site.access_log)
        return;
    log::access_record record;
    record.time = request.time;
    record.site = site.config->name;
    record.client_address = request.client_address;
    record.remote_user = request.remote_user;
    record.method = head.method_string;
    record.target = head.target;
    record.version_major = static_cast<unsigned>(head.version / 10);
    record.version_minor = static_cast<unsigned>(head.version % 10);
    record.status = request.status;
    record.bytes_sent = request.body_bytes;
    record.duration = request.duration;
    record.user_agent = head.user_agent;
    record.referer = head.referer;
    const auto id = owner.next_request_id(); // the record holds a view of it
    record.request_id = id;
    record.tls_version = request.tls_version;
    record.tls_cipher = request.tls_cipher;
    record.client_subject = request.client_subject;
    record.upstream_address = request.upstream_address;
    record.upstream_status = request.upstream_status;
    record.upstream_time = request.upstream_time;
    site.access_log->write(record);
}

} // namespace bws::http
