# Compiler flags shared by every fscanary target.
# Designated initialisers that leave members at their defaults are the point of
# option structs; GCC 12 would warn about each of them.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(FSCANARY_WERROR)
  add_compile_options(-Werror)
endif()
if(FSCANARY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
