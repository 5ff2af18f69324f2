#ifndef OXPECKER_FUZZER_DRIVER_H
#define OXPECKER_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have a main of their own (LLVM 11+).
/// SwiftPM names an executable's entry `<module>_main` and points `main` at it,
/// so libFuzzer's own `main` is never linked: each target's entry calls this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
