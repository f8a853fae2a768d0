#pragma once

#include "secrets/SecretStore.h"

#include <QObject>
#include <QTest>

#include <optional>

/// Runs one SecretStore call and waits for its answer on the event loop (no nested QEventLoop);
/// a store that never answers becomes a "timeout" failure.
struct SecretWaiter {
    template<typename T, typename Start> static Result<T, SecretFailure> wait(Start start)
    {
        QObject context;
        std::optional<Result<T, SecretFailure>> answer;
        start(&context, [&answer](Result<T, SecretFailure> result) { answer = std::move(result); });
        if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000))
            return Result<T, SecretFailure>::failure({ SecretError::Failed, QStringLiteral("timeout") });
        return *answer;
    }

    static Result<QByteArray, SecretFailure> read(SecretStore &store, const QString &name)
    {
        return wait<QByteArray>([&](QObject *context, auto done) { store.read(name, context, done); });
    }

    static Result<bool, SecretFailure> write(SecretStore &store, const QString &name, const QByteArray &secret)
    {
        return wait<bool>([&](QObject *context, auto done) { store.write(name, secret, context, done); });
    }

    static Result<bool, SecretFailure> remove(SecretStore &store, const QString &name)
    {
        return wait<bool>([&](QObject *context, auto done) { store.remove(name, context, done); });
    }
};
