# crm_embed_migrations(DIR TEMPLATE OUTPUT): embeds DIR/NNNN_name.sql with their SHA-256, so installed
# binaries carry their migrations. TEMPLATE (configure_file, @ONLY) receives @CRM_MIGRATIONS@: one
# `{version, "name", "sha256", R"crmsql(sql)crmsql"},` line per file, ascending. A directory with
# no such file gives an empty list (schema/postgresql/ starts out empty). Used by store (schema/)
# and pg (schema/postgresql/).
function(crm_embed_migrations dir template output)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/[0-9][0-9][0-9][0-9]_*.sql)
  list(SORT files)
  set(CRM_MIGRATIONS "")
  foreach(f ${files})
    get_filename_component(base ${f} NAME_WE)
    string(SUBSTRING ${base} 0 4 ver)
    string(SUBSTRING ${base} 5 -1 mname)
    math(EXPR ver "${ver} + 0")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    file(READ ${f} sql)
    file(SHA256 ${f} sum)
    string(APPEND CRM_MIGRATIONS "    {${ver}, \"${mname}\", \"${sum}\", R\"crmsql(${sql})crmsql\"},\n")
  endforeach()
  configure_file(${template} ${output} @ONLY)
endfunction()
