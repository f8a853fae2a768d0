#pragma once

#include <QString>

#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

/// Owning handles for the OpenSSL objects the auth code creates, so that no error path leaks.
template<auto FreeFunction> struct OpenSslDeleter {
    template<typename T> void operator()(T *pointer) const { FreeFunction(pointer); }
};

using BignumHandle = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using BioHandle = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using DigestContextHandle = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using KeyContextHandle = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using ParamBuilderHandle = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsHandle = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;
using EcdsaSignatureHandle = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>>;
using KeyHandle = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using CertificateHandle = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using GeneralNamesHandle = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using ExtensionHandle = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;

/// `sentence`, with OpenSSL's own words for its last error after it (and its queue cleared).
inline QString withOpenSslReason(const QString &sentence)
{
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0)
        return sentence;
    char text[256] = {};
    ERR_error_string_n(code, text, sizeof text);
    return sentence + QStringLiteral(" (") + QString::fromLatin1(text) + QLatin1Char(')');
}

inline std::shared_ptr<EVP_PKEY> sharedKey(EVP_PKEY *key)
{
    if (!key)
        return {};
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}
