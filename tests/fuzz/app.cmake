# App fuzz targets (see CMakeLists.txt here for crm_fuzzer).
crm_fuzzer(csv_fuzz csv_fuzz.cpp crm::app)
