// The real bws binary writing its log files: size rotation under load with several workers
// (exact line counts across rotated and gzipped files), retention, compression, reopen after an
// external rename (SIGUSR1, `bws -s reopen`, the shipped logrotate config), JSON access lines,
// unwritable and full log directories, and the server-log line format. See docs/logging.md.
#include "harness.hpp"
#include "process_harness.hpp"
#include "support/log_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <pwd.h>
#include <sys/mount.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <regex>
#include <set>

namespace {

namespace proc = bws::test::proc;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using bws::test::gunzip;
using bws::test::split_lines;

// Workers started by root: with allow_root_workers they keep the master's uid, as in the
// packaged unit where master and workers both run as User=bws. The log directory then needs
// no special permissions, and files created by the master after a rotation stay writable by
// the workers. The failure tests drop the workers to "nobody" on purpose.
constexpr const char* same_user_workers = "allow_root_workers = true\n";

// A site serving /index.html ("hello\n", 6 bytes) with its logs in <dir>/logs.
struct log_setup {
    proc::temp_dir dir;
    fs::path logs = dir.path() / "logs";
    fs::path access = logs / "access.log";
    fs::path pid_file = dir.path() / "bws.pid";
    fs::path config_path = dir.path() / "config.toml";
    std::uint16_t port = proc::free_port();
    std::string level = "info";

    log_setup() {
        dir.write("www/index.html", "hello\n");
        fs::create_directory(logs);
    }

    // `logging` is appended to the [logging] table, `daemon` to the [daemon] table.
    void configure(unsigned workers, const std::string& logging,
                   const std::string& daemon = same_user_workers) const {
        std::ostringstream c;
        c << "[server]\nworkers = " << workers << "\nshutdown_timeout = \"10s\"\n\n"
          << "[daemon]\npid_file = \"" << pid_file.string() << "\"\n"
          << daemon << "\n"
          << "[logging]\nlevel = \"" << level << "\"\naccess_log = \"" << access.string() << "\"\n"
          << logging << "\n"
          << "[[sites]]\nname = \"main\"\nhostname = \"localhost\"\nport = " << port
          << "\nbind = \"127.0.0.1\"\nstatic_dir = \"" << (dir.path() / "www").string() << "\"\n";
        dir.write("config.toml", c.str());
    }
};

// Rotated siblings of `base` (base.N and base.N.gz): file name -> index.
std::map<std::string, unsigned> rotated_files(const fs::path& base) {
    std::map<std::string, unsigned> result;
    const std::regex re(std::regex_replace(base.filename().string(), std::regex(R"(\.)"), R"(\.)") +
                        R"(\.(\d+)(\.gz)?)");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(base.parent_path(), ec)) {
        std::smatch m;
        const auto name = e.path().filename().string();
        if (std::regex_match(name, m, re))
            result[name] = static_cast<unsigned>(std::stoul(m[1].str()));
    }
    return result;
}

// The content of `base` and its rotated siblings, gunzipped: file name -> text.
std::map<std::string, std::string> log_contents(const fs::path& base) {
    std::map<std::string, std::string> result;
    if (fs::exists(base))
        result[base.filename().string()] = proc::read_file(base);
    for (const auto& [name, index] : rotated_files(base)) {
        const auto path = base.parent_path() / name;
        result[name] = name.ends_with(".gz") ? gunzip(path) : proc::read_file(path);
    }
    return result;
}

// One combined line for GET /index.html?id=ID by the test client (no Referer, no
// User-Agent); captures the id.
const std::regex combined_line(
    R"re(127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET /index\.html\?id=([A-Za-z0-9_-]+) HTTP/1\.1" 200 6 "-" "-")re");

// Checks that every line of every file is a whole, well-formed combined line; returns the ids
// with how often each was seen.
std::map<std::string, unsigned> checked_ids(const std::map<std::string, std::string>& files) {
    std::map<std::string, unsigned> ids;
    for (const auto& [name, text] : files) {
        bool whole = true;
        for (const auto& line : split_lines(text, &whole)) {
            std::smatch m;
            if (std::regex_match(line, m, combined_line))
                ++ids[m[1].str()];
            else
                ADD_FAILURE() << name << ": malformed line: " << line;
        }
        EXPECT_TRUE(whole) << name << " ends in the middle of a line";
    }
    return ids;
}

