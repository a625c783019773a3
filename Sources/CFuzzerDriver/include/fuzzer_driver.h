// libFuzzer's driver (compiler-rt), linked in by `-sanitize=fuzzer`. Declared here so the fuzz
// executables can start it from their own `main` (SwiftPM names the entry point itself).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
