# HTTP fuzz targets (see CMakeLists.txt here for crm_fuzzer): routing, and request bodies.
crm_fuzzer(http_request_fuzz http_request_fuzz.cpp crm::http crm::store crm::app crm::mime)
crm_fuzzer(api_body_fuzz api_body_fuzz.cpp crm::http crm::store crm::app crm::mime Boost::json)