// Ids found anywhere in `text` (no format check: used while polling).
std::set<std::string> ids_in(const std::string& text) {
    std::set<std::string> ids;
    for (std::size_t pos = text.find("?id="); pos != std::string::npos;
         pos = text.find("?id=", pos + 1)) {
        const auto end = text.find(' ', pos);
        if (end != std::string::npos)
            ids.insert(text.substr(pos + 4, end - pos - 4));
    }
    return ids;
}

struct load_result {
    std::vector<std::string> ids; // every request sent
    std::atomic<unsigned> ok{0};
    std::mutex mutex;
    std::vector<std::string> failures;
};

// `threads` clients send `per_thread` GETs each, spread evenly over `span` (so that the
// master's once-a-second size check sees the files grow several times). Each client keeps its
// connection alive and asks for "Connection: close" on every `close_every`-th request.
void run_load(std::uint16_t port, unsigned threads, unsigned per_thread,
              std::chrono::milliseconds span, const std::string& prefix, load_result& result,
              unsigned close_every = 7) {
    for (unsigned t = 0; t < threads; ++t)
        for (unsigned i = 0; i < per_thread; ++i)
            result.ids.push_back(prefix + std::to_string(t) + "-" + std::to_string(i));
    const auto start = steady::now();
    std::vector<std::thread> clients;
    for (unsigned t = 0; t < threads; ++t) {
        clients.emplace_back([&, t] {
            proc::http_client client(port);
            for (unsigned i = 0; i < per_thread; ++i) {
                std::this_thread::sleep_until(start + span * i / per_thread);
                const auto id = prefix + std::to_string(t) + "-" + std::to_string(i);
                const bool close = i % close_every == close_every - 1;
                const auto r = client.get("/index.html?id=" + id, "localhost", close);
                if (r.status == 200) {
                    ++result.ok;
                } else {
                    std::lock_guard lock(result.mutex);
                    result.failures.push_back(id + ": status " + std::to_string(r.status) + " " +
                                              client.last_error);
                }
            }
        });
    }
    for (auto& c : clients)
        c.join();
}

std::string first_failures(load_result& r) {
    std::lock_guard lock(r.mutex);
    std::string s;
    for (std::size_t i = 0; i < r.failures.size() && i < 5; ++i)
        s += r.failures[i] + "\n";
    return s;
}

// Sends one request with a fresh id on a new connection; returns the id ("" on failure).
std::string probe(std::uint16_t port, const std::string& prefix) {
    static std::atomic<unsigned> counter{0};
    const auto id = prefix + std::to_string(counter++);
    return bws::test::get(port, "/index.html?id=" + id).status == 200 ? id : std::string();
}

// After a reopen request: sends rounds of `batch` probes on new connections (spread over the
// workers by the kernel) until a whole round is logged in `file` — every worker has then
// reopened — or `limit` passes. Every probe id sent is appended to `sent`.
bool wait_all_log_to(std::uint16_t port, const fs::path& file, const std::vector<fs::path>& others,
                     std::vector<std::string>& sent, std::chrono::milliseconds limit) {
    const auto deadline = steady::now() + limit;
    while (steady::now() < deadline) {
        std::vector<std::string> round;
        for (int i = 0; i < 10; ++i) {
            const auto id = probe(port, "probe");
            if (!id.empty())
                round.push_back(id);
        }
        sent.insert(sent.end(), round.begin(), round.end());
        // Wait until the round is flushed (100 ms batches) somewhere, then see where.
        bool in_file = false;
        proc::wait_until(
            [&] {
                auto here = ids_in(proc::read_file(file));
                std::set<std::string> all = here;
                for (const auto& o : others)
                    all.merge(ids_in(proc::read_file(o)));
                in_file = std::all_of(round.begin(), round.end(),
                                      [&](const auto& id) { return here.count(id) > 0; });
                return std::all_of(round.begin(), round.end(),
                                   [&](const auto& id) { return all.count(id) > 0; });
            },
            3s);
        if (in_file)
            return true;
    }
    return false;
}

