// The block a braid::Task coroutine lives in: its frame with room for a
// task in front, so that spawning it allocates nothing more.
//
//   [ task header (BRAID_TASK_HEADER_SIZE, the runtime's) | TaskFrame | frame ]
//
// Every Task<T> frame is allocated this way (braid_alloc, one block): one
// that is only awaited never uses the room in front; one that is spawned
// becomes a task in it (braid_task_new_in), and the block goes once the task
// and its handles are gone.  When the spawned coroutine finishes, its frame
// is destroyed and its result is moved to where the frame was (the frame
// always has room for it: its promise holds one).
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/unstable.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <source_location>

namespace braid::detail {

struct TaskFrame {
    Context ctx;                  // what the spawned coroutine waits through
    uint32_t frame_size = 0;      // as the frame's operator new was asked
    bool adopted = false;         // a task owns the block: the frame's delete leaves it
    bool frame_alive = false;     // (adopted) the frame is not destroyed yet
    bool has_result = false;      // (adopted) the result lives where the frame was
    std::source_location spawned_from{};  // (adopted) the spawn's caller, for the task dump

    // The bytes in front of a frame (a multiple of 16: frames are aligned as
    // braid_alloc's blocks are).
    static constexpr std::size_t kSize = (sizeof(Context) + 8 + sizeof(std::source_location) + 15) / 16 * 16;
    static constexpr std::size_t kPrefix = BRAID_TASK_HEADER_SIZE + kSize;

    // Frames above this cannot become tasks (braid_task_new_in's limit).
    static constexpr std::size_t kMaxFrame = (std::size_t(1) << 30) - kPrefix;

    // The promise's operator new and delete.
    static void* allocate(std::size_t n) {
        if (n > kMaxFrame) throw std::bad_alloc();
        auto* block = static_cast<char*>(braid_alloc(n + kPrefix));
        if (!block) throw std::bad_alloc();
        auto* f = new (block + BRAID_TASK_HEADER_SIZE) TaskFrame;
        f->frame_size = uint32_t(n);
        return f->frame();
    }
    static void deallocate(void* frame, std::size_t n) noexcept {
        TaskFrame* f = of(frame);
        if (f->adopted) return;  // the task frees the block
        f->~TaskFrame();
        braid_free(static_cast<char*>(frame) - kPrefix, n + kPrefix);
    }

    // The TaskFrame in front of a frame (a coroutine handle's address: the
    // pointer its operator new returned, in GCC's and Clang's coroutines).
    static TaskFrame* of(void* frame) {
        return std::launder(reinterpret_cast<TaskFrame*>(static_cast<char*>(frame) - kSize));
    }
    void* frame() { return reinterpret_cast<char*>(this) + kSize; }

    // braid_task_trace_fn of a spawned coroutine (`state` is its TaskFrame):
    // the suspended chain, from the coroutine waiting on the leaf up to the
    // root, each where it awaits.  Called while the task is suspended.
    static void trace(void* state, braid_trace_frame_fn emit, void* ud) {
        for (const TraceLink* l = static_cast<TaskFrame*>(state)->ctx.waiting; l; l = l->parent)
            emit(ud, l->where.file_name(), uint32_t(l->where.line()), l->where.function_name());
    }
    // braid_task_location_fn of a spawned coroutine: spawned_from.  Reads
    // only (a stall report calls it from a signal handler).
    static void location(void* state, const char** file, uint32_t* line, const char** function) {
        const std::source_location& l = static_cast<TaskFrame*>(state)->spawned_from;
        *file = l.file_name();
        *line = uint32_t(l.line());
        *function = l.function_name();
    }
    void* block() { return reinterpret_cast<char*>(this) - BRAID_TASK_HEADER_SIZE; }
    std::size_t block_size() const { return frame_size + kPrefix; }
};

static_assert(sizeof(TaskFrame) <= TaskFrame::kSize, "TaskFrame outgrew its room");

}  // namespace braid::detail
