// Only the header: LLVMFuzzerRunDriver comes from libFuzzer (swiftc -sanitize=fuzzer).