// N requests through three workers while the master rotates the access log every second
// (16 KiB) and compresses the rotated files: after a SIGTERM stop, every request has exactly
// one well-formed line across access.log, access.log.N and access.log.N.gz.
TEST(LogFiles, SizeRotationUnderLoadKeepsEveryLineExactlyOnce) {
    log_setup s;
    s.configure(3, "max_size = \"16KB\"\nmax_files = 50\ncompress = true\n");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    ASSERT_EQ(bws.workers().size(), 3u);

    load_result load;
    run_load(s.port, 6, 500, 6s, "r", load); // 3000 requests, about 280 KiB of lines
    EXPECT_EQ(load.ok.load(), 3000u) << first_failures(load);
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    const auto files = log_contents(s.access);
    const auto ids = checked_ids(files);
    std::size_t lines = 0;
    for (const auto& [id, count] : ids) {
        lines += count;
        EXPECT_EQ(count, 1u) << "duplicated: " << id;
    }
    EXPECT_EQ(lines, 3000u);
    EXPECT_EQ(ids.size(), 3000u);
    for (const auto& id : load.ids)
        EXPECT_EQ(ids.count(id), 1u) << "missing: " << id;

    // The rotation really happened, several times, and compressed what it rotated.
    const auto rotated = rotated_files(s.access);
    std::size_t compressed = 0;
    for (const auto& [name, index] : rotated)
        compressed += name.ends_with(".gz");
    EXPECT_GE(rotated.size(), 3u);
    EXPECT_GE(compressed, 2u);
    std::cout << "[ figures  ] " << lines << " lines in " << files.size() << " files ("
              << rotated.size() << " rotated, " << compressed << " gzipped)\n";
}

// max_files = 3: while the log rotates every second, no file numbered above 3 ever exists, and
// in the end exactly access.log.1 .. access.log.3 are kept (older lines are gone).
TEST(LogFiles, MaxFilesRetention) {
    log_setup s;
    s.configure(2, "max_size = \"1KB\"\nmax_files = 3\n");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::atomic<bool> done{false};
    unsigned highest = 0;
    std::size_t samples = 0;
    std::thread watcher([&] {
        while (!done) {
            for (const auto& [name, index] : rotated_files(s.access))
                highest = std::max(highest, index);
            ++samples;
            std::this_thread::sleep_for(5ms); // the sampling period of the watcher, not a wait
        }
    });
    load_result load;
    run_load(s.port, 2, 150, 6s, "m", load); // about 5 KiB a second: a rotation every second
    EXPECT_EQ(load.ok.load(), 300u) << first_failures(load);
    ASSERT_EQ(bws.stop(), 0) << bws.log();
    done = true;
    watcher.join();

    EXPECT_LE(highest, 3u) << "a rotated file beyond max_files existed";
    std::set<std::string> names;
    for (const auto& [name, index] : rotated_files(s.access))
        names.insert(name);
    EXPECT_EQ(names, (std::set<std::string>{"access.log.1", "access.log.2", "access.log.3"}));
    // Rotations beyond the third removed lines: fewer than were sent, each still once.
    const auto ids = checked_ids(log_contents(s.access));
    EXPECT_LT(ids.size(), 300u);
    EXPECT_GT(ids.size(), 0u);
    for (const auto& [id, count] : ids)
        EXPECT_EQ(count, 1u) << id;
    std::cout << "[ figures  ] " << samples << " directory samples, highest index " << highest
              << ", " << ids.size() << " of 300 lines kept\n";
}

