# Warning flags for jwtkit's own targets. Applied PRIVATE only: they never reach the
# exported targets or the projects that consume jwtkit.
function(jwtkit_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${JWTKIT_WARNINGS_AS_ERRORS}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
      -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
      $<$<BOOL:${JWTKIT_WARNINGS_AS_ERRORS}>:-Werror>)
  endif()
endfunction()
