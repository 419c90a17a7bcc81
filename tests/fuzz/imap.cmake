crm_fuzzer(imap_response_fuzz imap_response_fuzz.cpp crm::imap)