// compress = true: every rotated file becomes access.log.N.gz (no plain or .tmp file stays
// once the server is idle) and decompresses to whole, well-formed lines.
TEST(LogFiles, RotatedFilesAreCompressedToWholeLines) {
    log_setup s;
    s.configure(2, "max_size = \"2KB\"\nmax_files = 20\ncompress = true\n");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    load_result load;
    run_load(s.port, 3, 150, 4s, "c", load);
    EXPECT_EQ(load.ok.load(), 450u) << first_failures(load);

    // Idle now: the last rotation (if access.log is still over 2 KiB) and its compression
    // finish within a few seconds.
    auto settled = [&] {
        std::error_code ec;
        const auto size = fs::file_size(s.access, ec);
        if (!ec && size >= 2048)
            return false;
        for (const auto& e : fs::directory_iterator(s.logs))
            if (e.path().extension() == ".tmp")
                return false;
        const auto rotated = rotated_files(s.access);
        return !rotated.empty() && std::all_of(rotated.begin(), rotated.end(), [](const auto& r) {
            return r.first.ends_with(".gz");
        });
    };
    ASSERT_TRUE(proc::wait_until(settled, 10s)) << bws.log();

    const auto rotated = rotated_files(s.access);
    EXPECT_GE(rotated.size(), 3u);
    std::size_t lines = 0;
    for (const auto& [name, index] : rotated) {
        const auto text = gunzip(s.logs / name);
        EXPECT_FALSE(text.empty()) << name;
        EXPECT_TRUE(text.ends_with('\n')) << name;
        std::map<std::string, std::string> one{{name, text}};
        for (const auto& [id, count] : checked_ids(one))
            lines += count;
    }
    ASSERT_EQ(bws.stop(), 0) << bws.log();
    const auto ids = checked_ids(log_contents(s.access));
    EXPECT_EQ(ids.size(), 450u);
    std::cout << "[ figures  ] " << rotated.size() << " .gz files holding " << lines << " lines; "
              << ids.size() << " of 450 lines in all files\n";
}

// SIGUSR1 after `mv access.log access.log.old`: the workers reopen by name and new lines go to
// a new access.log; `bws -s reopen --pid-file P` does the same. Nothing is lost on the way.
TEST(LogFiles, ReopenAfterExternalRename) {
    log_setup s;
    s.configure(2, "");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::vector<std::string> sent;
    for (int i = 0; i < 20; ++i)
        sent.push_back(probe(s.port, "before"));
    ASSERT_TRUE(
        proc::wait_until([&] { return ids_in(proc::read_file(s.access)).size() == 20; }, 5s));

    const auto old1 = s.logs / "access.log.old";
    fs::rename(s.access, old1);
    // Until the reopen, lines still go to the renamed file (same descriptor).
    const auto still_old = probe(s.port, "renamed");
    sent.push_back(still_old);
    ASSERT_TRUE(
        proc::wait_until([&] { return ids_in(proc::read_file(old1)).count(still_old) > 0; }, 5s));
    EXPECT_FALSE(fs::exists(s.access));

    ASSERT_EQ(kill(bws.pid(), SIGUSR1), 0);
    ASSERT_TRUE(wait_all_log_to(s.port, s.access, {old1}, sent, 10s)) << bws.log();
    std::vector<std::string> after_signal;
    for (int i = 0; i < 30; ++i)
        after_signal.push_back(probe(s.port, "usr1"));
    sent.insert(sent.end(), after_signal.begin(), after_signal.end());
    ASSERT_TRUE(proc::wait_until(
        [&] {
            const auto ids = ids_in(proc::read_file(s.access));
            return std::all_of(after_signal.begin(), after_signal.end(),
                               [&](const auto& id) { return ids.count(id) > 0; });
        },
        5s));

    // The same through the command line.
    const auto old2 = s.logs / "access.log.old2";
    fs::rename(s.access, old2);
    const auto command = proc::run_bws({"-s", "reopen", "--pid-file", s.pid_file.string()}, 20s);
    EXPECT_EQ(command.exit_code, 0) << command.output;
    ASSERT_TRUE(wait_all_log_to(s.port, s.access, {old1, old2}, sent, 10s)) << bws.log();
    std::vector<std::string> after_command;
    for (int i = 0; i < 30; ++i)
        after_command.push_back(probe(s.port, "cmd"));
    sent.insert(sent.end(), after_command.begin(), after_command.end());
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    const auto now = ids_in(proc::read_file(s.access));
    for (const auto& id : after_command)
        EXPECT_EQ(now.count(id), 1u) << id << " not in the new access.log";
    const auto ids = checked_ids({{"access.log", proc::read_file(s.access)},
                                  {"access.log.old", proc::read_file(old1)},
                                  {"access.log.old2", proc::read_file(old2)}});
    EXPECT_EQ(ids.size(), sent.size());
    for (const auto& id : sent)
        EXPECT_EQ(ids.count(id), 1u) << id;
    std::cout << "[ figures  ] " << sent.size()
              << " requests, lines: " << ids_in(proc::read_file(old1)).size() << " in .old, "
              << ids_in(proc::read_file(old2)).size() << " in .old2, " << now.size()
              << " in access.log\n";
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << "the shipped logrotate/bws no longer contains: " << from;
    if (pos != std::string::npos)
        text.replace(pos, from.size(), to);
    return text;
}

