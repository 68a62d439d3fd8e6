// Several streams as one: merge (interleaving items as they arrive),
// merge_all (a vector of streams) and StreamMap (a keyed merge that says
// which stream each item came from).
//
//   auto all = std::move(a) | braid::stream::merge(std::move(b), std::move(c));
//
//   braid::stream::StreamMap<std::string, braid::Stream<Msg>> map;
//   map.insert("alice", alice_msgs());
//   while (auto kv = co_await map.next()) handle(kv->first, std::move(kv->second));
//
// Fairness: after a stream gave an item, the next poll starts with the
// stream after it, so a stream that always has an item ready cannot starve
// the others.  After a poll that gave nothing, the next one starts with the
// first stream that this one polled with the task's budget already used up:
// a stream that uses the budget up without giving an item (an always-ready
// source behind a filter that drops everything) cannot starve the streams
// after it, which need a unit of that budget to give theirs (Tokio's merge
// flips its order, and its StreamMap draws a random start, on every poll).
// A stream that ends is dropped from the rotation; the merge ends when all
// have ended (a StreamMap: when it is empty).
#pragma once

#include <braid/stream/core.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid::stream {

using braid::detail::Context;

template <AsyncStream... Ss>
class Merge : public StreamBase<Merge<Ss...>> {
    static constexpr std::size_t N = sizeof...(Ss);
    using First = std::tuple_element_t<0, std::tuple<Ss...>>;

public:
    using item_type = item_t<First>;
    static_assert((std::is_same_v<item_type, item_t<Ss>> && ...), "merge: every stream must have the same item type");

    explicit Merge(Ss... ss) : ss_(std::move(ss)...) {}

    Poll<item_type> poll_next(Context& cx) {
        bool live = false;
        std::size_t starved = N;  // the first stream polled with the budget used up
        for (std::size_t k = 0; k < N; ++k) {
            std::size_t i = (start_ + k) % N;
            if (done_[i]) continue;
            if (starved == N && budget_used_up(cx)) starved = i;
            Poll<item_type> p = poll_at(i, cx, std::index_sequence_for<Ss...>{});
            if (!p.ready) {
                live = true;
                continue;
            }
            if (!p.item) {
                done_[i] = true;
                continue;
            }
            start_ = (i + 1) % N;
            detach_except(i, std::index_sequence_for<Ss...>{});
            return p;
        }
        if (!live) return Poll<item_type>::end();
        if (starved != N) start_ = starved;
        return Poll<item_type>::pending();
    }
    void detach() noexcept {
        std::apply([](auto&... s) { (s.detach(), ...); }, ss_);
    }
    // The sum of the streams that have not ended.
    SizeHint size_hint() const {
        SizeHint h = SizeHint::exactly(0);
        std::size_t i = 0;
        std::apply([&](const auto&... s) { ((h = done_[i++] ? h : detail::add_hints(h, stream::size_hint(s))), ...); }, ss_);
        return h;
    }

private:
    template <std::size_t... I>
    Poll<item_type> poll_at(std::size_t i, Context& cx, std::index_sequence<I...>) {
        Poll<item_type> out;
        ((i == I ? (void)(out = std::get<I>(ss_).poll_next(cx)) : void()), ...);
        return out;
    }
    template <std::size_t... I>
    void detach_except(std::size_t i, std::index_sequence<I...>) noexcept {
        ((i != I ? std::get<I>(ss_).detach() : void()), ...);
    }

    std::tuple<Ss...> ss_;
    std::array<bool, N> done_{};
    std::size_t start_ = 0;
};

// `a | merge(b, c...)`: the items of all of them, as they come.
template <AsyncStream... Bs>
auto merge(Bs... bs) {
    return detail::adaptor([... bs = std::move(bs)]<AsyncStream A>(A a) mutable {
        return Merge<A, Bs...>(std::move(a), std::move(bs)...);
    });
}

template <AsyncStream S>
class MergeAll : public StreamBase<MergeAll<S>> {
public:
    using item_type = item_t<S>;
    explicit MergeAll(std::vector<S> ss) : ss_(std::move(ss)), done_(ss_.size(), false) {}

    Poll<item_type> poll_next(Context& cx) {
        const std::size_t n = ss_.size();
        bool live = false;
        std::size_t starved = n;  // the first stream polled with the budget used up
        for (std::size_t k = 0; k < n; ++k) {
            std::size_t i = (start_ + k) % n;
            if (done_[i]) continue;
            if (starved == n && budget_used_up(cx)) starved = i;
            Poll<item_type> p = ss_[i].poll_next(cx);
            if (!p.ready) {
                live = true;
                continue;
            }
            if (!p.item) {
                done_[i] = true;
                continue;
            }
            start_ = (i + 1) % n;
            for (std::size_t j = 0; j < n; ++j)
                if (j != i) ss_[j].detach();
            return p;
        }
        if (!live) return Poll<item_type>::end();
        if (starved != n) start_ = starved;
        return Poll<item_type>::pending();
    }
    void detach() noexcept {
        for (auto& s : ss_) s.detach();
    }
    SizeHint size_hint() const {
        SizeHint h = SizeHint::exactly(0);
        for (std::size_t i = 0; i < ss_.size(); ++i)
            if (!done_[i]) h = detail::add_hints(h, stream::size_hint(ss_[i]));
        return h;
    }

private:
    std::vector<S> ss_;
    std::vector<bool> done_;
    std::size_t start_ = 0;
};

