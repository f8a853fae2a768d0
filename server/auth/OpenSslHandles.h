#pragma once

#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

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

inline std::shared_ptr<EVP_PKEY> sharedKey(EVP_PKEY *key)
{
    if (!key)
        return {};
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}
