add_library(crm_warnings INTERFACE)
add_library(crm::warnings ALIAS crm_warnings)
target_compile_options(crm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
  -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
# GCC 12's -Wmaybe-uninitialized misfires on std::optional at -O2 (GCC bug 80635 and kin).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(crm_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
if(CRM_WERROR)
  target_compile_options(crm_warnings INTERFACE -Werror)
endif()

# crm_module(NAME SOURCES... DEPS ...): one static library per module, alias crm::NAME.
function(crm_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(crm_${name} STATIC ${M_SOURCES})
  add_library(crm::${name} ALIAS crm_${name})
  target_include_directories(crm_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                          PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(crm_${name} PUBLIC ${M_DEPS} PRIVATE crm::warnings ${M_PRIVATE_DEPS})
endfunction()
