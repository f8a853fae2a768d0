// FormBody::parse, the application/x-www-form-urlencoded body of every POST to the token,
// revocation, login and logout endpoints.
#include "FuzzCheck.h"

#include "http/FormBody.h"

#include <QUrl>

namespace {
QByteArray encoded(const QString &text)
{
    return QUrl::toPercentEncoding(text);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView body(data, qsizetype(size));
    const auto parameters = FormBody::parse(body);
    if (!parameters) {
        FUZZ_CHECK(!parameters.error().isEmpty());
        return 0;
    }
    FUZZ_CHECK(parameters->size() <= 32);
    FUZZ_CHECK(parameters->size() <= body.count('&') + 1);
    // Written again in the canonical form, the body reads back as the same parameters.
    QByteArray canonical;
    for (auto it = parameters->cbegin(); it != parameters->cend(); ++it) {
        FUZZ_CHECK(!it.key().isEmpty());
        if (!canonical.isEmpty())
            canonical += '&';
        canonical += encoded(it.key()) + '=' + encoded(it.value());
    }
    const auto again = FormBody::parse(canonical);
    FUZZ_CHECK(again.ok() && *again == *parameters);
    return 0;
}
