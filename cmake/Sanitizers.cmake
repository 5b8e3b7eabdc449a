# Sanitizers.cmake: INSTAR_SANITIZE=address,undefined adds those sanitizers to every target.
set(INSTAR_SANITIZE "" CACHE STRING "Comma-separated sanitizers (address,undefined)")
if(INSTAR_SANITIZE)
  # -fno-sanitize=vptr: core/ is built without RTTI, as in the guest, and the vptr check needs it.
  add_compile_options(-fsanitize=${INSTAR_SANITIZE} -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${INSTAR_SANITIZE} -fno-sanitize=vptr)
endif()
