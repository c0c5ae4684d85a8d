// --store URL: the shared revocation store. Redis only, and only when the tool was built with
// jwtkit::redis; otherwise the command fails clearly rather than checking nothing.
#include "commands.hpp"

#include <jwtkit/error.hpp>

#ifdef JWTKIT_CLI_WITH_REDIS
#include <jwtkit/redis/revocation_store.hpp>
#endif

namespace jwtkit_cli {

jwtkit::Result<std::shared_ptr<jwtkit::RevocationStore>> open_revocation_store(
    const std::string& url, std::shared_ptr<const jwtkit::Clock> clock) {
  const bool redis_url = url.rfind("redis://", 0) == 0 || url.rfind("rediss://", 0) == 0 ||
                         url.rfind("unix://", 0) == 0;
  if (!redis_url) {
    return jwtkit::Error(jwtkit::Errc::invalid_argument,
                         "--store '" + url + "': expected redis://, rediss:// or unix:// URL");
  }
#ifdef JWTKIT_CLI_WITH_REDIS
  auto store = jwtkit::RedisRevocationStore::open(url, std::move(clock));
  if (!store) return store.error();
  return std::shared_ptr<jwtkit::RevocationStore>(std::move(*store));
#else
  (void)clock;
  return jwtkit::Error(jwtkit::Errc::invalid_argument,
                       "this jwtkit was built without Redis support (jwtkit::redis), so --store "
                       "is not available");
#endif
}

}  // namespace jwtkit_cli
