# One INTERFACE target carries the settings every Gatehouse target shares: language level,
# Qt strictness defines, warnings and sanitizers. Nothing is set globally.
add_library(gatehouse_options INTERFACE)

target_compile_features(gatehouse_options INTERFACE cxx_std_20)

target_compile_definitions(gatehouse_options INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_CAST_FROM_BYTEARRAY
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_URL_CAST_FROM_STRING
    QT_NO_KEYWORDS
    QT_NO_FOREACH
    QT_NO_CONTEXTLESS_CONNECT
    QT_USE_QSTRINGBUILDER
    QT_STRICT_ITERATORS
    QT_DISABLE_DEPRECATED_BEFORE=0x060400
    OPENSSL_API_COMPAT=30000
    OPENSSL_NO_DEPRECATED)

target_compile_options(gatehouse_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wold-style-cast -Woverloaded-virtual
    -Wnon-virtual-dtor -Wcast-qual)

if(GATEHOUSE_WARNINGS_AS_ERRORS)
    target_compile_options(gatehouse_options INTERFACE -Werror)
endif()

if(GATEHOUSE_SANITIZERS)
    list(JOIN GATEHOUSE_SANITIZERS "," sanitizer_list)
    target_compile_options(gatehouse_options INTERFACE
        -fsanitize=${sanitizer_list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(gatehouse_options INTERFACE -fsanitize=${sanitizer_list})
endif()
