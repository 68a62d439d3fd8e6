// braid::TaskDump: every live task of a runtime, what it does and what it
// waits on (braid/task_dump.h; docs/observability.md, "Task dump").
//
//   braid::TaskDump d = braid::TaskDump::capture(rt);
//   for (const auto& t : d.entries) if (t.wait_kind == BRAID_WAIT_RECV) ...
//   std::fputs(d.to_string().c_str(), stderr);
#pragma once

#include <braid/error.hpp>
#include <braid/runtime.hpp>
#include <braid/task_dump.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace braid {

struct TaskDumpFrame {
    std::string file;
    uint32_t line = 0;
    std::string function;
};

struct TaskDumpEntry {
    uint64_t id = 0;
    int kind = BRAID_TASK_KIND_WORKER;  // BRAID_TASK_KIND_*
    std::string name;           // empty: unnamed
    std::string file;           // spawn location; empty: unknown
    uint32_t line = 0;
    std::string function;
    int state = BRAID_TASK_IDLE;        // BRAID_TASK_*
    int wait_kind = BRAID_WAIT_UNKNOWN;  // BRAID_WAIT_*
    uint64_t wait_object = 0;
    std::string wait;           // the wait in words
    std::chrono::nanoseconds age{0};
    uint64_t polls = 0;
    std::chrono::nanoseconds poll_time{0};
    std::vector<TaskDumpFrame> frames;  // the awaiting chain, innermost first
    std::string text;           // this task's lines of the text dump
};

class TaskDump {
public:
    std::vector<TaskDumpEntry> entries;

    // The tasks of `rt` now.  Throws braid::Error (BRAID_ESHUTDOWN, ...).
    static TaskDump capture(braid_runtime* rt) {
        TaskDump d;
        detail::check(braid_runtime_task_dump(rt, &add, &d), "TaskDump::capture");
        return d;
    }
    static TaskDump capture(const Runtime& rt) { return capture(rt.native_handle()); }

    // The entry of task `id`, or null.
    const TaskDumpEntry* find(uint64_t id) const {
        for (const auto& e : entries)
            if (e.id == id) return &e;
        return nullptr;
    }

    // As braid_runtime_task_dump_text writes it.
    std::string to_string() const {
        std::string s = "braid task dump: " + std::to_string(entries.size()) + (entries.size() == 1 ? " task\n" : " tasks\n");
        for (const auto& e : entries) s += e.text;
        return s;
    }

private:
    static std::string str(const char* s) { return s ? s : ""; }
    static int add(void* ud, const braid_task_info* t) {
        auto* d = static_cast<TaskDump*>(ud);
        try {
            TaskDumpEntry e;
            e.id = t->id;
            e.kind = t->kind;
            e.name = str(t->name);
            e.file = str(t->file);
            e.line = t->line;
            e.function = str(t->function);
            e.state = t->state;
            e.wait_kind = t->wait_kind;
            e.wait_object = t->wait_object;
            e.wait = str(t->wait);
            e.age = std::chrono::nanoseconds(t->age_ns);
            e.polls = t->polls;
            e.poll_time = std::chrono::nanoseconds(int64_t(t->poll_ns));
            for (std::size_t k = 0; k < t->frame_count; ++k)
                e.frames.push_back({str(t->frames[k].file), t->frames[k].line, str(t->frames[k].function)});
            std::size_t need = 0;
            braid_task_info_format(t, nullptr, 0, &need);
            e.text.resize(need);
            braid_task_info_format(t, e.text.data(), need, &need);
            e.text.resize(need ? need - 1 : 0);
            d->entries.push_back(std::move(e));
            return 0;
        } catch (...) {
            return 1;  // out of memory: the dump stops (the entries so far stay)
        }
    }
};

}  // namespace braid
