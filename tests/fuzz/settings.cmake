crm_fuzzer(config_fuzz config_fuzz.cpp crm::settings)
