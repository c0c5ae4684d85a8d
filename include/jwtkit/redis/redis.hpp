// jwtkit::redis in one include: Redis connection options and the two Redis stores.
#pragma once

#include <jwtkit/redis/key_store.hpp>
#include <jwtkit/redis/options.hpp>
#include <jwtkit/redis/revocation_store.hpp>
