// Must NOT compile under -Werror: a store write whose Result is dropped.
#include <jwtkit/result.hpp>

jwtkit::Result<void> revoke_token_somewhere();

void caller() {
#ifdef JWTKIT_DROP_EXPLICITLY
  revoke_token_somewhere().ignore();
#else
  revoke_token_somewhere();
#endif
}
