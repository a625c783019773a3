// Nothing to compile: the target only exports fuzzer_driver.h (SwiftPM wants one source file).
#include "fuzzer_driver.h"
