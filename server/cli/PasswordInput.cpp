#include "cli/PasswordInput.h"

#include <cstdio>
#include <iostream>
#include <string>

#include <termios.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
constexpr std::size_t maximumLineLength = 4096;

std::optional<QByteArray> readLine()
{
    std::string line;
    if (!std::getline(std::cin, line) || line.size() > maximumLineLength)
        return std::nullopt;
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return QByteArray::fromStdString(line);
}

std::optional<QByteArray> promptWithoutEcho(const QString &prompt)
{
    std::fputs(prompt.toLocal8Bit().constData(), stderr);
    std::fflush(stderr);
    termios saved {};
    const bool haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (haveTerminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    auto line = readLine();
    if (haveTerminal)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fputs("\n", stderr);
    return line;
}
} // namespace

Result<QByteArray, QString> PasswordInput::read(bool fromStdin, const QString &prompt)
{
    if (fromStdin) {
        auto line = readLine();
        if (!line)
            return fail(u"no password on standard input (or a line over 4096 bytes)"_s);
        return *line;
    }
    if (!isatty(STDIN_FILENO))
        return fail(u"standard input is not a terminal: pass the password with --password-stdin"_s);
    const auto first = promptWithoutEcho(prompt);
    const auto second = promptWithoutEcho(u"Repeat: "_s);
    if (!first || !second)
        return fail(u"no password given"_s);
    if (*first != *second)
        return fail(u"the two passwords differ"_s);
    return *first;
}

Result<QByteArray, QString> PasswordInput::readExisting(bool fromStdin, const QString &prompt)
{
    if (fromStdin)
        return read(true, prompt);
    if (!isatty(STDIN_FILENO))
        return fail(u"standard input is not a terminal: pass the passphrase with --passphrase-stdin"_s);
    const auto line = promptWithoutEcho(prompt);
    if (!line)
        return fail(u"no passphrase given"_s);
    return *line;
}
