// The reload state machine against a fake worker table: commit drains the old generation,
// early exits and timeouts abort, requests during a reload queue, failed loads change nothing.
#include "app/reload_machine.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <utility>
#include <vector>

namespace {

using namespace bws::app;
namespace config = bws::config;
using namespace std::chrono_literals;

class fake_master : public worker_control, public reload_events {
public:
    // worker_control
    bool spawn_worker(unsigned generation, unsigned index, const generation_setup& setup,
                      std::string& error) override {
        if (fail_spawn) {
            error = "fork: out of memory";
            return false;
        }
        worker_record w;
        w.pid = next_pid++;
        w.generation = generation;
        w.index = index;
        w.spawned = clock::now();
        w.last_heartbeat = w.spawned;
        workers_.push_back(std::move(w));
        spawned_configs.push_back(setup.config);
        return true;
    }
    std::list<worker_record>& workers() override { return workers_; }
    void send(worker_record& worker, control::kind message) override {
        sent.emplace_back(worker.pid, message);
    }
    void signal(worker_record& worker, int signal_number) override {
        signals.emplace_back(worker.pid, signal_number);
    }

    // reload_events
    std::optional<generation_setup> prepare_generation(std::string& error) override {
        ++prepared;
        if (!next_config) {
            error = "invalid configuration: config.toml:1:1: boom";
            return std::nullopt;
        }
        return generation_setup{next_config, {}, {}, next_workers, next_restart_keys};
    }
    void reload_started() override { ++started; }
    void reload_queued() override { ++queued; }
    void generation_committed(const generation_setup& next) override {
        committed.push_back(next.config);
    }
    void generation_aborted() override { ++aborted; }
    void reload_finished(bool ok) override { finished.push_back(ok); }

    // Test helpers.
    worker_record* find(pid_t pid) {
        for (auto& w : workers_) {
            if (w.pid == pid) {
                return &w;
            }
        }
        return nullptr;
    }
    std::vector<pid_t> pids_of(unsigned generation) const {
        std::vector<pid_t> out;
        for (const auto& w : workers_) {
            if (w.generation == generation) {
                out.push_back(w.pid);
            }
        }
        return out;
    }
    bool got_signal(pid_t pid, int sig) const {
        return std::find(signals.begin(), signals.end(), std::make_pair(pid, sig)) != signals.end();
    }
    bool got_message(pid_t pid, control::kind k) const {
        return std::find(sent.begin(), sent.end(), std::make_pair(pid, k)) != sent.end();
    }
    // Removes the worker from the table, as the supervisor does before on_exit.
    worker_record take(pid_t pid) {
        for (auto it = workers_.begin(); it != workers_.end(); ++it) {
            if (it->pid == pid) {
                worker_record w = std::move(*it);
                workers_.erase(it);
                return w;
            }
        }
        ADD_FAILURE() << "no worker " << pid;
        return {};
    }

    bool fail_spawn = false;
    config::snapshot_ptr next_config;
    unsigned next_workers = 2;
    std::vector<std::string> next_restart_keys;
    pid_t next_pid = 1000;
    int prepared = 0, started = 0, queued = 0, aborted = 0;
    std::vector<config::snapshot_ptr> spawned_configs, committed;
    std::vector<bool> finished;
    std::vector<std::pair<pid_t, control::kind>> sent;
    std::vector<std::pair<pid_t, int>> signals;

private:
    std::list<worker_record> workers_;
};

config::snapshot_ptr make_config(std::chrono::milliseconds shutdown_timeout = 10s) {
    auto c = std::make_shared<config::snapshot>();
    c->server.shutdown_timeout = shutdown_timeout;
    return c;
}

struct fixture : ::testing::Test {
    boost::asio::io_context ioc;
    fake_master fake;
    reload_machine machine{ioc, fake, fake, reload_machine::timing{200ms}};
    config::snapshot_ptr first = make_config(100ms);

    // Generation 1 with two ready workers, serving.
    void SetUp() override {
        machine.start(generation_setup{first, {}, {}, 2, {}});
        std::string error;
        for (unsigned i = 0; i < 2; ++i) {
            ASSERT_TRUE(fake.spawn_worker(1, i, machine.current(), error));
        }
        for (auto& w : fake.workers()) {
            w.state = worker_state::ready;
        }
        machine.open();
    }

