#pragma once

class QCoreApplication;

/// The headless daemon's command line: runs one command on `application`'s event loop and
/// returns its exit code. `gatehoused serve` runs until SIGINT or SIGTERM.
namespace Gatehoused {
int run(QCoreApplication &application);
}
