# MIME fuzz targets (see CMakeLists.txt here for crm_fuzzer).
crm_fuzzer(mime_parse_fuzz mime_parse_fuzz.cpp crm::mime)
crm_fuzzer(address_fuzz address_fuzz.cpp crm::mime)
crm_fuzzer(sanitize_fuzz sanitize_fuzz.cpp crm::mime)
