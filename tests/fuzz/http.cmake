# HTTP routing fuzz target (see CMakeLists.txt here for crm_fuzzer).
crm_fuzzer(http_request_fuzz http_request_fuzz.cpp crm::http crm::store)
