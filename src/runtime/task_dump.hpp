// The task dump: a snapshot of every live task of a runtime (worker tasks,
// blocking jobs, local sets' tasks: its kind, id, name, spawn location,
// state, age, polls, and for an idle task what it waits on and its awaiting
// chain), per task through a callback, as text or as JSON.
#pragma once

#include <braid/task_dump.h>

#include <cstddef>
#include <string>

namespace braid::detail {

class Core;

// braid_runtime_task_dump.
int task_dump(Core& core, braid_task_dump_fn fn, void* user_data);
// The whole dump as text (braid_runtime_task_dump_text; the signal's dump).
int task_dump_text(Core& core, std::string& out);
// The whole dump as a JSON array of task objects (the live view's "tasks";
// docs/observability.md, "Live view", lists the keys).
int task_dump_json(Core& core, std::string& out);
// One task's lines (a struct too short to have `kind` shows a worker task).
void format_task(const braid_task_info& t, std::string& out);
// Copies text into buf as the C calls promise (cut, NUL-terminated, the
// size needed reported): BRAID_OK or BRAID_ERANGE.
int copy_text(const std::string& text, char* buf, std::size_t cap, std::size_t* needed);

}  // namespace braid::detail
