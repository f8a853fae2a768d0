#pragma once

#include "core/Clock.h"

/// A clock the test sets and moves.
class ManualClock final : public Clock {
public:
    explicit ManualClock(qint64 seconds = 1'800'000'000) { set(seconds); }

    std::chrono::system_clock::time_point now() const override { return m_now; }
    void set(qint64 seconds) { m_now = std::chrono::system_clock::time_point(std::chrono::seconds(seconds)); }
    void advance(std::chrono::milliseconds by) { m_now += by; }

private:
    std::chrono::system_clock::time_point m_now;
};
