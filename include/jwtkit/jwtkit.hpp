// jwtkit: everything an application needs, in one include.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/base64url.hpp>
#include <jwtkit/clock.hpp>
#include <jwtkit/engine.hpp>
#include <jwtkit/error.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/result.hpp>
#include <jwtkit/revocation_store.hpp>
#include <jwtkit/stores/file.hpp>
#include <jwtkit/stores/memory.hpp>
#include <jwtkit/unsafe.hpp>
