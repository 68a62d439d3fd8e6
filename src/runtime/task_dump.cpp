#include "runtime/task_dump.hpp"

#include <braid/error.h>

#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <iterator>
#include <mutex>
#include <vector>

#include "runtime/core.hpp"
#include "task/local_set.hpp"
#include "task/task.hpp"
#include "util/json_string.hpp"

namespace braid::detail {
namespace {

int state_of(uint64_t s) {
    if (s & st::COMPLETE) return BRAID_TASK_COMPLETE;
    if (s & st::RUNNING) return (s & st::NOTIFIED) ? BRAID_TASK_NOTIFIED : BRAID_TASK_RUNNING;
    if (s & st::NOTIFIED) return BRAID_TASK_SCHEDULED;
    return BRAID_TASK_IDLE;
}

const char* state_name(int s) {
    switch (s) {
        case BRAID_TASK_IDLE: return "idle";
        case BRAID_TASK_SCHEDULED: return "scheduled";
        case BRAID_TASK_RUNNING: return "running";
        case BRAID_TASK_NOTIFIED: return "notified";
        case BRAID_TASK_COMPLETE: return "complete";
    }
    return "unknown";
}

int kind_of(TaskKind k) {
    switch (k) {
        case TaskKind::Worker: break;
        case TaskKind::Blocking: return BRAID_TASK_KIND_BLOCKING;
        case TaskKind::Local: return BRAID_TASK_KIND_LOCAL;
    }
    return BRAID_TASK_KIND_WORKER;
}

const char* kind_name(int k) {
    switch (k) {
        case BRAID_TASK_KIND_BLOCKING: return "blocking";
        case BRAID_TASK_KIND_LOCAL: return "local";
    }
    return "worker";
}

// The kind a caller's struct gives (one filled by an older library ends
// before the field: a worker task).
int kind_in(const braid_task_info& t) {
    return t.size >= offsetof(braid_task_info, kind) + sizeof t.kind ? t.kind : BRAID_TASK_KIND_WORKER;
}

// The wait in words.  `now`: the runtime's clock, for a sleep's deadline.
std::string describe_wait(int kind, uint64_t object, int64_t now) {
    const char* what = nullptr;
    const char* on = nullptr;
    switch (kind) {
        case BRAID_WAIT_SLEEP: {
            int64_t due = int64_t(object) - now;
            return fmt::format("sleep until {:+.3f} ms", double(due) / 1e6);
        }
        case BRAID_WAIT_FD_READ: return fmt::format("read on fd {}", object);
        case BRAID_WAIT_FD_WRITE: return fmt::format("write on fd {}", object);
        case BRAID_WAIT_JOIN: return fmt::format("join of task {}", object);
        case BRAID_WAIT_RECV: what = "recv", on = "channel"; break;
        case BRAID_WAIT_SEND: what = "send", on = "channel"; break;
        case BRAID_WAIT_LOCK: what = "lock", on = "mutex"; break;
        case BRAID_WAIT_READ_LOCK: what = "read lock", on = "rwlock"; break;
        case BRAID_WAIT_WRITE_LOCK: what = "write lock", on = "rwlock"; break;
        case BRAID_WAIT_SEMAPHORE: what = "acquire", on = "semaphore"; break;
        case BRAID_WAIT_NOTIFY: what = "notified", on = "notify"; break;
        default: return {};
    }
    return fmt::format("{} on {} {:#x}", what, on, object);
}

// One task, copied out while it is referenced (and, when idle, held).
struct Snapshot {
    braid_task_info info{};
    std::string name;
    std::string wait;
    std::vector<braid_trace_frame> frames;

