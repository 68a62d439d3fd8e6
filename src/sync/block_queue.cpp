#include "sync/block_queue.hpp"

#include <algorithm>

namespace braid::detail {

namespace {
constexpr std::size_t kMaxPerBlock = 32;
constexpr std::size_t kBlockBytes = 16384;  // elements per block shrink for big elements
}  // namespace

std::size_t BlockQueue::per_block(const ElemOps& ops) {
    return std::clamp<std::size_t>(kBlockBytes / ops.stride(), 1, kMaxPerBlock);
}

BlockQueue::BlockQueue(const ElemOps& ops, std::size_t max_spare)
    : ops_(ops),
      per_block_(per_block(ops)),
      offset_(elem_offset(sizeof(Block), ops.align)),
      block_bytes_(offset_ + per_block_ * ops.stride()),
      max_spare_(max_spare) {}

BlockQueue::BlockQueue(BlockQueue&& o) noexcept
    : ops_(o.ops_),
      per_block_(o.per_block_),
      offset_(o.offset_),
      block_bytes_(o.block_bytes_),
      head_(std::exchange(o.head_, nullptr)),
      tail_(std::exchange(o.tail_, nullptr)),
      head_i_(std::exchange(o.head_i_, 0)),
      tail_i_(std::exchange(o.tail_i_, 0)),
      len_(std::exchange(o.len_, 0)),
      spare_(std::exchange(o.spare_, nullptr)),
      spare_count_(std::exchange(o.spare_count_, 0)),
      max_spare_(o.max_spare_) {}

BlockQueue::~BlockQueue() {
    clear();
    free_all();
}

BlockQueue::Block* BlockQueue::new_block() {
    if (Block* b = spare_) {
        spare_ = b->next;
        --spare_count_;
        b->next = nullptr;
        return b;
    }
    void* m = alloc_aligned(block_bytes_, ops_.align);
    if (!m) return nullptr;
    Block* b = static_cast<Block*>(m);
    b->next = nullptr;
    return b;
}

void BlockQueue::retire(Block* b) {
    if (spare_count_ < max_spare_) {
        b->next = spare_;
        spare_ = b;
        ++spare_count_;
    } else {
        free_aligned(b, block_bytes_, ops_.align);
    }
}

void BlockQueue::free_all() {
    for (Block* lists[2] = {head_, spare_}; Block* b : lists) {
        while (b) {
            Block* n = b->next;
            free_aligned(b, block_bytes_, ops_.align);
            b = n;
        }
    }
    head_ = tail_ = spare_ = nullptr;
    spare_count_ = 0;
}

bool BlockQueue::push(void* v) {
    if (!tail_ || tail_i_ == per_block_) {
        Block* b = new_block();
        if (!b) return false;
        if (tail_) tail_->next = b;
        else head_ = b;
        tail_ = b;
        tail_i_ = 0;
    }
    ops_.move(at(tail_, tail_i_++), v);
    ++len_;
    return true;
}

void BlockQueue::pop(void* out) {
    ops_.move(out, at(head_, head_i_++));
    if (--len_ == 0) {
        // Empty: keep one block and start over at its beginning (stays hot).
        Block* rest = head_->next;
        head_->next = nullptr;
        tail_ = head_;
        head_i_ = tail_i_ = 0;
        while (rest) {
            Block* n = rest->next;
            retire(rest);
            rest = n;
        }
    } else if (head_i_ == per_block_) {
        Block* old = head_;
        head_ = old->next;
        head_i_ = 0;
        retire(old);
    }
}

void BlockQueue::clear() {
    if (ops_.drop) {
        Block* b = head_;
        std::size_t i = head_i_;
        for (std::size_t n = 0; n < len_; ++n) {
            if (i == per_block_) {
                b = b->next;
                i = 0;
            }
            ops_.destroy(at(b, i++));
        }
    }
    len_ = 0;
    if (head_) {
        Block* rest = head_->next;
        head_->next = nullptr;
        tail_ = head_;
        head_i_ = tail_i_ = 0;
        while (rest) {
            Block* n = rest->next;
            retire(rest);
            rest = n;
        }
    }
}

BlockQueue BlockQueue::take() { return BlockQueue(std::move(*this)); }

}  // namespace braid::detail
