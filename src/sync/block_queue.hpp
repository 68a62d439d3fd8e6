// A FIFO of elements in blocks (a segmented list): push at the tail, pop at
// the head, no allocation per element.  A few emptied blocks are kept for
// reuse, so a channel in its steady state allocates nothing.  Not
// synchronised: the owner's lock guards it.
#pragma once

#include <cstddef>
#include <utility>

#include "sync/elem_ops.hpp"

namespace braid::detail {

class BlockQueue {
public:
    // max_spare: emptied blocks kept for reuse.
    BlockQueue(const ElemOps& ops, std::size_t max_spare);
    BlockQueue(BlockQueue&& o) noexcept;
    BlockQueue(const BlockQueue&) = delete;
    BlockQueue& operator=(const BlockQueue&) = delete;
    ~BlockQueue();  // destroys the elements still queued, frees the blocks

    // Elements per block for an element type.
    static std::size_t per_block(const ElemOps& ops);

    std::size_t size() const { return len_; }
    bool empty() const { return len_ == 0; }
    // Moves *v in.  false: out of memory (v untouched).
    bool push(void* v);
    // Moves the head element to out (not empty).
    void pop(void* out);
    // Destroys every element (keeps the blocks).
    void clear();
    // Takes every element and block out into a new queue (this one is left
    // empty), so the caller can destroy them outside its lock.
    BlockQueue take();

private:
    struct Block {
        Block* next;
    };
    char* at(Block* b, std::size_t i) const { return reinterpret_cast<char*>(b) + offset_ + i * ops_.stride(); }
    Block* new_block();
    void retire(Block* b);
    void free_all();

    ElemOps ops_;
    std::size_t per_block_;
    std::size_t offset_;
    std::size_t block_bytes_;
    Block* head_ = nullptr;
    Block* tail_ = nullptr;
    std::size_t head_i_ = 0;
    std::size_t tail_i_ = 0;
    std::size_t len_ = 0;
    Block* spare_ = nullptr;
    std::size_t spare_count_ = 0;
    std::size_t max_spare_;
};

}  // namespace braid::detail