    // Marks every worker of `generation` ready and tells the machine.
    void all_ready(unsigned generation) {
        for (pid_t pid : fake.pids_of(generation)) {
            auto* w = fake.find(pid);
            w->state = worker_state::ready;
            machine.on_worker_ready(*w);
        }
    }

    void run_for(std::chrono::milliseconds d) {
        ioc.restart();
        ioc.run_for(d);
    }
};

using ReloadMachine = fixture;

TEST_F(ReloadMachine, AllReadyCommitsAndDrainsTheOldGeneration) {
    auto old = fake.pids_of(1);
    fake.next_config = make_config();
    machine.request();
    EXPECT_EQ(fake.started, 1);
    ASSERT_EQ(machine.pending_generation(), 2u);
    auto fresh = fake.pids_of(2);
    ASSERT_EQ(fresh.size(), 2u);
    // One ready is not enough.
    auto* w = fake.find(fresh[0]);
    w->state = worker_state::ready;
    EXPECT_FALSE(machine.on_worker_ready(*w));
    EXPECT_TRUE(fake.committed.empty());
    all_ready(2);
    ASSERT_EQ(fake.committed.size(), 1u);
    EXPECT_EQ(fake.committed[0], fake.next_config);
    EXPECT_EQ(machine.generation(), 2u);
    EXPECT_EQ(machine.current().config, fake.next_config);
    EXPECT_FALSE(machine.pending_generation());
    EXPECT_EQ(fake.finished, std::vector<bool>{true});
    EXPECT_TRUE(machine.last_reload().ok);
    EXPECT_EQ(machine.last_reload().message, "generation 2 serving");
    EXPECT_EQ(machine.reload_count(), 1u);
    for (pid_t pid : old) {
        EXPECT_TRUE(fake.got_message(pid, control::kind::drain));
        EXPECT_EQ(fake.find(pid)->state, worker_state::draining);
        EXPECT_TRUE(fake.find(pid)->exit_expected);
    }
    for (pid_t pid : fresh) {
        EXPECT_FALSE(fake.got_message(pid, control::kind::drain));
    }
    // One old worker leaves in time; the other is killed at the OLD shutdown_timeout (100 ms).
    fake.take(old[0]);
    run_for(50ms);
    EXPECT_TRUE(fake.signals.empty());
    run_for(150ms);
    EXPECT_TRUE(fake.got_signal(old[1], SIGKILL));
    EXPECT_FALSE(fake.got_signal(old[0], SIGKILL));
    for (pid_t pid : fresh) {
        EXPECT_FALSE(fake.got_signal(pid, SIGKILL));
    }
}

TEST_F(ReloadMachine, NewWorkerExitingBeforeReadyAbortsAndKillsTheNewGeneration) {
    fake.next_config = make_config();
    machine.request();
    auto fresh = fake.pids_of(2);
    ASSERT_EQ(fresh.size(), 2u);
    auto dead = fake.take(fresh[0]);
    EXPECT_TRUE(machine.on_worker_exit(dead, "exited with status 1"));
    EXPECT_TRUE(fake.got_signal(fresh[1], SIGKILL));
    EXPECT_TRUE(fake.find(fresh[1])->exit_expected);
    EXPECT_EQ(fake.aborted, 1);
    EXPECT_EQ(fake.finished, std::vector<bool>{false});
    EXPECT_EQ(machine.last_reload().message, "a new worker exited with status 1");
    EXPECT_EQ(machine.generation(), 1u);
    EXPECT_EQ(machine.current().config, first);
    for (pid_t pid : fake.pids_of(1)) {
        EXPECT_FALSE(fake.got_message(pid, control::kind::drain));
        EXPECT_FALSE(fake.got_signal(pid, SIGKILL));
    }
    // The killed one's exit is expected: no second abort.
    auto killed = fake.take(fresh[1]);
    EXPECT_FALSE(machine.on_worker_exit(killed, "was killed by signal 9 (SIGKILL)"));
    EXPECT_EQ(fake.aborted, 1);
}

TEST_F(ReloadMachine, OldWorkerExitIsNotTheMachinesBusiness) {
    fake.next_config = make_config();
    machine.request();
    auto old = fake.take(fake.pids_of(1)[0]);
    EXPECT_FALSE(machine.on_worker_exit(old, "exited with status 1"));
    EXPECT_TRUE(machine.pending_generation());
}

TEST_F(ReloadMachine, TimeoutAborts) {
    fake.next_config = make_config();
    machine.request();
    auto fresh = fake.pids_of(2);
    run_for(100ms);
    EXPECT_TRUE(machine.pending_generation()); // not yet
    run_for(200ms);
    EXPECT_FALSE(machine.pending_generation());
    EXPECT_EQ(fake.finished, std::vector<bool>{false});
    EXPECT_EQ(machine.last_reload().message, "the new workers did not report ready within 200 ms");
    for (pid_t pid : fresh) {
        EXPECT_TRUE(fake.got_signal(pid, SIGKILL));
    }
    EXPECT_EQ(machine.generation(), 1u);
}

TEST_F(ReloadMachine, RequestDuringReloadIsQueuedAndRunsAfter) {
    fake.next_config = make_config();
    machine.request();
    machine.request();
    EXPECT_EQ(fake.queued, 1);
    EXPECT_TRUE(machine.queued());
    EXPECT_EQ(fake.prepared, 1);
    all_ready(2);
    EXPECT_EQ(machine.generation(), 2u);
    EXPECT_EQ(fake.prepared, 1); // not inside the commit: posted
    run_for(10ms);
    EXPECT_EQ(fake.prepared, 2);
    EXPECT_FALSE(machine.queued());
    EXPECT_EQ(machine.pending_generation(), 3u);
    all_ready(3);
    EXPECT_EQ(machine.generation(), 3u);
    EXPECT_EQ(machine.reload_count(), 2u);
}

TEST_F(ReloadMachine, FailedLoadKeepsTheOldGeneration) {
    auto before = fake.workers().size();
    machine.request(); // next_config is null: prepare fails
    EXPECT_EQ(fake.started, 1);
    EXPECT_EQ(fake.finished, std::vector<bool>{false});
    EXPECT_EQ(machine.last_reload().message, "invalid configuration: config.toml:1:1: boom");
    EXPECT_EQ(fake.workers().size(), before);
    EXPECT_TRUE(fake.sent.empty());
    EXPECT_TRUE(fake.signals.empty());
    EXPECT_EQ(fake.aborted, 0); // nothing was prepared, nothing to undo
    EXPECT_EQ(machine.generation(), 1u);
    EXPECT_EQ(machine.current().config, first);
}

TEST_F(ReloadMachine, SpawnFailureAborts) {
    fake.next_config = make_config();
    fake.fail_spawn = true;
    machine.request();
    EXPECT_EQ(fake.aborted, 1);
    EXPECT_EQ(machine.last_reload().message, "cannot start a worker: fork: out of memory");
    EXPECT_EQ(machine.generation(), 1u);
}

TEST_F(ReloadMachine, RestartKeysAreNamedInTheResult) {
    fake.next_config = make_config();
    fake.next_restart_keys = {"[daemon] pid_file", "[daemon] daemonize"};
    machine.request();
    all_ready(2);
    EXPECT_TRUE(machine.last_reload().ok);
    EXPECT_EQ(machine.last_reload().message, "generation 2 serving; restart needed to apply "
                                             "[daemon] pid_file, [daemon] daemonize");
    EXPECT_EQ(machine.last_reload().restart_needed, fake.next_restart_keys);
}

TEST(ReloadMachineStates, RequestDuringStartupWaitsForOpenAndNoneAfterClose) {
    boost::asio::io_context ioc;
    fake_master fake;
    fake.next_config = make_config();
    reload_machine machine{ioc, fake, fake, reload_machine::timing{200ms}};
    machine.start(generation_setup{make_config(), {}, {}, 1, {}});
    machine.request();
    EXPECT_EQ(fake.started, 0);
    EXPECT_TRUE(machine.queued());
    machine.open();
    ioc.run_for(10ms);
    EXPECT_EQ(fake.started, 1);
    EXPECT_EQ(machine.pending_generation(), 2u);
    machine.close();
    EXPECT_FALSE(machine.pending_generation());
    machine.request();
    EXPECT_EQ(fake.started, 1);
    ioc.restart();
    ioc.run_for(300ms); // the cancelled reload timer does not abort anything
    EXPECT_EQ(fake.aborted, 0);
}

} // namespace
