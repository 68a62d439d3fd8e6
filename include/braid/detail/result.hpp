// Storage for what a coroutine produced: nothing yet, a value, or an
// exception.  Result<void> stores only the outcome.  The outcome is given
// once: take() again throws braid::Error(BRAID_EINVAL), as Tokio panics on a
// JoinHandle polled after completion.
#pragma once

#include <braid/error.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace braid::detail {

template <class T>
class Result {
public:
    template <class U>
    void set_value(U&& v) { value_.emplace(std::forward<U>(v)); }
    void set_exception(std::exception_ptr e) { exc_ = std::move(e); }
    bool has_exception() const { return exc_ != nullptr; }
    bool has_value() const { return value_.has_value(); }
    // Rethrows a stored exception; otherwise moves the value out.  Nothing
    // left (taken already: a JoinHandle awaited again) is BRAID_EINVAL, not
    // a read of the empty optional.
    T take() {
        if (exc_) std::rethrow_exception(std::exchange(exc_, nullptr));
        if (!value_) throw Error(BRAID_EINVAL, "the task's outcome was taken already");
        T v = std::move(*value_);
        value_.reset();
        return v;
    }

private:
    std::optional<T> value_;
    std::exception_ptr exc_;
};

template <>
class Result<void> {
public:
    void set_value() { done_ = true; }
    void set_exception(std::exception_ptr e) { exc_ = std::move(e); }
    bool has_exception() const { return exc_ != nullptr; }
    bool has_value() const { return done_; }
    // As Result<T>::take: a second take throws BRAID_EINVAL (it used to
    // succeed quietly, hiding the exception the first one had rethrown).
    void take() {
        if (exc_) std::rethrow_exception(std::exchange(exc_, nullptr));
        if (!done_) throw Error(BRAID_EINVAL, "the task's outcome was taken already");
        done_ = false;
    }

private:
    bool done_ = false;
    std::exception_ptr exc_;
};

}  // namespace braid::detail
