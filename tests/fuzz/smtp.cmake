# SMTP fuzz targets (see CMakeLists.txt here for crm_fuzzer).
crm_fuzzer(smtp_reply_fuzz smtp_reply_fuzz.cpp crm::smtp)
target_include_directories(smtp_reply_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/src/smtp)
