crm_fuzzer(address_canon_fuzz address_canon_fuzz.cpp crm::match)
