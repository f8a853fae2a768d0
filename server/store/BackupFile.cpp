#include "store/BackupFile.h"

#include <QJsonDocument>
#include <QtEndian>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

using namespace Qt::StringLiterals;

namespace {
constexpr QByteArrayView magic = "GATEHOUSE-BACKUP";
constexpr quint16 version = 1;
constexpr quint8 argon2idKdf = 1;
// Argon2id at RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes): a few hundred
// milliseconds once per backup or restore, where guessing a passphrase costs the same each try.
constexpr quint32 timeCost = 3;
constexpr quint32 memoryKiB = 64 * 1024;
constexpr quint32 lanes = 4;
// A hostile header must not make restore spend minutes or gigabytes before the tag fails.
constexpr quint32 largestTimeCost = 10;
constexpr quint32 largestMemoryKiB = 1024 * 1024;
constexpr quint32 mostLanes = 16;
constexpr qsizetype saltLength = 16;
constexpr qsizetype nonceLength = 12;
constexpr qsizetype tagLength = 16;
constexpr qsizetype keyLength = 32;
constexpr qsizetype headerLength = magic.size() + 2 + 1 + 4 + 4 + 4 + saltLength + nonceLength + 8;
constexpr QByteArrayView sqliteMagic { "SQLite format 3\0", 16 };

struct Header {
    quint32 timeCost = 0;
    quint32 memoryKiB = 0;
    quint32 lanes = 0;
    QByteArray salt;
    QByteArray nonce;
    quint64 ciphertextLength = 0; ///< so that a file cut short is told from an altered one
};

template<typename T> void append(QByteArray &out, T value)
{
    char bytes[sizeof(T)];
    qToBigEndian(value, bytes);
    out.append(bytes, sizeof(T));
}

QByteArray encodeHeader(const Header &header)
{
    QByteArray out(magic.data(), magic.size());
    append<quint16>(out, version);
    append<quint8>(out, argon2idKdf);
    append<quint32>(out, header.timeCost);
    append<quint32>(out, header.memoryKiB);
    append<quint32>(out, header.lanes);
    out += header.salt;
    out += header.nonce;
    append<quint64>(out, header.ciphertextLength);
    return out;
}

Result<Header, QString> decodeHeader(QByteArrayView file)
{
    if (!file.startsWith(magic))
        return fail(u"this is not a Gatehouse backup (it does not begin with GATEHOUSE-BACKUP)"_s);
    if (file.size() < magic.size() + 3)
        return fail(u"the backup is truncated: its header is incomplete"_s);
    const auto *bytes = file.data() + magic.size();
    const auto fileVersion = qFromBigEndian<quint16>(bytes);
    if (fileVersion != version)
        return fail(
            u"the backup is of format version %1; this gatehoused reads version %2"_s.arg(fileVersion).arg(version));
    if (file.size() < headerLength + tagLength)
        return fail(u"the backup is truncated: it ends before its first encrypted byte"_s);
    if (static_cast<quint8>(bytes[2]) != argon2idKdf)
        return fail(u"the backup names a key derivation this gatehoused does not know"_s);
    Header header;
    header.timeCost = qFromBigEndian<quint32>(bytes + 3);
    header.memoryKiB = qFromBigEndian<quint32>(bytes + 7);
    header.lanes = qFromBigEndian<quint32>(bytes + 11);
    if (header.timeCost < 1 || header.timeCost > largestTimeCost || header.lanes < 1 || header.lanes > mostLanes
        || header.memoryKiB < 8 * header.lanes || header.memoryKiB > largestMemoryKiB)
        return fail(u"the backup's key derivation parameters are out of range: the file was altered"_s);
    header.salt = file.sliced(headerLength - 8 - saltLength - nonceLength, saltLength).toByteArray();
    header.nonce = file.sliced(headerLength - 8 - nonceLength, nonceLength).toByteArray();
    header.ciphertextLength = qFromBigEndian<quint64>(file.data() + headerLength - 8);
    const auto present = static_cast<quint64>(file.size() - headerLength - tagLength);
    if (header.ciphertextLength > present)
        return fail(u"the backup is truncated: %1 bytes, short of the %2 its header announces"_s.arg(file.size())
                        .arg(header.ciphertextLength + headerLength + tagLength));
    if (header.ciphertextLength < present)
        return fail(
            u"the backup has %1 bytes past its end: the file was altered"_s.arg(present - header.ciphertextLength));
    return header;
}

Result<QByteArray, QString> deriveKey(QByteArrayView passphrase, const Header &header)
{
    QByteArray key(keyLength, '\0');
    const int status = argon2id_hash_raw(
        header.timeCost, header.memoryKiB, header.lanes, passphrase.data(), static_cast<size_t>(passphrase.size()),
        header.salt.constData(), static_cast<size_t>(header.salt.size()), key.data(), static_cast<size_t>(key.size()));
    if (status != ARGON2_OK)
        return fail(u"cannot derive the key: %1"_s.arg(QString::fromLatin1(argon2_error_message(status))));
    return key;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

int sizeOf(qsizetype size)
{
    return static_cast<int>(size);
}

auto *bytesOf(const QByteArray &array)
{
    return reinterpret_cast<const unsigned char *>(array.constData());
}

auto *bytesOf(QByteArray &array)
{
    return reinterpret_cast<unsigned char *>(array.data());
}
} // namespace

Result<QByteArray, QString> BackupFile::seal(const Contents &contents, QByteArrayView passphrase)
{
    if (passphrase.isEmpty())
        return fail(u"the passphrase is empty: it would protect nothing"_s);
    if (contents.database.size() > std::numeric_limits<int>::max() - (1 << 20))
        return fail(u"the database is too large for a backup file of this version (2 GiB at most)"_s);
    Header header { timeCost, memoryKiB, lanes, QByteArray(saltLength, '\0'), QByteArray(nonceLength, '\0'), 0 };
    if (RAND_bytes(bytesOf(header.salt), saltLength) != 1 || RAND_bytes(bytesOf(header.nonce), nonceLength) != 1)
        return fail(u"no randomness for the backup's salt"_s);
    const auto key = deriveKey(passphrase, header);
    if (!key)
        return fail(key.error());

    const QByteArray secrets = QJsonDocument(contents.secrets).toJson(QJsonDocument::Compact);
    QByteArray plaintext;
    append<quint32>(plaintext, static_cast<quint32>(secrets.size()));
    plaintext += secrets;
    plaintext += contents.database;
    header.ciphertextLength = static_cast<quint64>(plaintext.size()); // GCM: as long as the plaintext

    const QByteArray aad = encodeHeader(header);
    QByteArray out = aad;
    out.resize(aad.size() + plaintext.size() + tagLength);
    auto *ciphertext = bytesOf(out) + aad.size();
    CipherContext cipher(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int length = 0;
    int finalLength = 0;
    const bool sealed = cipher
        && EVP_EncryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, bytesOf(*key), bytesOf(header.nonce)) == 1
        && EVP_EncryptUpdate(cipher.get(), nullptr, &length, bytesOf(aad), sizeOf(aad.size())) == 1
        && EVP_EncryptUpdate(cipher.get(), ciphertext, &length, bytesOf(plaintext), sizeOf(plaintext.size())) == 1
        && EVP_EncryptFinal_ex(cipher.get(), ciphertext + length, &finalLength) == 1
        && EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_GET_TAG, tagLength, ciphertext + plaintext.size()) == 1;
    plaintext.fill('\0');
    if (!sealed)
        return fail(u"OpenSSL could not encrypt the backup"_s);
    return out;
}

