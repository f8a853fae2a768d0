#pragma once

#include <cstdio>
#include <cstdlib>

/// A property every input must keep. A breach aborts, so libFuzzer records the input as a crash
/// (with the condition and its line on stderr), whatever the build's assert settings.
#define FUZZ_CHECK(condition)                                                                                          \
    do {                                                                                                               \
        if (!(condition)) {                                                                                            \
            std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #condition);                      \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (false)
