// Conformance: tokio/tests/tcp_socket.rs (Tokio 1.24).  Every case of this
// file builds its sockets with TcpSocket, which braid does not have: braid
// makes listeners and streams whole (TcpListener::bind binds and listens,
// TcpStream::connect makes, binds implicitly and connects), so no case can
// be ported yet.
//
// Gaps:
//   basic_usage_v4 - no TcpSocket (new_v4, bind, listen(backlog), connect
//     from an unconnected socket).
//   basic_usage_v6 - the same, new_v6.
//   bind_before_connect - no TcpSocket: a client socket cannot be bound to a
//     local address before it connects.
//   basic_linger - no TcpSocket, and no set_linger/linger on any socket.
//
// Not applicable: none.
