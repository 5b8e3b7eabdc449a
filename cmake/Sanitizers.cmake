# Sanitizers.cmake: INSTAR_SANITIZE=address,undefined adds those sanitizers to every target.
set(INSTAR_SANITIZE "" CACHE STRING "Comma-separated sanitizers (address,undefined)")
if(INSTAR_SANITIZE)
  add_compile_options(-fsanitize=${INSTAR_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${INSTAR_SANITIZE})
endif()
