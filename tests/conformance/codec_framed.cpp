// Conformance: tokio-util 0.7.3, tests/framed.rs.  Every case builds a
// Framed (one object that is both a stream of decoded frames and a sink of
// encoded ones) from FramedParts with bytes already in its read buffer.
//
// Gaps:
//   can_read_from_existing_buf - Framed and FramedParts (a framed transport
//     made from parts, with a read buffer that already holds bytes): braid
//     has FramedRead and FramedWrite, not Framed, and no way to hand a
//     FramedRead bytes read before.
//   can_read_from_existing_buf_after_codec_changed - the same, and
//     Framed::map_codec (a new codec, keeping the buffered bytes): braid has
//     no map_codec.
//   external_buf_grows_to_init, external_buf_does_not_shrink - the capacity
//     of the read buffer handed back by Framed::into_parts: braid has no
//     into_parts (nor buffers with a capacity of their own).
//
// Not applicable: none.
#include <catch2/catch.hpp>