// `logrotate -f` with the shipped logrotate/bws, pointed at the temp log directory: both logs
// rotate (access.log.1 and bws.log.1, uncompressed because of delaycompress), the postrotate
// reopens, and bws goes on writing to the new access.log.
TEST(LogFiles, LogrotateWithTheShippedConfig) {
    if (!fs::exists("/usr/sbin/logrotate"))
        GTEST_SKIP() << "/usr/sbin/logrotate is not installed";
    log_setup s;
    const auto server_log = s.logs / "bws.log";
    s.configure(2, "output = \"file\"\nfile_path = \"" + server_log.string() + "\"\n");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::vector<std::string> sent;
    for (int i = 0; i < 20; ++i)
        sent.push_back(probe(s.port, "pre"));
    ASSERT_TRUE(
        proc::wait_until([&] { return ids_in(proc::read_file(s.access)).size() == 20; }, 5s));

    // The shipped file, changed only where the test machine differs: the log directory, the
    // user that owns it (no "bws" user here; the logs are root's), and the postrotate, which
    // must reach this test's master instead of a system bws.service.
    auto conf = proc::read_file(fs::path(BWS_SOURCE_DIR) / "logrotate" / "bws");
    conf = replace_once(conf, "/var/log/bws/*.log {", s.logs.string() + "/*.log {");
    conf = replace_once(conf, "su bws bws", "su root root");
    conf = replace_once(conf, "create 0640 bws bws", "create 0640 root root");
    conf = replace_once(
        conf,
        "        systemctl kill --kill-whom=main --signal=SIGUSR1 bws.service >/dev/null 2>&1 ||\n"
        "            /usr/bin/bws -s reopen --pid-file /run/bws/bws.pid >/dev/null 2>&1 || true\n",
        std::string("        ") + BWS_BINARY + " -s reopen --pid-file " + s.pid_file.string() +
            " || exit 1\n");
    const auto conf_path = s.dir.write("logrotate.conf", conf);
    const auto state = s.dir.path() / "logrotate.state";
    const auto run = bws::test::run_command(
        {"/usr/sbin/logrotate", "-v", "-s", state.string(), "-f", conf_path.string()}, 20s);
    ASSERT_EQ(run.exit_code, 0) << run.output;

    const auto rotated_access = s.logs / "access.log.1";
    ASSERT_TRUE(fs::exists(rotated_access)) << run.output;
    EXPECT_TRUE(fs::exists(s.logs / "bws.log.1")) << run.output;
    EXPECT_FALSE(fs::exists(s.logs / "access.log.1.gz")) << "delaycompress";
    EXPECT_TRUE(fs::exists(s.access)) << "create";
    EXPECT_EQ(fs::status(s.access).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

    // The postrotate made every process reopen: new lines land in the new file.
    ASSERT_TRUE(wait_all_log_to(s.port, s.access, {rotated_access}, sent, 10s))
        << run.output << bws.log();
    std::vector<std::string> after;
    for (int i = 0; i < 30; ++i)
        after.push_back(probe(s.port, "post"));
    sent.insert(sent.end(), after.begin(), after.end());
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    const auto now = ids_in(proc::read_file(s.access));
    for (const auto& id : after)
        EXPECT_EQ(now.count(id), 1u) << id << " not in the new access.log";
    const auto ids = checked_ids({{"access.log", proc::read_file(s.access)},
                                  {"access.log.1", proc::read_file(rotated_access)}});
    EXPECT_EQ(ids.size(), sent.size());
    EXPECT_NE(proc::read_file(s.logs / "bws.log.1").find("reopening log files"), std::string::npos);
    EXPECT_NE(proc::read_file(server_log).find("master[" + std::to_string(bws.pid()) + "]"),
              std::string::npos)
        << "the master did not reopen bws.log";
    std::cout << "[ figures  ] " << sent.size()
              << " requests: " << ids_in(proc::read_file(rotated_access)).size()
              << " lines in access.log.1, " << now.size() << " in the new access.log\n";
}

// access_log_format = "json": every line parses and has the documented fields, in order.
TEST(LogFiles, JsonAccessLinesParse) {
    log_setup s;
    s.configure(2, "access_log_format = \"json\"\n");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    struct sent_request {
        std::string target, user_agent, referer;
        int status;
    };
    const std::vector<sent_request> requests{
        {"/index.html?id=j1", "curl/8.0", "https://example.com/", 200},
        {"/index.html?id=j2", "Mozilla/5.0 \"quoted\" \\ back", "", 200},
        {"/missing.html?id=j3", "", "https://example.com/a?b=c", 404},
        {"/index.html?id=j4", "caf\xc3\xa9\tx \xff", "", 200},
    };
    for (const auto& r : requests) {
        std::string extra;
        if (!r.user_agent.empty())
            extra += "User-Agent: " + r.user_agent + "\r\n";
        if (!r.referer.empty())
            extra += "Referer: " + r.referer + "\r\n";
        const auto response = bws::test::get(s.port, r.target, "localhost", extra);
        EXPECT_EQ(response.status, r.status) << r.target;
    }
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    bool whole = true;
    const auto lines = split_lines(proc::read_file(s.access), &whole);
    EXPECT_TRUE(whole);
    ASSERT_EQ(lines.size(), requests.size());
    const std::vector<std::string> keys{"time",        "site",       "client",  "method",
                                        "target",      "protocol",   "status",  "bytes",
                                        "duration_ms", "user_agent", "referer", "request_id"};
    const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2})");
    std::set<std::string> request_ids;
    for (const auto& line : lines) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(line, ec);
        ASSERT_FALSE(ec) << ec.message() << ": " << line;
        ASSERT_TRUE(value.is_object()) << line;
        const auto& o = value.as_object();
        std::vector<std::string> present;
        for (const auto& kv : o)
            present.emplace_back(kv.key());
        EXPECT_EQ(present, keys) << line;
        const std::string target(o.at("target").as_string());
        const auto it = std::find_if(requests.begin(), requests.end(),
                                     [&](const auto& r) { return r.target == target; });
        ASSERT_NE(it, requests.end()) << line;
        EXPECT_TRUE(std::regex_match(std::string(o.at("time").as_string()), rfc3339)) << line;
        EXPECT_EQ(o.at("site").as_string(), "main");
        EXPECT_EQ(o.at("client").as_string(), "127.0.0.1");
        EXPECT_EQ(o.at("method").as_string(), "GET");
        EXPECT_EQ(o.at("protocol").as_string(), "HTTP/1.1");
        EXPECT_EQ(o.at("status").as_int64(), it->status) << line;
        if (it->status == 200) {
            EXPECT_EQ(o.at("bytes").as_int64(), 6) << line;
        }
        EXPECT_TRUE(o.at("duration_ms").is_number()) << line;
        EXPECT_GE(o.at("duration_ms").to_number<double>(), 0.0) << line;
        EXPECT_EQ(o.at("referer").as_string(), it->referer) << line;
        if (target.find("j4") == std::string::npos) {
            EXPECT_EQ(o.at("user_agent").as_string(), it->user_agent) << line;
        } else {
            // Valid UTF-8 kept, a tab escaped (and parsed back), an invalid byte replaced by
            // U+FFFD.
            EXPECT_EQ(o.at("user_agent").as_string(), "caf\xc3\xa9\tx \xef\xbf\xbd") << line;
        }
        const std::string id(o.at("request_id").as_string());
        EXPECT_FALSE(id.empty()) << line;
        request_ids.insert(id);
    }
    EXPECT_EQ(request_ids.size(), requests.size()) << "request ids are not unique";
}