// The items of every stream in `ss`, as they come (futures' select_all).
template <AsyncStream S>
MergeAll<S> merge_all(std::vector<S> ss) {
    return MergeAll<S>(std::move(ss));
}

// A keyed merge (Tokio's StreamMap): items come as (key, item) pairs.  A
// stream that ends is removed; next() gives std::nullopt once the map is
// empty.  Keys are copied into every item.  Use Stream<T> as S to hold
// different kinds of streams.
template <class K, AsyncStream S>
class StreamMap : public StreamBase<StreamMap<K, S>> {
public:
    using item_type = std::pair<K, item_t<S>>;
    using entry_type = std::pair<K, S>;

    StreamMap() = default;
    // Room for n streams before the map allocates again.
    static StreamMap with_capacity(std::size_t n) {
        StreamMap m;
        m.reserve(n);
        return m;
    }
    StreamMap(StreamMap&&) = default;
    StreamMap& operator=(StreamMap&&) = default;

    // Adds s under k; returns the stream k had (std::nullopt if none).
    std::optional<S> insert(K k, S s) {
        for (auto& e : entries_)
            if (e->first == k) {
                e->second.detach();
                std::optional<S> old(std::move(e->second));
                e = std::make_unique<entry_type>(std::move(k), std::move(s));
                return old;
            }
        entries_.push_back(std::make_unique<entry_type>(std::move(k), std::move(s)));
        return std::nullopt;
    }
    // Removes and returns the stream under k.
    std::optional<S> remove(const K& k) {
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i]->first == k) {
                entries_[i]->second.detach();
                std::optional<S> out(std::move(entries_[i]->second));
                entries_.erase(entries_.begin() + std::ptrdiff_t(i));
                return out;
            }
        return std::nullopt;
    }
    bool contains(const K& k) const {
        for (auto& e : entries_)
            if (e->first == k) return true;
        return false;
    }
    std::size_t size() const noexcept { return entries_.size(); }
    // How many streams it holds room for.
    std::size_t capacity() const noexcept { return entries_.capacity(); }
    void reserve(std::size_t n) { entries_.reserve(n); }
    bool empty() const noexcept { return entries_.empty(); }
    std::vector<K> keys() const {
        std::vector<K> out;
        out.reserve(entries_.size());
        for (auto& e : entries_) out.push_back(e->first);
        return out;
    }
    // The streams, in the map's order (a view: valid until the map changes).
    auto values() {
        return std::views::transform(entries_, [](const std::unique_ptr<entry_type>& e) -> S& { return e->second; });
    }
    auto values() const {
        return std::views::transform(entries_, [](const std::unique_ptr<entry_type>& e) -> const S& { return e->second; });
    }
    // The stream under k, or nullptr.
    S* get(const K& k) {
        for (auto& e : entries_)
            if (e->first == k) return &e->second;
        return nullptr;
    }
    void clear() noexcept {
        detach();
        entries_.clear();
    }

    Poll<item_type> poll_next(Context& cx) {
        std::size_t n = entries_.size();
        if (n == 0) return Poll<item_type>::end();
        std::size_t i = start_ % n;
        std::size_t starved = n;  // the first stream polled with the budget used up
        bool erased = false;
        for (std::size_t k = 0; k < n && !entries_.empty(); ++k) {
            if (starved == n && budget_used_up(cx)) starved = i;
            Poll<item_t<S>> p = entries_[i]->second.poll_next(cx);
            if (p.item) {
                for (std::size_t j = 0; j < entries_.size(); ++j)
                    if (j != i) entries_[j]->second.detach();
                start_ = i + 1;
                return {true, item_type(entries_[i]->first, std::move(*p.item))};
            }
            if (p.ready) {  // ended: dropped; the next one moved into slot i
                entries_.erase(entries_.begin() + std::ptrdiff_t(i));
                erased = true;
                if (entries_.empty()) break;
                i %= entries_.size();
            } else {
                i = (i + 1) % entries_.size();
            }
        }
        if (entries_.empty()) return Poll<item_type>::end();
        if (starved != n && !erased) start_ = starved;  // (when streams left, the indices moved: as it was)
        return Poll<item_type>::pending();
    }
    void detach() noexcept {
        for (auto& e : entries_) e->second.detach();
    }
    // The sum of its streams' hints.
    SizeHint size_hint() const {
        SizeHint h = SizeHint::exactly(0);
        for (auto& e : entries_) h = detail::add_hints(h, stream::size_hint(e->second));
        return h;
    }

private:
    std::vector<std::unique_ptr<entry_type>> entries_;
    std::size_t start_ = 0;
};

}  // namespace braid::stream
