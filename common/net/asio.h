// The one include for Boost.Asio in Clearkube. Private to common/net's .cc files: public headers
// of common/net never include Asio or Beast, so the rest of the tree compiles fast.
//
// Boost 1.74's boost/asio/awaitable.hpp uses std::exchange without including <utility>; including
// it first here fixes that for every user (DESIGN.md §10).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
