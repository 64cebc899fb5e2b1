# newsmon_module(NAME SOURCES ... DEPENDS ...)
# One static library per daemon module. DEPENDS lists what the module may use: the CMake
# graph is where DESIGN.md's dependency direction is visible and enforced at link time.
function(newsmon_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_library(newsmon_${name} STATIC ${ARG_SOURCES})
  add_library(newsmon::${name} ALIAS newsmon_${name})
  target_include_directories(newsmon_${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(newsmon_${name} PUBLIC ${ARG_DEPENDS})
  newsmon_warnings(newsmon_${name})
endfunction()

# Warnings are errors in every target we own.
function(newsmon_warnings target)
  # gcc 12 flags designated initializers that leave members to their default member
  # initializers; that is the idiom we use for config-like aggregates, so it stays off.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  target_compile_definitions(${target} PUBLIC BOOST_ASIO_NO_DEPRECATED)
  if(NEWSMON_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined
                                            -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