Result<BackupFile::Contents, QString> BackupFile::open(QByteArrayView file, QByteArrayView passphrase)
{
    const auto header = decodeHeader(file);
    if (!header)
        return fail(header.error());
    if (passphrase.isEmpty())
        return fail(u"the passphrase is empty; a backup is never sealed with an empty one"_s);
    const auto key = deriveKey(passphrase, *header);
    if (!key)
        return fail(key.error());

    const QByteArray aad = file.first(headerLength).toByteArray();
    const QByteArray ciphertext = file.sliced(headerLength, file.size() - headerLength - tagLength).toByteArray();
    QByteArray tag = file.last(tagLength).toByteArray();
    QByteArray plaintext(ciphertext.size(), '\0');
    CipherContext cipher(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int length = 0;
    int finalLength = 0;
    const bool opened = cipher
        && EVP_DecryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, bytesOf(*key), bytesOf(header->nonce)) == 1
        && EVP_DecryptUpdate(cipher.get(), nullptr, &length, bytesOf(aad), sizeOf(aad.size())) == 1
        && EVP_DecryptUpdate(cipher.get(), bytesOf(plaintext), &length, bytesOf(ciphertext), sizeOf(ciphertext.size()))
            == 1
        && EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_SET_TAG, tagLength, tag.data()) == 1
        && EVP_DecryptFinal_ex(cipher.get(), bytesOf(plaintext) + length, &finalLength) == 1;
    if (!opened)
        // GCM says only that the tag does not match: the key (passphrase) or the bytes differ.
        return fail(u"the backup cannot be opened: the passphrase is wrong, or the file was altered or cut short"_s);

    // Authenticated from here on: what follows can only be wrong if the writer was.
    if (plaintext.size() < 4)
        return fail(u"the backup holds no secrets section"_s);
    const auto secretsLength = qFromBigEndian<quint32>(plaintext.constData());
    if (secretsLength > static_cast<quint32>(plaintext.size() - 4))
        return fail(u"the backup's secrets section runs past its end"_s);
    QJsonParseError error {};
    const auto secrets = QJsonDocument::fromJson(plaintext.mid(4, secretsLength), &error);
    if (error.error != QJsonParseError::NoError || !secrets.isObject())
        return fail(u"the backup's secrets are not a JSON object"_s);
    Contents contents { secrets.object(), plaintext.sliced(4 + secretsLength) };
    plaintext.fill('\0');
    if (!contents.database.startsWith(sqliteMagic))
        return fail(u"the backup's database is not an SQLite file"_s);
    return contents;
}
