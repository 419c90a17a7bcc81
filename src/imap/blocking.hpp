#pragma once
// Private to the imap module: one IMAP session run to its end on a thread of the caller's own
// (for crm-mailctl and the admin API's blocking requests, outside the daemon's event loop).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "crm/net/transport.hpp"
#include "session.hpp"

namespace crm::imap::detail {

// A plain function template, not a capturing coroutine lambda (GCC 12 mishandles those).
template <class T, class F>
asio::awaitable<Result<T>> with_session(asio::io_context& io, asio::thread_pool& pool,
                                        net::Endpoint ep, F body) {
    auto s = co_await CurlSession::open(io.get_executor(), pool, std::move(ep));
    if (!s)
        co_return std::unexpected(s.error());
    co_return co_await body(**s);
}

template <class T, class F> Result<T> run_blocking(const net::Endpoint& ep, F body) {
    asio::io_context io;
    asio::thread_pool pool(1);
    auto fut = asio::co_spawn(io, with_session<T>(io, pool, ep, std::move(body)), asio::use_future);
    io.run();
    pool.join();
    return fut.get();
}

} // namespace crm::imap::detail