    void publish() {
        info.name = name.empty() ? nullptr : name.c_str();
        info.wait = wait.c_str();
        info.frame_count = frames.size();
        info.frames = frames.empty() ? nullptr : frames.data();
    }
};

void add_frame(void* ud, const char* file, uint32_t line, const char* function) {
    static_cast<std::vector<braid_trace_frame>*>(ud)->push_back(braid_trace_frame{file, line, function});
}

void snapshot(Task* t, int64_t now, Snapshot& out) {
    braid_task_info& i = out.info;
    i.size = sizeof i;
    i.id = t->id;
    i.kind = kind_of(t->kind);
    if (const char* n = t->name()) out.name = n;
    Task::Site site = t->site();
    i.file = site.file;
    i.line = site.line;
    i.function = site.function;
    i.age_ns = now > t->spawned_at ? now - t->spawned_at : 0;
    if (t->claim()) {
        // Idle and held: no poll runs, so the wait noted by its last poll
        // and its coroutines' frames stay as they are while we read them.
        i.state = BRAID_TASK_IDLE;
        i.wait_kind = t->wait_kind.load(std::memory_order_relaxed);
        i.wait_object = t->wait_arg.load(std::memory_order_relaxed);
        if (braid_task_trace_fn trace = t->trace()) trace(t->state_ptr(), &add_frame, &out.frames);
        t->unclaim();
        out.wait = describe_wait(i.wait_kind, i.wait_object, now);
    } else {
        int s = state_of(t->state.load(std::memory_order_acquire));
        // The dumping task itself, woken by its own poll: the wake is
        // still this thread's flag, not in the state word.
        if (s == BRAID_TASK_RUNNING && t == tl_polled_task && tl_self_woken) s = BRAID_TASK_NOTIFIED;
        // Not held (it ran, was queued or aborted meanwhile): an idle task
        // seen here was just released by a poll; its wait is not read.
        i.state = s;
        i.wait_kind = BRAID_WAIT_UNKNOWN;
    }
    i.polls = t->polls.load(std::memory_order_relaxed);
    TaskExtra* e = t->extra.load(std::memory_order_acquire);
    i.poll_ns = e ? e->poll_ns.load(std::memory_order_relaxed) : 0;
    out.publish();
}

// Takes a snapshot of every task, under the dump lock.
int collect(Core& core, std::vector<Snapshot>& out) {
    std::lock_guard<std::mutex> g(core.dump_mutex());
    if (core.shutting_down()) return BRAID_ESHUTDOWN;
    std::vector<Task*> tasks;
    try {
        tasks.reserve(64);
        // A listed task is alive (it holds a reference until it completes,
        // and leaves the list before): the reference taken here keeps it.
        auto take = [&](Task* t) {
            tasks.push_back(t);  // may throw: before the reference
            t->ref();
        };
        core.owned().for_each(take);
        core.blocking().reference_jobs(tasks);
        LocalSet::reference_tasks(&core, tasks);
    } catch (...) {
        for (Task* t : tasks) t->unref();
        return BRAID_ENOMEM;
    }
    int64_t now = core.clock().now();
    int rc = BRAID_OK;
    try {
        out.resize(tasks.size());
        for (std::size_t k = 0; k < tasks.size(); ++k) snapshot(tasks[k], now, out[k]);
    } catch (...) {
        rc = BRAID_ENOMEM;
    }
    for (Task* t : tasks) t->unref();
    return rc;
}

}  // namespace

int task_dump(Core& core, braid_task_dump_fn fn, void* user_data) {
    std::vector<Snapshot> tasks;
    int rc = collect(core, tasks);
    if (rc != BRAID_OK) return rc;
    for (Snapshot& s : tasks)
        if (fn(user_data, &s.info) != 0) break;
    return BRAID_OK;
}

void format_task(const braid_task_info& t, std::string& out) {
    out += fmt::format("task {}", t.id);
    if (t.name) out += fmt::format(" \"{}\"", t.name);
    if (int k = kind_in(t); k != BRAID_TASK_KIND_WORKER) out += fmt::format(" [{}]", kind_name(k));
    out += fmt::format(" {}, age {:.3f} ms, {} poll{}", state_name(t.state), double(t.age_ns) / 1e6, t.polls,
                       t.polls == 1 ? "" : "s");
    if (t.poll_ns) out += fmt::format(" ({:.3f} ms)", double(t.poll_ns) / 1e6);
    out += '\n';
    if (t.file) {
        out += fmt::format("  spawned at {}:{}", t.file, t.line);
        if (t.function) out += fmt::format(" in {}", t.function);
        out += '\n';
    }
    if (t.state == BRAID_TASK_IDLE)
        out += fmt::format("  awaits {}\n", t.wait && t.wait[0] ? t.wait : "(a waker braid does not know)");
    for (std::size_t k = 0; k < t.frame_count; ++k) {
        const braid_trace_frame& f = t.frames[k];
        out += fmt::format("    {} {}:{}", k == 0 ? "in" : "<-", f.file ? f.file : "?", f.line);
        if (f.function) out += fmt::format(" {}", f.function);
        out += '\n';
    }
}

int task_dump_text(Core& core, std::string& out) {
    std::vector<Snapshot> tasks;
    int rc = collect(core, tasks);
    if (rc != BRAID_OK) return rc;
    try {
        out += fmt::format("braid task dump: {} task{}\n", tasks.size(), tasks.size() == 1 ? "" : "s");
        for (Snapshot& s : tasks) format_task(s.info, out);
    } catch (...) {
        return BRAID_ENOMEM;
    }
    return BRAID_OK;
}

int task_dump_json(Core& core, std::string& out) {
    std::vector<Snapshot> tasks;
    int rc = collect(core, tasks);
    if (rc != BRAID_OK) return rc;
    try {
        auto it = std::back_inserter(out);
        out += '[';
        for (std::size_t k = 0; k < tasks.size(); ++k) {
            const braid_task_info& t = tasks[k].info;
            fmt::format_to(it, "{}{{\"id\":{},\"kind\":\"{}\",\"name\":", k ? "," : "", t.id, kind_name(t.kind));
            append_json_string(out, t.name);
            out += ",\"file\":";
            append_json_string(out, t.file);
            fmt::format_to(it, ",\"line\":{},\"function\":", t.line);
            append_json_string(out, t.function);
            fmt::format_to(it, ",\"state\":\"{}\",\"wait_kind\":{},\"wait_object\":{},\"wait\":", state_name(t.state),
                           t.wait_kind, t.wait_object);
            append_json_string(out, t.wait);
            fmt::format_to(it, ",\"age_ns\":{},\"polls\":{},\"poll_ns\":{},\"frames\":[", t.age_ns, t.polls, t.poll_ns);
            for (std::size_t f = 0; f < t.frame_count; ++f) {
                out += f ? ",{\"file\":" : "{\"file\":";
                append_json_string(out, t.frames[f].file);
                fmt::format_to(it, ",\"line\":{},\"function\":", t.frames[f].line);
                append_json_string(out, t.frames[f].function);
                out += '}';
            }
            out += "]}";
        }
        out += ']';
    } catch (...) {
        return BRAID_ENOMEM;
    }
    return BRAID_OK;
}

int copy_text(const std::string& text, char* buf, std::size_t cap, std::size_t* needed) {
    if (needed) *needed = text.size() + 1;
    if (cap == 0) return BRAID_ERANGE;
    std::size_t n = text.size() < cap ? text.size() : cap - 1;
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
    return n == text.size() ? BRAID_OK : BRAID_ERANGE;
}

}  // namespace braid::detail