// A log directory the workers cannot write (they run as "nobody"; 0555 would not stop root):
// every request is still answered, the failure is reported, and fixing the permissions is
// enough for logging to resume.
// Unmounts (lazily) on scope exit.
struct mount_guard {
    fs::path where;
    bool mounted = false;
    ~mount_guard() {
        if (mounted)
            umount2(where.c_str(), MNT_DETACH);
    }
};

// The log directory turns read-only while bws runs (a read-only tmpfs is mounted over it: even
// the root master cannot create files there) and the logs are reopened: every request is still
// answered, the failure is reported, and logging resumes by itself once the directory is
// writable again.
TEST(LogFiles, UnwritableLogDirectoryKeepsServing) {
    log_setup s;
    s.configure(2, "", ""); // workers drop to nobody
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    for (pid_t w : bws.workers())
        ASSERT_NE(proc::uid_of(w), 0u) << "workers were expected to drop root";

    mount_guard guard{s.logs};
    if (mount("tmpfs", s.logs.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=64k") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    guard.mounted = true;
    ASSERT_EQ(kill(bws.pid(), SIGUSR1), 0); // reopen by name: now impossible

    load_result load;
    run_load(s.port, 4, 50, 1s, "ro", load);
    EXPECT_EQ(load.ok.load(), 200u) << first_failures(load);
    EXPECT_FALSE(fs::exists(s.access));
    EXPECT_TRUE(proc::wait_until(
        [&] {
            const auto out = bws.log();
            return out.find("cannot write " + s.access.string()) != std::string::npos &&
                   out.find("Read-only file system") != std::string::npos;
        },
        5s))
        << bws.log();

    ASSERT_EQ(umount2(s.logs.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    guard.mounted = false;
    std::string logged;
    EXPECT_TRUE(proc::wait_until(
        [&] {
            // A new probe each round; its line is flushed within 100 ms once logging works.
            const auto id = probe(s.port, "fixed");
            return !id.empty() &&
                   proc::wait_until([&] { return ids_in(proc::read_file(s.access)).count(id) > 0; },
                                    500ms);
        },
        10s))
        << bws.log();
    EXPECT_EQ(bws.stop(), 0) << bws.log();
}

// The log directory on a full filesystem (a 64 KiB tmpfs filled up): every request is still
// answered; when space returns, logging resumes by itself and the file holds whole lines only.
TEST(LogFiles, FullFilesystemKeepsServingAndRecovers) {
    log_setup s;
    mount_guard guard{s.logs};
    if (mount("tmpfs", s.logs.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    guard.mounted = true;
    // One worker: with several, a line cut by ENOSPC may be joined by another process's line
    // once space returns (documented); with one writer every line must stay whole.
    s.configure(1, "");
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::vector<std::string> sent;
    for (int i = 0; i < 10; ++i)
        sent.push_back(probe(s.port, "full"));
    ASSERT_TRUE(
        proc::wait_until([&] { return ids_in(proc::read_file(s.access)).size() == 10; }, 5s));

    // Fill the filesystem.
    const auto filler = s.logs / "filler";
    {
        const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_GE(fd, 0);
        const std::string block(4096, 'x');
        while (write(fd, block.data(), block.size()) > 0) {
        }
        EXPECT_EQ(errno, ENOSPC);
        close(fd);
    }
    load_result load;
    run_load(s.port, 4, 100, 2s, "nospace", load);
    EXPECT_EQ(load.ok.load(), 400u) << first_failures(load);
    EXPECT_TRUE(proc::wait_until(
        [&] { return bws.log().find("No space left on device") != std::string::npos; }, 5s))
        << bws.log();

    fs::remove(filler);
    std::vector<std::string> recovered;
    EXPECT_TRUE(proc::wait_until(
        [&] {
            // A new probe each round; its line is flushed within 100 ms once logging works.
            const auto id = probe(s.port, "space");
            return !id.empty() &&
                   proc::wait_until([&] { return ids_in(proc::read_file(s.access)).count(id) > 0; },
                                    500ms);
        },
        10s))
        << bws.log();
    EXPECT_EQ(bws.stop(), 0) << bws.log();

    const auto ids = checked_ids({{"access.log", proc::read_file(s.access)}});
    for (const auto& [id, count] : ids)
        EXPECT_EQ(count, 1u) << id;
    for (const auto& id : sent)
        EXPECT_EQ(ids.count(id), 1u) << id;
    std::size_t kept = 0;
    for (const auto& id : load.ids)
        kept += ids.count(id);
    std::cout << "[ figures  ] " << ids.size() << " lines in access.log; " << kept
              << " of 400 requests made while the disk was full were logged\n";
}

// [logging] output = "file": every server-log line has a timestamp with milliseconds and a
// UTC offset, the level, and the process role with its pid (master[PID], worker[PID]).
TEST(LogFiles, ServerLogLineFormat) {
    log_setup s;
    const auto server_log = s.logs / "bws.log";
    s.level = "debug"; // workers log "draining" at debug level when they stop
    s.configure(2, "output = \"file\"\nfile_path = \"" + server_log.string() + "\"\n");

    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    const auto workers = bws.workers();
    ASSERT_EQ(workers.size(), 2u);
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    bool whole = true;
    const auto lines = split_lines(proc::read_file(server_log), &whole);
    EXPECT_TRUE(whole);
    ASSERT_FALSE(lines.empty());
    const std::regex line_re(
        R"((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}) (TRACE|DEBUG|INFO|WARN|ERROR|CRITICAL) (master|worker)\[(\d+)\] .*)");
    std::map<std::string, std::set<pid_t>> roles;
    for (const auto& line : lines) {
        std::smatch m;
        if (!std::regex_match(line, m, line_re)) {
            ADD_FAILURE() << "malformed server-log line: " << line;
            continue;
        }
        roles[m[3].str()].insert(static_cast<pid_t>(std::stol(m[4].str())));
    }
    EXPECT_EQ(roles["master"], std::set<pid_t>{bws.pid()});
    // Each worker logs "draining" at debug level when it stops.
    EXPECT_EQ(roles["worker"], std::set<pid_t>(workers.begin(), workers.end()))
        << proc::read_file(server_log);
}

} // namespace

// Master as root, workers dropped to "nobody", the log directory owned by the workers' user
// (the layout of /var/log/bws with [daemon] user = "bws"): after a reopen the master creates a
// new bws.log, and the workers must still be able to reopen and write it.
TEST(LogFiles, WorkersKeepWritingTheServerLogAfterReopenWhenDroppedFromRoot) {
    log_setup s;
    const auto server_log = s.logs / "bws.log";
    s.level = "debug"; // workers log "draining" at debug level when they stop
    s.configure(2, "output = \"file\"\nfile_path = \"" + server_log.string() + "\"\n", "");
    const auto nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    ASSERT_EQ(chown(s.logs.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
    proc::bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    const auto workers = bws.workers();
    ASSERT_EQ(workers.size(), 2u);
    for (pid_t w : workers)
        ASSERT_EQ(proc::uid_of(w), nobody->pw_uid);
    EXPECT_EQ(probe(s.port, "u").empty(), false);

    fs::rename(server_log, s.logs / "bws.log.old");
    ASSERT_EQ(kill(bws.pid(), SIGUSR1), 0);
    std::vector<std::string> sent;
    ASSERT_TRUE(wait_all_log_to(s.port, s.access, {}, sent, 10s)) << bws.log();
    ASSERT_EQ(bws.stop(), 0) << bws.log();

    EXPECT_EQ(bws.log().find("cannot write"), std::string::npos) << bws.log();
    const auto text = proc::read_file(server_log);
    for (pid_t w : workers)
        EXPECT_NE(text.find("worker[" + std::to_string(w) + "]"), std::string::npos)
            << "no line from worker " << w << " in the reopened bws.log:\n"
            << text;
}
