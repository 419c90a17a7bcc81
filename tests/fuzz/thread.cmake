crm_fuzzer(threader_fuzz threader_fuzz.cpp crm::thread)
target_link_libraries(threader_fuzz PRIVATE crm::warnings)
